// The mail lab: a small network of namespaces on this machine, with the real daemons.
//
//   mwlab     a network namespace holding only the bridge (mwbr0) and the hosts' veth ends
//   mwdns     10.77.0.53  ns1.example.test — NSD, authoritative for test., example.test,
//             remote.test, other.test and 0.77.10.in-addr.arpa
//   mwmx      10.77.0.25  mail.example.test — the server mailwizard configures. Its processes
//             run in a private mount + UTS namespace kept by a holder process, with private
//             copies of /etc, /var, /home, /root and fresh /run, /tmp, /dev: the machine is
//             never modified. /usr (and /work) are shared, so installed packages are seen.
//   mwremote  10.77.0.30  mx.remote.test — an SMTP sink for remote.test (aiosmtpd, stores
//             every message with its envelope as JSON) and the test clients;
//             10.77.0.31 is a second address on it WITHOUT a PTR record.
//
// No default route anywhere, only .test names, nothing but these namespaces is contacted.
// Everything is started by PID and stopped by PID (every process whose network namespace is
// one of the lab's); down() deletes the namespaces (and with them the bridge and veths), and
// leftovers() checks that nothing is left. A run that crashed is cleaned up by the next one
// (cleanupStale), unless a live process holds the lab lock.
import {spawn, spawnSync} from 'node:child_process';
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync} from 'node:fs';
import {cp, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const NET = {
	prefix: '10.77.0',
	len: 24,
	dns: '10.77.0.53',
	mx: '10.77.0.25',
	remote: '10.77.0.30',
	/** A second address on the remote host, without PTR: the "client without reverse DNS". */
	remoteNoPtr: '10.77.0.31',
	/** other.test's MX points here; nothing listens. */
	other: '10.77.0.99',
	reverseZone: '0.77.10.in-addr.arpa',
} as const;

export type HostName = 'dns' | 'mx' | 'remote';
/** The lab's blocklist zone (served by the lab DNS): the wizard asks it instead of the public lists. */
export const LAB_DNSBL = 'bl.remote.test';

export const NETNS = {bridge: 'mwlab', dns: 'mwdns', mx: 'mwmx', remote: 'mwremote'} as const;
const HOSTS: readonly HostName[] = ['dns', 'mx', 'remote'];
const HOSTNAMES: Record<HostName, string> = {dns: 'ns1.example.test', mx: 'mail.example.test', remote: 'mx.remote.test'};
const ADDRS: Record<HostName, string[]> = {dns: [NET.dns], mx: [NET.mx], remote: [NET.remote, NET.remoteNoPtr]};

/** Where the mx's TLS files go (the answers name these paths). */
export const MX_TLS = {cert: '/etc/ssl/certs/mail.example.test.pem', key: '/etc/ssl/private/mail.example.test.key'} as const;

export const PYTHON = '/usr/bin/python3';
export const LAB_DIR = dirname(fileURLToPath(import.meta.url));
/** The checkout: bound read-only at its own path inside the mx, wherever it was cloned. */
export const REPO_ROOT = join(LAB_DIR, '../..');
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const LOCK = '/run/mwlab.lock';
/** argv prefix: close every descriptor above 2, then exec the rest (python -S starts in ~10 ms). */
const CLOSE_FDS = [PYTHON, '-S', '-c', 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])'];
const BASE_PREFIX = '/tmp/mwlab-';
/** Rspamd's compiled rules, kept between runs (its first start takes ~15 s without them). */
export const RSPAMD_CACHE = process.env.MAILWIZARD_LAB_RSPAMD_CACHE || '/var/cache/mailwizard-test/lab-rspamd';

export type ExecResult = {readonly exitCode: number; readonly stdout: string; readonly stderr: string};
export type ExecOptions = {readonly stdin?: string; readonly timeoutMs?: number; readonly env?: Record<string, string>; readonly cwd?: string};

