// The mx host: the holder processes that keep its private mount namespace (a copy of the
// machine's /etc, /var, /home, /root, or its own root filesystem, optionally booted with
// systemd), the lab CA and the mx's certificate, its private syslog.
import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {cp, rm} from 'node:fs/promises';
import {join} from 'node:path';
import {HOSTNAMES, NET, NETNS, RESOLV_CONF, SLOT_SUFFIX, writeSmallHostFiles, type HostName} from './net.ts';
import {CLOSE_FDS, LAB_DIR, must, nsInode, PATH, REPO_ROOT, run, sleep} from './proc.ts';

/** Where the mx's TLS files go (the answers name these paths). */
export const MX_TLS = {cert: '/etc/ssl/certs/mail.example.test.pem', key: '/etc/ssl/private/mail.example.test.key'} as const;
/** Rspamd's compiled rules, kept between runs (its first start takes ~15 s without them). */
export const RSPAMD_CACHE = process.env.MAILWIZARD_LAB_RSPAMD_CACHE || '/var/cache/mailwizard-test/lab-rspamd';
/** The mx's private syslog, run with python3 -c (the lab directory under /tmp is not visible in the mx). */
export const SYSLOG_PY = readFileSync(join(LAB_DIR, 'syslog.py'), 'utf8');

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
mount --bind "$B/usr-local" /usr/local
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

/** The container's machine name (per lab slot: MWLAB_MACHINE in the holder's environment). */
export const nspawnMachine = () => `mwlab-mx${SLOT_SUFFIX}`;
/** What systemd-nspawn leaves on the machine for that machine name. */
export const nspawnPropagate = () => `/run/systemd/nspawn/propagate/${nspawnMachine()}`;
/**
 * The machine's cgroup hierarchies a booted mx gets its own group in (named after its machine
 * name): without a systemd on the machine, nspawn --keep-unit puts the container's systemd
 * under the caller's group, and two booted labs would share /payload/system.slice/X.service —
 * stopping a unit in one container killed the other's daemon.
 */
export const CGROUP_ROOTS = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'];
const OWN_CGROUP = `for h in ${CGROUP_ROOTS.join(' ')}; do
  [ -f "$h/cgroup.procs" ] || continue
  mkdir -p "$h/$MWLAB_MACHINE" && echo $$ > "$h/$MWLAB_MACHINE/cgroup.procs"
done`;

/**
 * The mx on its own root, booted: the same overlay and files as MX_ROOT_HOLDER, then
 * systemd-nspawn boots it with systemd as PID 1 in the mx's network namespace (no
 * registration with a machined the machine does not run), in cgroups of its own. Args as
 * MX_ROOT_HOLDER. CAP_NET_ADMIN: as on a VM, fail2ban's nftables actions may change the mx's
 * own firewall (nspawn drops it by default; the namespace is the lab's, never the machine's).
 */