/** Runs a command (no shell), never throws on a non-zero exit; kills it (SIGKILL) after the timeout. */
export function run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
	return new Promise((resolve) => {
		const child = spawn(argv[0]!, argv.slice(1), {
			env: {PATH, LC_ALL: 'C', HOME: '/root', ...opts.env},
			cwd: opts.cwd,
			stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
		child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
		const timer = setTimeout(() => {
			stderr += `\n[lab] killed after ${opts.timeoutMs ?? 120_000} ms`;
			child.kill('SIGKILL');
		}, opts.timeoutMs ?? 120_000);
		child.on('error', (e) => {
			clearTimeout(timer);
			resolve({exitCode: 127, stdout, stderr: stderr + String(e)});
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({exitCode: code ?? (signal ? 128 + 9 : 1), stdout, stderr});
		});
		if (opts.stdin !== undefined) {
			child.stdin!.on('error', () => {});
			child.stdin!.end(opts.stdin);
		}
	});
}

async function must(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
	const r = await run(argv, opts);
	if (r.exitCode !== 0) throw new Error(`[lab] ${argv.join(' ')} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
	return r;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		return (e as NodeJS.ErrnoException).code === 'EPERM';
	}
}

function nsInode(pid: number | 'self', ns: 'net' | 'mnt'): string | undefined {
	try {
		return readlinkSync(`/proc/${pid}/ns/${ns}`);
	} catch {
		return undefined;
	}
}

/** Every process whose network namespace is one of `nets` (inode strings such as net:[4026532178]). */
function processesIn(nets: ReadonlySet<string>): number[] {
	if (nets.size === 0) return [];
	const out: number[] = [];
	for (const d of readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		const pid = Number(d);
		if (pid === process.pid) continue;
		const n = nsInode(pid, 'net');
		if (n && nets.has(n)) out.push(pid);
	}
	return out;
}

/** The inode of a named network namespace, as /proc/PID/ns/net shows it. */
async function namedNetInode(name: string): Promise<string | undefined> {
	const r = await run(['stat', '-L', '-c', '%i', `/run/netns/${name}`]);
	return r.exitCode === 0 ? `net:[${r.stdout.trim()}]` : undefined;
}

async function killAll(pids: readonly number[]): Promise<number[]> {
	const killed: number[] = [];
	for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
		const live = pids.filter(alive);
		for (const p of live) {
			try {
				process.kill(p, signal);
				if (!killed.includes(p)) killed.push(p);
			} catch {}
		}
		for (let i = 0; i < 30 && pids.some(alive); i++) await sleep(100);
	}
	return killed;
}

/** Why the lab cannot run here, or undefined. */
export async function labUnavailable(): Promise<string | undefined> {
	if (process.platform !== 'linux') return 'the lab needs Linux network namespaces';
	if (process.getuid?.() !== 0) return 'the lab needs root (network namespaces, mounts)';
	const ipn = await run(['ip', 'netns', 'list']);
	if (ipn.exitCode !== 0) return `"ip netns" is unavailable: ${ipn.stderr.trim()}`;
	for (const tool of ['nsenter', 'unshare', 'nsd', 'nsd-control', 'kdig', 'openssl', 'smtpd', 'dovecot', 'rspamd']) {
		if ((await run(['sh', '-c', `command -v ${tool}`])).exitCode !== 0) return `${tool} is not installed (see .ci/install-packages.sh)`;
	}
	const py = await run([PYTHON, '-c', 'import aiosmtpd, dkim, spf, dns.resolver']);
	if (py.exitCode !== 0) return `python3 modules missing (python3-aiosmtpd python3-dkim python3-spf python3-dnspython): ${py.stderr.trim().split('\n').pop()}`;
	// Can we create a namespace at all (containers may forbid it)?
	const probe = await run(['unshare', '-n', '-m', 'true']);
	if (probe.exitCode !== 0) return `cannot create namespaces here: ${probe.stderr.trim()}`;
	return undefined;
}

/**
 * How long a lab run waits for the others: one lab at a time on a machine, and `npm test`
 * queues nine lab files (two at a time), so a file may wait for most of the others.
 */
export const LAB_LOCK_WAIT_MS = 30 * 60_000;

/** One lab at a time on a machine (the namespace names are fixed): waits for another run. */
async function takeLock(log: (l: string) => void, waitMs = LAB_LOCK_WAIT_MS): Promise<void> {
	const end = Date.now() + waitMs;
	let said = false;
	for (;;) {
		try {
			writeFileSync(LOCK, `${process.pid}\n`, {flag: 'wx'});
			return;
		} catch (e) {
			if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
		}
		const holder = Number(readFileSync(LOCK, 'utf8').trim() || 0);
		if (!holder || !alive(holder)) {
			await rm(LOCK, {force: true});
			continue;
		}
		if (Date.now() > end) throw new Error(`[lab] another lab run (pid ${holder}) still holds ${LOCK} after ${Math.round(waitMs / 1000)} s`);
		if (!said) log(`waiting for the lab run of pid ${holder} to finish`);
		said = true;
		await sleep(1000);
	}
}

/** Removes what a crashed run left behind. Refuses (throws) while another live lab holds the lock. */
export async function cleanupStale(log: (l: string) => void = () => {}): Promise<void> {
	const holder = Number(existsSync(LOCK) ? readFileSync(LOCK, 'utf8').trim() : 0);
	if (holder && holder !== process.pid && alive(holder)) throw new Error(`[lab] another lab run (pid ${holder}) holds ${LOCK}`);
	const names = Object.values(NETNS);
	const present = (await run(['ip', 'netns', 'list'])).stdout
		.split('\n')
		.map((l) => l.split(' ')[0]!)
		.filter((n) => (names as string[]).includes(n));
	if (present.length) {
		log(`cleaning up a previous run: namespaces ${present.join(', ')}`);
		const inodes = new Set<string>();
		for (const n of present) {
			const i = await namedNetInode(n);
			if (i) inodes.add(i);
		}
		const pids = processesIn(inodes);
		if (pids.length) log(`killing leftover processes ${pids.join(' ')}`);
		await killAll(pids);
		for (const n of present) await run(['ip', 'netns', 'del', n]);
	}
	for (const d of readdirSync('/tmp')) {
		if (!('/tmp/' + d).startsWith(BASE_PREFIX)) continue;
		const pid = Number(/^mwlab-(\d+)-/.exec(d)?.[1] ?? 0);
		if (pid && alive(pid) && pid !== process.pid) continue;
		log(`removing ${'/tmp/' + d}`);
		await run(['rm', '-rf', '--one-file-system', '/tmp/' + d]);
	}
}

// ---------------------------------------------------------------- holders

/** A private /dev at "$D": the few devices daemons need, its own pts and shm (shell, for the holders). */
const PRIVATE_DEV = `mount -t tmpfs -o mode=0755,size=4m mwlab-dev "$D"
for d in null zero full random urandom tty; do touch "$D/$d"; mount --bind "/dev/$d" "$D/$d"; done
mkdir "$D/pts" "$D/shm"
ln -s /proc/self/fd "$D/fd"; ln -s /proc/self/fd/0 "$D/stdin"; ln -s /proc/self/fd/1 "$D/stdout"; ln -s /proc/self/fd/2 "$D/stderr"; ln -s pts/ptmx "$D/ptmx"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 mwlab-devpts "$D/pts"
mount -t tmpfs -o mode=1777 mwlab-shm "$D/shm"`;

const MX_HOLDER = `set -eu
B="$1"
mount -t sysfs mwlab-sys /sys
# A private /dev (the machine's has no /dev/log; the mx gets its own syslog socket).
D="$B/dev"
${PRIVATE_DEV}
mount --bind "$B/etc" /etc
# The checkout (the wizard under test) stays visible at its own path, read-only, even when
# it lies under a directory the mx gets a private copy of (CI may clone under /tmp or /root):
# staged under the private /etc before those are covered, moved into place at the end.
R="\${3:-}"
if [ -n "$R" ]; then mkdir -p /etc/.mwlab-repo; mount --bind "$R" /etc/.mwlab-repo; mount -o remount,bind,ro /etc/.mwlab-repo; fi
mount --bind "$B/var" /var
mount --bind "$B/home" /home
mount --bind "$B/root" /root
mount -t tmpfs -o mode=0755,size=64m mwlab-run /run
mkdir -m 1777 /run/lock; : > /run/utmp
mount --rbind "$D" /dev
mount -t tmpfs -o mode=1777,size=512m mwlab-tmp /tmp
if [ -n "$R" ]; then mkdir -p "$R"; mount --move /etc/.mwlab-repo "$R"; rmdir /etc/.mwlab-repo; fi
hostname "$2"
echo ready
exec sleep infinity
`;

/** Both mx-on-its-own-root holders: the overlay (args BASE HOSTNAME LOWER RSPAMD_CACHE BIND...) ... */
const MX_OVERLAY = `B="$1"; N="$2"; L="$3"; C="$4"; shift 4
O="$B/ovl"; M="$B/ovl/merged"
mkdir -p "$O"
mount -t tmpfs -o mode=0755,size=3g mwlab-mxroot "$O"
mkdir "$O/upper" "$O/work" "$M"
mount -t overlay mwlab-mxovl -o "lowerdir=$L,upperdir=$O/upper,workdir=$O/work" "$M"`;
/** ... and the files the lab gives the mx: resolv.conf, hostname, hosts, the certificate and its key. */
const MX_FILES = `F="$B/files"
rm -f "$M/etc/resolv.conf"; cp "$F/resolv.conf" "$M/etc/resolv.conf"
cp "$F/hostname" "$M/etc/hostname"; cp "$F/hosts" "$M/etc/hosts"
install -D -m 0644 -o root -g root "$F/cert.pem" "$M${MX_TLS.cert}"
install -D -m 0600 -o root -g root "$F/key.pem" "$M${MX_TLS.key}"`;

/**
 * The mx on its own root filesystem (e.g. a Debian 13 root): an overlay whose lower layer is
 * that root and whose upper layer is a tmpfs that lives only in this mount namespace (a fresh
 * server per run; the lower root is never written to), with a fresh /proc, /sys of the mx's
 * network namespace, a private /dev, tmpfs /run and /tmp, the given machine paths bound
 * read-only at their own paths, then pivot_root into it. Args: BASE HOSTNAME LOWER RSPAMD_CACHE BIND...
 */
const MX_ROOT_HOLDER = `set -eu
${MX_OVERLAY}
mount -t proc mwlab-proc "$M/proc"
mount -t sysfs mwlab-sys "$M/sys"
D="$M/dev"
${PRIVATE_DEV}
mount -t tmpfs -o mode=0755,size=64m mwlab-run "$M/run"
mkdir -m 1777 "$M/run/lock"; : > "$M/run/utmp"
mount -t tmpfs -o mode=1777,size=512m mwlab-tmp "$M/tmp"
for p in "$@"; do mkdir -p "$M$p"; mount --bind "$p" "$M$p"; mount -o remount,bind,ro "$M$p"; done
${MX_FILES}
if [ -n "$C" ] && [ -d "$C/rspamd" ]; then rm -rf "$M/var/lib/rspamd"; cp -a "$C/rspamd" "$M/var/lib/rspamd"; echo "rspamd cache restored from $C" >&2; fi
hostname "$N"
cd "$M"
mkdir .mwlab-oldroot
pivot_root . .mwlab-oldroot
cd /
umount -l /.mwlab-oldroot
rmdir /.mwlab-oldroot
echo ready
exec sleep infinity
`;

/**
 * The mx on its own root, booted: the same overlay and files as MX_ROOT_HOLDER, then
 * systemd-nspawn boots it with systemd as PID 1 in the mx's network namespace (no
 * registration with a machined the machine does not run). Args as MX_ROOT_HOLDER.
 */
const NSPAWN_PROPAGATE = '/run/systemd/nspawn/propagate/mwlab-mx';
const MX_BOOT_HOLDER = `set -eu
${MX_OVERLAY}
${MX_FILES}
: > "$M/etc/machine-id"; systemd-machine-id-setup --root="$M" >/dev/null 2>&1 || true
binds=""; for p in "$@"; do binds="$binds --bind-ro=$p"; done
echo ready
exec systemd-nspawn --quiet --register=no --keep-unit --machine=mwlab-mx --console=passive -D "$M" --boot --hostname="$N" --resolv-conf=off --timezone=off --link-journal=no $binds
`;

const SMALL_HOLDER = `set -eu
B="$1"
mount -t sysfs mwlab-sys /sys
mount --bind "$B/resolv.conf" /etc/resolv.conf
mount --bind "$B/hosts" /etc/hosts
hostname "$2"
echo ready
exec sleep infinity
`;

/** A private syslog for the mx: /dev/log → /var/log/mwlab-syslog.log (daemons log there). */
const SYSLOG_PY = `
import socket, os, time, sys
path = '/dev/log'
try: os.unlink(path)
except FileNotFoundError: pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path); os.chmod(path, 0o666)
out = open('/var/log/mwlab-syslog.log', 'a', buffering=1)
while True:
    data = s.recv(65536).decode('utf-8', 'replace').rstrip('\\n\\x00')
    out.write(time.strftime('%H:%M:%S ') + data + '\\n')
`;

// ---------------------------------------------------------------- zones

const SOA = (serial: number) => `$TTL 60
@ IN SOA ns1.example.test. hostmaster.example.test. ( ${serial} 60 30 3600 30 )
`;

function zones(serial: number): Record<string, string> {
	return {
		test: `$ORIGIN test.
${SOA(serial)}@ IN NS ns1.example.test.
example IN NS ns1.example.test.
remote IN NS ns1.example.test.
other IN NS ns1.example.test.
ns1.example IN A ${NET.dns}
`,
		'example.test': `$ORIGIN example.test.
${SOA(serial)}@ IN NS ns1.example.test.
ns1 IN A ${NET.dns}
mail IN A ${NET.mx}
`,
		'remote.test': `$ORIGIN remote.test.
${SOA(serial)}@ IN NS ns1.example.test.
@ IN MX 10 mx.remote.test.
@ IN TXT "v=spf1 ip4:${NET.remote} -all"
mx IN A ${NET.remote}
; a blocklist in the lab (its test entry listed, as real DNSBLs do; the mx is not listed)
2.0.0.127.bl IN A 127.0.0.2
`,
		'other.test': `$ORIGIN other.test.
${SOA(serial)}@ IN NS ns1.example.test.
@ IN MX 10 mx.other.test.
mx IN A ${NET.other}
`,
		[NET.reverseZone]: `$ORIGIN ${NET.reverseZone}.
${SOA(serial)}@ IN NS ns1.example.test.
${NET.dns.split('.')[3]} IN PTR ns1.example.test.
${NET.mx.split('.')[3]} IN PTR mail.example.test.
${NET.remote.split('.')[3]} IN PTR mx.remote.test.
`,
	};
}

function nsdConf(dir: string): string {
	return `server:
	ip-address: ${NET.dns}
	port: 53
	username: ""
	chroot: ""
	zonesdir: "${dir}"
	pidfile: "${dir}/nsd.pid"
	database: ""
	zonelistfile: "${dir}/zone.list"
	xfrdfile: "${dir}/xfrd.state"
	xfrdir: "${dir}"
	logfile: "${dir}/nsd.log"
	verbosity: 2
	server-count: 1
	do-ip6: no
	hide-version: yes
remote-control:
	control-enable: yes
	control-interface: "${dir}/control.sock"
${Object.keys(zones(1))
	.map((z) => `zone:\n\tname: "${z}."\n\tzonefile: "${z}.zone"\n`)
	.join('')}`;
}

// ---------------------------------------------------------------- the sink

const SINK_PY = `
import asyncio, json, os, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
out = sys.argv[1]
class Sink:
    n = 0
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return '250 OK'
    async def handle_DATA(self, server, session, envelope):
        Sink.n += 1
        name = '%d-%03d.json' % (int(time.time() * 1000), Sink.n)
        rec = {'peer': session.peer[0], 'helo': session.host_name, 'mail_from': envelope.mail_from,
               'rcpt_tos': envelope.rcpt_tos, 'data': envelope.original_content.decode('utf-8', 'surrogateescape')}
        tmp = os.path.join(out, '.' + name)
        with open(tmp, 'w') as f: json.dump(rec, f)
        os.rename(tmp, os.path.join(out, name))
        return '250 2.0.0 stored as ' + name
c = Controller(Sink(), hostname='${NET.remote}', port=25, server_hostname='mx.remote.test', decode_data=False)
c.start()
print('ready', flush=True)
while True: time.sleep(3600)
`;

// ---------------------------------------------------------------- the lab

export type SinkMessage = {readonly file: string; readonly peer: string; readonly helo: string; readonly mail_from: string; readonly rcpt_tos: string[]; readonly data: string};

export type Timings = Record<string, number>;

/** The mx on another root filesystem than the machine's (Lab.up({mxRoot})). */
export type MxRootOptions = {
	/** The lower layer: a complete root filesystem (e.g. the cached Debian 13 root of debian13/root.ts). */
	readonly lower: string;
	/** Machine paths bound read-only at the same path inside (the project checkout). */
	readonly binds?: readonly string[];
	/** Where Rspamd's compiled rules for this root are kept between runs (default: none). */
	readonly rspamdCache?: string;
	/** Boot the root with systemd as its PID 1 (systemd-nspawn in the mx's namespaces), as a real server. */
	readonly boot?: 'systemd';
};

export class Lab {
	private holders = new Map<HostName, number>();
	private netInodes = new Set<string>();
	private started: number[] = [];
	private serial = 2026010100;
	private fragments: string[] = [];
	private closed = false;
	readonly timings: Timings = {};

	private constructor(
		readonly base: string,
		private readonly log: (l: string) => void,
		/** Set when the mx runs on its own root filesystem (see MxRootOptions). */
		readonly mxRootOptions?: MxRootOptions,
	) {}

	/** Rspamd's cache directory for this lab's mx. */
	get rspamdCache(): string {
		return this.mxRootOptions ? (this.mxRootOptions.rspamdCache ?? '') : RSPAMD_CACHE;
	}

	/** The CA certificate clients trust (a host path, readable from the remote host). */
	get caCert(): string {
		return join(this.base, 'ca/ca.pem');
	}
	get sinkDir(): string {
		return join(this.base, 'remote/mail');
	}
	get nsdDir(): string {
		return join(this.base, 'dns/nsd');
	}

	/** Builds the whole lab; on failure everything already started is taken down again. */
	static async up(opts: {log?: (l: string) => void; mxRoot?: MxRootOptions; lockWaitMs?: number} = {}): Promise<Lab> {
		const log = opts.log ?? (() => {});
		await takeLock(log, opts.lockWaitMs);
		await cleanupStale(log);
		const base = await mkdtemp(`${BASE_PREFIX}${process.pid}-`);
		const lab = new Lab(base, log, opts.mxRoot);
		// If the test process ends without down() (a timeout, an uncaught error), take the lab
		// down synchronously on the way out; a killed process is cleaned up by the next run.
		process.once('exit', () => lab.downSync());
		try {
			await lab.setup();
			return lab;
		} catch (e) {
			await lab.down().catch(() => {});
			throw e;
		}
	}

	private async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
		const t0 = Date.now();
		try {
			return await fn();
		} finally {
			this.timings[name] = Date.now() - t0;
			this.log(`${name}: ${Date.now() - t0} ms`);
		}
	}

	private async setup(): Promise<void> {
		await this.phase('network', () => this.network());
		await this.phase('ca', () => this.ca());
		await this.phase('mx root', () => this.mxRoot());
		await this.phase('holders', async () => {
			for (const h of HOSTS) await this.holder(h);
		});
		await this.phase('dns', () => this.startDns());
		await this.phase('mx services', () => this.mxServices());
		await this.phase('sink', () => this.startSink());
	}

	private async network(): Promise<void> {
		for (const ns of Object.values(NETNS)) {
			await must(['ip', 'netns', 'add', ns]);
			const i = await namedNetInode(ns);
			if (i) this.netInodes.add(i);
			await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
			// No IPv6 duplicate-address detection (a fresh link-local would block smtpd's bind).
			await run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
		}
		const b = NETNS.bridge;
		await must(['ip', '-n', b, 'link', 'add', 'mwbr0', 'type', 'bridge']);
		await must(['ip', '-n', b, 'link', 'set', 'mwbr0', 'up']);
		for (const h of HOSTS) {
			const ns = NETNS[h];
			await must(['ip', '-n', b, 'link', 'add', `v${h}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
			await must(['ip', '-n', b, 'link', 'set', `v${h}`, 'master', 'mwbr0', 'up']);
			for (const a of ADDRS[h]) await must(['ip', '-n', ns, 'addr', 'add', `${a}/${NET.len}`, 'dev', 'eth0']);
			await must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
		}
	}

	private async ca(): Promise<void> {
		const d = join(this.base, 'ca');
		mkdirSync(d, {mode: 0o700});
		writeFileSync(join(d, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:mail.example.test\n');
		const o = {cwd: d};
		await must(
			[
				'openssl',
				'req',
				'-x509',
				'-newkey',
				'rsa:2048',
				'-nodes',
				'-keyout',
				'ca.key',
				'-out',
				'ca.pem',
				'-days',
				'3',
				'-subj',
				'/CN=mailwizard lab CA',
				'-addext',
				'basicConstraints=critical,CA:TRUE',
				'-addext',
				'keyUsage=critical,keyCertSign,cRLSign',
			],
			o,
		);
		await must(['openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'mail.key', '-out', 'mail.csr', '-subj', '/CN=mail.example.test'], o);
		await must(['openssl', 'x509', '-req', '-in', 'mail.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'mail.pem', '-days', '3', '-extfile', 'leaf.ext'], o);
	}

	/** The mx's private /etc, /var, /home, /root (copies of the machine's, without big caches). */
	private async mxRoot(): Promise<void> {
		if (this.mxRootOptions) return this.mxOwnRootFiles();
		const m = join(this.base, 'mx');
		mkdirSync(m, {mode: 0o755});
		mkdirSync(join(m, 'dev'));
		await must(['cp', '-a', '/etc', join(m, 'etc')]);
		await must(['cp', '-a', '/home', join(m, 'home')]);
		mkdirSync(join(m, 'root'), {mode: 0o700});
		for (const f of ['.bashrc', '.profile']) if (existsSync(join('/root', f))) await cp(join('/root', f), join(m, 'root', f));
		// /var without caches: /var/cache keeps only what dpkg/debconf need, each other entry an empty directory.
		await must([
			'sh',
			'-c',
			'cd / && tar --one-file-system --exclude=./var/cache --exclude=./var/lib/postgresql --exclude="./var/lib/apt/lists/*_Packages" --exclude="./var/lib/apt/lists/*_Translation-*" --exclude="./var/lib/apt/lists/*_Contents-*" -cf - ./var | tar -C "$1" -xf -',
			'sh',
			m,
		]);
		await must([
			'sh',
			'-c',
			'mkdir -p "$1/var/cache" && cd /var/cache && for e in *; do if [ "$e" = debconf ] || [ "$e" = ldconfig ]; then cp -a "$e" "$1/var/cache/"; elif [ -d "$e" ]; then mkdir -p "$1/var/cache/$e" && chmod --reference="$e" "$1/var/cache/$e"; fi; done',
			'sh',
			m,
		]);
		if (existsSync(join(RSPAMD_CACHE, 'rspamd'))) {
			await must(['rm', '-rf', join(m, 'var/lib/rspamd')]);
			await must(['cp', '-a', join(RSPAMD_CACHE, 'rspamd'), join(m, 'var/lib/rspamd')]);
			this.log(`rspamd cache restored from ${RSPAMD_CACHE}`);
		}
		const etc = join(m, 'etc');
		await rm(join(etc, 'resolv.conf'), {force: true});
		writeFileSync(join(etc, 'resolv.conf'), `nameserver ${NET.dns}\noptions timeout:2 attempts:2\n`);
		writeFileSync(join(etc, 'hostname'), 'mail.example.test\n');
		writeFileSync(join(etc, 'hosts'), `127.0.0.1 localhost\n${NET.mx} mail.example.test mail\n::1 localhost ip6-localhost ip6-loopback\n`);
		// TLS: the lab CA's certificate for mail.example.test (full chain) and its key, root-only.
		writeFileSync(join(m, MX_TLS.cert), readFileSync(join(this.base, 'ca/mail.pem'), 'utf8') + readFileSync(join(this.base, 'ca/ca.pem'), 'utf8'), {mode: 0o644});
		writeFileSync(join(m, MX_TLS.key), readFileSync(join(this.base, 'ca/mail.key')), {mode: 0o600});
		await must(['chown', 'root:root', join(m, MX_TLS.cert), join(m, MX_TLS.key)]);
		for (const h of ['dns', 'remote'] as const) {
			const d = join(this.base, h);
			mkdirSync(d, {recursive: true});
			writeFileSync(join(d, 'resolv.conf'), `nameserver ${NET.dns}\noptions timeout:2 attempts:2\n`);
			writeFileSync(join(d, 'hosts'), `127.0.0.1 localhost\n${ADDRS[h][0]} ${HOSTNAMES[h]}\n`);
		}
	}

	/**
	 * The files the mx on its own root gets (MX_ROOT_HOLDER copies them in before pivot_root):
	 * resolv.conf, hostname, hosts, the TLS certificate (full chain) and key; and the small hosts' files.
	 */
	private async mxOwnRootFiles(): Promise<void> {
		const o = this.mxRootOptions!;
		if (!existsSync(join(o.lower, 'etc/os-release'))) throw new Error(`[lab] ${o.lower} is not a root filesystem (no etc/os-release)`);
		const f = join(this.base, 'mx', 'files');
		mkdirSync(f, {recursive: true, mode: 0o700});
		writeFileSync(join(f, 'resolv.conf'), `nameserver ${NET.dns}\noptions timeout:2 attempts:2\n`);
		writeFileSync(join(f, 'hostname'), 'mail.example.test\n');
		writeFileSync(join(f, 'hosts'), `127.0.0.1 localhost\n${NET.mx} mail.example.test mail\n::1 localhost ip6-localhost ip6-loopback\n`);
		writeFileSync(join(f, 'cert.pem'), readFileSync(join(this.base, 'ca/mail.pem'), 'utf8') + readFileSync(join(this.base, 'ca/ca.pem'), 'utf8'));
		writeFileSync(join(f, 'key.pem'), readFileSync(join(this.base, 'ca/mail.key')), {mode: 0o600});
		for (const h of ['dns', 'remote'] as const) {
			const d = join(this.base, h);
			mkdirSync(d, {recursive: true});
			writeFileSync(join(d, 'resolv.conf'), `nameserver ${NET.dns}\noptions timeout:2 attempts:2\n`);
			writeFileSync(join(d, 'hosts'), `127.0.0.1 localhost\n${ADDRS[h][0]} ${HOSTNAMES[h]}\n`);
		}
	}

	private async holder(h: HostName): Promise<void> {
		const own = h === 'mx' ? this.mxRootOptions : undefined;
		const script = own ? (own.boot === 'systemd' ? MX_BOOT_HOLDER : MX_ROOT_HOLDER) : h === 'mx' ? MX_HOLDER : SMALL_HOLDER;
		const dir = join(this.base, h);
		const extra = own ? [own.lower, own.rspamdCache ?? '', ...(own.binds ?? [])] : h === 'mx' ? [REPO_ROOT] : [];
		const child = spawn('nsenter', [`--net=/run/netns/${NETNS[h]}`, 'unshare', '-m', '-u', '--propagation', 'private', 'sh', '-c', script, `holder-${h}`, dir, HOSTNAMES[h], ...extra], {
			stdio: ['ignore', 'pipe', 'pipe'],
			env: {PATH, LC_ALL: 'C'},
			detached: true,
		});
		let err = '';
		child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
		const ok = await new Promise<boolean>((resolve) => {
			const t = setTimeout(() => resolve(false), 20_000);
			child.stdout!.on('data', (c: Buffer) => {
				if (c.toString().includes('ready')) {
					clearTimeout(t);
					resolve(true);
				}
			});
			child.on('exit', () => {
				clearTimeout(t);
				resolve(false);
			});
		});
		if (child.pid) this.started.push(child.pid);
		child.unref();
		(child.stdout as unknown as {unref?: () => void}).unref?.();
		(child.stderr as unknown as {unref?: () => void}).unref?.();
		if (!ok) throw new Error(`[lab] the ${h} holder did not start: ${err.trim()}`);
		if (own && err.trim()) this.log(err.trim());
		this.holders.set(h, own?.boot === 'systemd' ? await this.bootedInit(child.pid!, () => err) : child.pid!);
	}

	/** The booted mx's PID 1 (systemd in the container's PID namespace), once the boot is over. */
	private async bootedInit(nspawn: number, err: () => string): Promise<number> {
		const net = nsInode(nspawn, 'net');
		let init = 0;
		for (let i = 0; i < 200 && !init; i++) {
			for (const d of readdirSync('/proc')) {
				if (!/^\d+$/.test(d) || Number(d) === nspawn || nsInode(Number(d), 'net') !== net) continue;
				try {
					const nspid = /^NSpid:\s+(.*)$/m
						.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]
						?.trim()
						.split(/\s+/);
					if (nspid && nspid.length > 1 && nspid.at(-1) === '1') init = Number(d);
				} catch {}
			}
			if (!init) await sleep(100);
		}
		if (!init) throw new Error(`[lab] the mx did not boot (no systemd in its PID namespace): ${err().trim()}`);
		// Until the boot is over ("running", or "degraded" for a unit the sandbox cannot run).
		let state = '';
		for (let i = 0; i < 180 && !/^(running|degraded)$/.test(state); i++) {
			if (i) await sleep(500);
			state = (await run([...CLOSE_FDS, 'nsenter', '-t', String(init), '-m', '-n', '-u', '-i', '-p', '--', 'systemctl', 'is-system-running'], {timeoutMs: 10_000})).stdout.trim();
		}
		this.log(`mx booted with systemd (PID 1 is ${init} on the machine): ${state}`);
		return init;
	}

	/** The argv prefix that enters a host (its network, mount and UTS namespaces). */
	enter(h: HostName): string[] {
		const pid = this.holders.get(h);
		if (!pid) throw new Error(`[lab] host ${h} is not up`);
		if (h === 'mx' && this.mxRootOptions?.boot === 'systemd') return ['nsenter', '-t', String(pid), '-m', '-n', '-u', '-i', '-p', '--'];
		return ['nsenter', '-t', String(pid), '-m', '-n', '-u', '--'];
	}

	/** A path inside a host's mount namespace, as seen from the machine (through the holder). */
	hostPath(h: HostName, path: string): string {
		return `/proc/${this.holders.get(h)}/root${path}`;
	}

	/**
	 * Runs argv on a host. stdin, if given, is written and closed. Descriptors other than
	 * 0-2 that the test runner inherited are closed first: a daemon started inside (by the
	 * wizard, through an init script) would otherwise keep them open for ever.
	 */
	exec(h: HostName, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
		return run([...CLOSE_FDS, ...this.enter(h), ...argv], opts);
	}

	/**
	 * Runs a network tool of the machine (kdig, ip, swaks) in a host's network and UTS namespaces.
	 * The same as exec() except for an mx on its own root, which need not have these tools.
	 */
	probe(h: HostName, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
		if (h !== 'mx' || !this.mxRootOptions) return this.exec(h, argv, opts);
		const pid = this.holders.get(h);
		if (!pid) throw new Error(`[lab] host ${h} is not up`);
		return run([...CLOSE_FDS, 'nsenter', '-t', String(pid), '-n', '-u', '--', ...argv], opts);
	}

	sh(h: HostName, script: string, opts: ExecOptions = {}): Promise<ExecResult> {
		return this.exec(h, ['sh', '-c', script], opts);
	}

	/** Starts a long-running process on a host, detached, output to LOG (a machine path); returns its pid. */
	spawnDaemon(h: HostName, argv: readonly string[], logFile: string): number {
		const fd = openSync(logFile, 'a');
		const child = spawn(CLOSE_FDS[0]!, [...CLOSE_FDS.slice(1), ...this.enter(h), ...argv], {stdio: ['ignore', fd, fd], detached: true, env: {PATH, LC_ALL: 'C', HOME: '/root'}});
		closeSync(fd);
		child.unref();
		this.started.push(child.pid!);
		return child.pid!;
	}

	/** Writes a file on a host (through the holder's root), with mode and owner. */
	async writeFile(h: HostName, path: string, content: string, mode = 0o644, owner = 'root:root'): Promise<void> {
		const r = await this.exec(h, ['sh', '-c', 'umask 077; mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1" && chown "$3" "$1"', 'sh', path, mode.toString(8), owner], {stdin: content});
		if (r.exitCode !== 0) throw new Error(`[lab] writing ${path} on ${h} failed: ${r.stderr}`);
	}

	async readFile(h: HostName, path: string): Promise<string> {
		return readFile(this.hostPath(h, path), 'utf8');
	}

	// ------------------------------------------------------------ dns

	private async writeZones(): Promise<void> {
		const all = zones(this.serial);
		for (const [name, text] of Object.entries(all)) {
			const extra = name === 'example.test' && this.fragments.length ? `\n; ---- appended by the lab\n$ORIGIN example.test.\n${this.fragments.join('\n')}\n` : '';
			await writeFile(join(this.nsdDir, `${name}.zone`), text + extra);
		}
	}

	private async startDns(): Promise<void> {
		mkdirSync(this.nsdDir, {recursive: true});
		await writeFile(join(this.nsdDir, 'nsd.conf'), nsdConf(this.nsdDir));
		await this.writeZones();
		const check = await run(['nsd-checkconf', join(this.nsdDir, 'nsd.conf')]);
		if (check.exitCode !== 0) throw new Error(`[lab] nsd-checkconf: ${check.stderr}`);
		this.spawnDaemon('dns', ['/usr/sbin/nsd', '-d', '-c', join(this.nsdDir, 'nsd.conf')], join(this.nsdDir, 'nsd.out'));
		let last: ExecResult | undefined;
		for (let i = 0; i < 100; i++) {
			last = await this.probe('mx', ['kdig', '+short', '+timeout=1', '+retry=0', `@${NET.dns}`, 'mail.example.test', 'A'], {timeoutMs: 5000});
			if (last.stdout.trim() === NET.mx) return;
			await sleep(100);
		}
		throw new Error(`[lab] NSD does not answer (kdig: ${JSON.stringify(last)}): ${readFileSync(join(this.nsdDir, 'nsd.log'), 'utf8').slice(-2000)}`);
	}

	/** The example.test zone as it is served now. */
	async zoneText(name = 'example.test'): Promise<string> {
		return readFile(join(this.nsdDir, `${name}.zone`), 'utf8');
	}

	/**
	 * Appends a zone fragment (e.g. `mailwizard dns --zone`) to example.test, bumps the serial of
	 * every zone, reloads NSD and waits until it serves the new serial. Records whose owner is in
	 * the reverse zone (PTR) are not accepted here: the lab publishes its PTRs itself.
	 */
	async appendZone(fragment: string): Promise<void> {
		this.fragments.push(fragment.replace(/^\$ORIGIN.*$/gm, (l) => `; (lab: ignored) ${l}`).trimEnd());
		this.serial += 1;
		await this.writeZones();
		const r = await this.exec('dns', ['nsd-control', '-c', join(this.nsdDir, 'nsd.conf'), 'reload'], {timeoutMs: 15_000});
		if (r.exitCode !== 0) throw new Error(`[lab] nsd-control reload: ${r.stderr || r.stdout}`);
		for (let i = 0; i < 100; i++) {
			const soa = await this.probe('mx', ['kdig', '+short', '+timeout=1', '+retry=0', `@${NET.dns}`, 'example.test', 'SOA'], {timeoutMs: 5000});
			if (soa.stdout.split(/\s+/)[2] === String(this.serial)) return;
			await sleep(100);
		}
		throw new Error(`[lab] NSD did not load serial ${this.serial} of example.test:\n${readFileSync(join(this.nsdDir, 'nsd.log'), 'utf8').slice(-3000)}`);
	}

	/** kdig from a host against the lab DNS: the answer's records, one per line (+short). */
	async dig(name: string, type: string, from: HostName = 'remote'): Promise<string[]> {
		const r = await this.probe(from, ['kdig', '+short', '+timeout=2', '+retry=0', `@${NET.dns}`, name, type], {timeoutMs: 10_000});
		return r.stdout
			.split('\n')
			.map((l) => l.trim())
			.filter(Boolean);
	}

	// ------------------------------------------------------------ mx

	private async mxServices(): Promise<void> {
		// A booted mx logs to its own journald.
		if (this.mxRootOptions?.boot === 'systemd') return;
		// (The lab directory is under the machine's /tmp, which the mx does not see: the script goes in argv.)
		this.spawnDaemon('mx', [PYTHON, '-c', SYSLOG_PY], join(this.base, 'syslog.out'));
		for (let i = 0; i < 50; i++) {
			if ((await this.exec('mx', ['test', '-S', '/dev/log'])).exitCode === 0) return;
			await sleep(100);
		}
		throw new Error(`[lab] the mx syslog did not start: ${readFileSync(join(this.base, 'syslog.out'), 'utf8')}`);
	}

	/** The mx's syslog (smtpd, dovecot, rspamd's filter write there). */
	async mxLog(): Promise<string> {
		if (this.mxRootOptions?.boot === 'systemd') return (await this.exec('mx', ['journalctl', '-q', '--no-pager', '-o', 'short', '-n', '400'])).stdout;
		return this.readFile('mx', '/var/log/mwlab-syslog.log').catch(() => '');
	}

	/** Keeps the mx's Rspamd cache for the next run (call before down()). */
	async saveRspamdCache(): Promise<void> {
		const src = this.hostPath('mx', '/var/lib/rspamd');
		const RSPAMD_CACHE = this.rspamdCache;
		if (!RSPAMD_CACHE || !existsSync(src)) return;
		const tmp = `${RSPAMD_CACHE}.tmp-${process.pid}`;
		await run(['rm', '-rf', tmp]);
		mkdirSync(tmp, {recursive: true});
		const r = await run(['cp', '-a', src, join(tmp, 'rspamd')]);
		if (r.exitCode !== 0) return void (await run(['rm', '-rf', tmp]));
		await run(['rm', '-rf', RSPAMD_CACHE]);
		await run(['mv', tmp, RSPAMD_CACHE]);
	}

	// ------------------------------------------------------------ remote

	private async startSink(): Promise<void> {
		mkdirSync(this.sinkDir, {recursive: true});
		const py = join(this.base, 'remote/sink.py');
		await writeFile(py, SINK_PY);
		this.spawnDaemon('remote', [PYTHON, py, this.sinkDir], join(this.base, 'remote/sink.out'));
		for (let i = 0; i < 100; i++) {
			const r = await this.exec('remote', [PYTHON, '-c', `import socket; s=socket.create_connection(('${NET.remote}',25),1); print(s.recv(100).decode())`], {timeoutMs: 5000});
			if (r.stdout.startsWith('220')) return;
			await sleep(150);
		}
		throw new Error(`[lab] the remote sink did not start: ${readFileSync(join(this.base, 'remote/sink.out'), 'utf8')}`);
	}

	/** Messages the remote sink has stored, oldest first. */
	sinkMessages(): SinkMessage[] {
		if (!existsSync(this.sinkDir)) return [];
		return readdirSync(this.sinkDir)
			.filter((f) => f.endsWith('.json') && !f.startsWith('.'))
			.sort()
			.map((f) => ({file: join(this.sinkDir, f), ...(JSON.parse(readFileSync(join(this.sinkDir, f), 'utf8')) as Omit<SinkMessage, 'file'>)}));
	}

	/** Waits for a sink message matching the predicate. */
	async waitSink(pred: (m: SinkMessage) => boolean, timeoutMs = 30_000): Promise<SinkMessage | undefined> {
		const end = Date.now() + timeoutMs;
		for (;;) {
			const m = this.sinkMessages().find(pred);
			if (m || Date.now() > end) return m;
			await sleep(250);
		}
	}

	/** Runs test/lab/client.py on the remote host: `python3 client.py CMD JSON`, parses its JSON answer. */
	async client<T = Record<string, unknown>>(cmd: string, args: Record<string, unknown> = {}, opts: {host?: HostName; timeoutMs?: number} = {}): Promise<T & {error?: string}> {
		const r = await this.exec(opts.host ?? 'remote', [PYTHON, join(LAB_DIR, 'client.py'), cmd, JSON.stringify({ca: this.caCert, dns: NET.dns, ...args})], {timeoutMs: opts.timeoutMs ?? 60_000});
		try {
			return JSON.parse(r.stdout) as T & {error?: string};
		} catch {
			return {error: `client.py ${cmd} exit ${r.exitCode}: ${r.stdout}\n${r.stderr}`} as T & {error?: string};
		}
	}

	// ------------------------------------------------------------ down

	/** Stops every process of the lab (by pid), deletes the namespaces and the lab directory. Idempotent. */
	async down(): Promise<{killed: number[]}> {
		if (this.closed) return {killed: []};
		this.closed = true;
		// Everything in the lab's network namespaces: daemons the wizard started, NSD, the sink, the holders.
		const pids = [...new Set([...processesIn(this.netInodes), ...this.started])];
		const killed = await killAll(pids);
		for (const ns of Object.values(NETNS)) await run(['ip', 'netns', 'del', ns]);
		await run(['rm', '-rf', '--one-file-system', this.base]);
		// systemd-nspawn leaves its (empty) propagation directory on the machine.
		if (this.mxRootOptions?.boot) await run(['rm', '-rf', '--one-file-system', NSPAWN_PROPAGATE]);
		if (existsSync(LOCK) && readFileSync(LOCK, 'utf8').trim() === String(process.pid)) await rm(LOCK, {force: true});
		return {killed};
	}

	/** down(), synchronously (for process exit): SIGKILL by pid, namespaces, directory. */
	downSync(): void {
		if (this.closed) return;
		this.closed = true;
		for (const p of new Set([...processesIn(this.netInodes), ...this.started])) {
			try {
				process.kill(p, 'SIGKILL');
			} catch {}
		}
		for (const ns of Object.values(NETNS)) spawnSync('ip', ['netns', 'del', ns], {stdio: 'ignore'});
		spawnSync('rm', ['-rf', '--one-file-system', this.base], {stdio: 'ignore'});
		if (this.mxRootOptions?.boot) spawnSync('rm', ['-rf', '--one-file-system', NSPAWN_PROPAGATE], {stdio: 'ignore'});
		try {
			if (readFileSync(LOCK, 'utf8').trim() === String(process.pid)) spawnSync('rm', ['-f', LOCK]);
		} catch {}
	}

	/**
	 * What is left of this lab (empty when down() did its job). Only this lab's own: the next
	 * lab run (another test file, waiting for the lock) may already be up under the same names.
	 */
	async leftovers(): Promise<string[]> {
		const left: string[] = [];
		const ns: string[] = [];
		for (const name of (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!)) {
			if (!(Object.values(NETNS) as string[]).includes(name)) continue;
			const inode = await namedNetInode(name);
			if (inode && this.netInodes.has(inode)) ns.push(name);
		}
		if (ns.length) left.push(`namespaces: ${ns.join(' ')}`);
		const procs = processesIn(this.netInodes);
		if (procs.length) left.push(`processes in lab namespaces: ${procs.join(' ')}`);
		const started = this.started.filter(alive);
		if (started.length) left.push(`processes started by the lab: ${started.join(' ')}`);
		const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
			.split('\n')
			.filter((l) => l.includes(this.base) || l.includes('mwlab-') || (/\/run\/netns\/mw(lab|dns|mx|remote)\b/.test(l) && [...this.netInodes].some((i) => l.includes(i))));
		if (mounts.length) left.push(`mounts: ${mounts.join(' | ')}`);
		if (existsSync(this.base)) left.push(`directory ${this.base}`);
		if ((await run(['ip', 'link', 'show', 'mwbr0'])).exitCode === 0) left.push('link mwbr0 on the machine');
		if (existsSync(LOCK) && readFileSync(LOCK, 'utf8').trim() === String(process.pid)) left.push(`lock ${LOCK} (still ours)`);
		return left;
	}
}