const MX_BOOT_HOLDER = `set -eu
${OWN_CGROUP}
${MX_OVERLAY}
${MX_FILES}
: > "$M/etc/machine-id"; systemd-machine-id-setup --root="$M" >/dev/null 2>&1 || true
binds=""; for p in "$@"; do binds="$binds --bind-ro=$p"; done
echo ready
exec systemd-nspawn --quiet --register=no --keep-unit --machine="$MWLAB_MACHINE" --capability=CAP_NET_ADMIN --console=passive -D "$M" --boot --hostname="$N" --resolv-conf=off --timezone=off --link-journal=no $binds
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

/** The lab CA (BASE/ca/ca.pem, trusted by the clients) and its certificate for mail.example.test. */
export async function makeCa(base: string): Promise<void> {
	const d = join(base, 'ca');
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
			'90',
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
	await must(['openssl', 'x509', '-req', '-in', 'mail.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'mail.pem', '-days', '90', '-extfile', 'leaf.ext'], o);
}

/** The mx's private /etc, /var, /home, /root (copies of the machine's, without big caches), under BASE/mx. */
export async function copyMachineRoot(base: string, log: (l: string) => void): Promise<void> {
	const m = join(base, 'mx');
	mkdirSync(m, {mode: 0o755});
	mkdirSync(join(m, 'dev'));
	await must(['cp', '-a', '/etc', join(m, 'etc')]);
	await must(['cp', '-a', '/home', join(m, 'home')]);
	// The wizard installs its daily check under /usr/local: the mx's own, not the machine's.
	await must(['cp', '-a', '/usr/local', join(m, 'usr-local')]);
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
	// Copied beside first: another lab slot may be replacing the cache right now (then this lab
	// does without it, as on a first run).
	if (existsSync(join(RSPAMD_CACHE, 'rspamd'))) {
		const copied = await run(['cp', '-a', join(RSPAMD_CACHE, 'rspamd'), join(m, 'var/lib/rspamd.mwlab-cache')]);
		if (copied.exitCode === 0) {
			await must(['rm', '-rf', join(m, 'var/lib/rspamd')]);
			await must(['mv', join(m, 'var/lib/rspamd.mwlab-cache'), join(m, 'var/lib/rspamd')]);
			log(`rspamd cache restored from ${RSPAMD_CACHE}`);
		} else await run(['rm', '-rf', join(m, 'var/lib/rspamd.mwlab-cache')]);
	}
	const etc = join(m, 'etc');
	await rm(join(etc, 'resolv.conf'), {force: true});
	writeFileSync(join(etc, 'resolv.conf'), RESOLV_CONF);
	writeFileSync(join(etc, 'hostname'), 'mail.example.test\n');
	writeFileSync(join(etc, 'hosts'), MX_HOSTS);
	// TLS: the lab CA's certificate for mail.example.test (full chain) and its key, root-only.
	writeFileSync(join(m, MX_TLS.cert), fullChain(base), {mode: 0o644});
	writeFileSync(join(m, MX_TLS.key), readFileSync(join(base, 'ca/mail.key')), {mode: 0o600});
	await must(['chown', 'root:root', join(m, MX_TLS.cert), join(m, MX_TLS.key)]);
	writeSmallHostFiles(base);
}

const MX_HOSTS = `127.0.0.1 localhost\n${NET.mx} mail.example.test mail\n::1 localhost ip6-localhost ip6-loopback\n`;

function fullChain(base: string): string {
	return readFileSync(join(base, 'ca/mail.pem'), 'utf8') + readFileSync(join(base, 'ca/ca.pem'), 'utf8');
}

/**
 * The files the mx on its own root gets (MX_ROOT_HOLDER copies them in before pivot_root):
 * resolv.conf, hostname, hosts, the TLS certificate (full chain) and key; and the small hosts' files.
 */
export function writeOwnRootFiles(base: string, o: MxRootOptions): void {
	if (!existsSync(join(o.lower, 'etc/os-release'))) throw new Error(`[lab] ${o.lower} is not a root filesystem (no etc/os-release)`);
	const f = join(base, 'mx', 'files');
	mkdirSync(f, {recursive: true, mode: 0o700});
	writeFileSync(join(f, 'resolv.conf'), RESOLV_CONF);
	writeFileSync(join(f, 'hostname'), 'mail.example.test\n');
	writeFileSync(join(f, 'hosts'), MX_HOSTS);
	writeFileSync(join(f, 'cert.pem'), fullChain(base));
	writeFileSync(join(f, 'key.pem'), readFileSync(join(base, 'ca/mail.key')), {mode: 0o600});
	writeSmallHostFiles(base);
}

/**
 * Starts a host's holder: a process in the host's network namespace and a private mount and
 * UTS namespace, which prepares the host's filesystem and then sleeps; returns its pid once it
 * says "ready" (pushed onto `started` in any case), and its stderr so far.
 */
export async function startHolder(base: string, h: HostName, own: MxRootOptions | undefined, started: number[]): Promise<{pid: number; err: () => string}> {
	const script = own ? (own.boot === 'systemd' ? MX_BOOT_HOLDER : MX_ROOT_HOLDER) : h === 'mx' ? MX_HOLDER : SMALL_HOLDER;
	const dir = join(base, h);
	const extra = own ? [own.lower, own.rspamdCache ?? '', ...(own.binds ?? [])] : h === 'mx' ? [REPO_ROOT] : [];
	const child = spawn('nsenter', [`--net=/run/netns/${NETNS[h]}`, 'unshare', '-m', '-u', '--propagation', 'private', 'sh', '-c', script, `holder-${h}`, dir, HOSTNAMES[h], ...extra], {
		stdio: ['ignore', 'pipe', 'pipe'],
		env: {PATH, LC_ALL: 'C', MWLAB_MACHINE: nspawnMachine()},
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
	if (child.pid) started.push(child.pid);
	child.unref();
	(child.stdout as unknown as {unref?: () => void}).unref?.();
	(child.stderr as unknown as {unref?: () => void}).unref?.();
	if (!ok) throw new Error(`[lab] the ${h} holder did not start: ${err.trim()}`);
	return {pid: child.pid!, err: () => err};
}

/** The booted mx's PID 1 (systemd in the container's PID namespace), once the boot is over. */
export async function bootedInit(nspawn: number, err: () => string, log: (l: string) => void): Promise<number> {
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
	log(`mx booted with systemd (PID 1 is ${init} on the machine): ${state}`);
	return init;
}
