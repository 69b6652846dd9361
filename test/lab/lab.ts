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
// The links also carry IPv6 (2001:db8:77::/64, no DAD): dns ::53, mx ::25, remote ::30 and
// ::31 (no PTR), with AAAA records and the ip6.arpa reverse zone; six.remote.test's MX has only
// an IPv6 address, so mail to it must leave the mx over IPv6.
//
// No default route anywhere, only .test names, nothing but these namespaces is contacted.
// Everything is started by PID and stopped by PID (every process whose network namespace is
// one of the lab's); down() deletes the namespaces (and with them the bridge and veths), and
// downAndCheck() checks that nothing is left. A run that crashed is cleaned up by the next one
// (cleanupStale), unless a live process holds the lab lock. A machine runs up to SLOTS labs at
// once (lab/lock.ts): slot N's namespaces are named mwlabN, mwdnsN, mwmxN, mwremoteN.
import {spawn, spawnSync} from 'node:child_process';
import {closeSync, existsSync, mkdirSync, openSync, readFileSync} from 'node:fs';
import {mkdtemp, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {nsdConf, writeZones} from './lab/dns.ts';
import {BASE_PREFIX, cleanupStale, holdsLock, LOCK, releaseLock, releaseLockSync, takeLock} from './lab/lock.ts';
import {bootedInit, CGROUP_ROOTS, copyMachineRoot, makeCa, nspawnMachine, nspawnPropagate, RSPAMD_CACHE, startHolder, SYSLOG_PY, writeOwnRootFiles, type MxRootOptions} from './lab/mx.ts';
import {createNetwork, HOSTS, NET, NETNS, type HostName} from './lab/net.ts';
import {alive, CLOSE_FDS, killAll, LAB_DIR, namedNetInode, PATH, processesIn, PYTHON, run, sleep, type ExecOptions, type ExecResult} from './lab/proc.ts';
import {SINK_GREETING, sinkArgv, sinkMessages, waitSink, type SinkMessage} from './lab/remote.ts';

// What the lab's users import from here (the pieces live in ./lab/, one concern each).
export {LAB_DNSBL, NET, NET6, NETNS, reverse6Label, type HostName} from './lab/net.ts';
export {cleanupStale, LAB_LOCK_WAIT_MS, labUnavailable} from './lab/lock.ts';
export {MX_TLS, RSPAMD_CACHE, type MxRootOptions} from './lab/mx.ts';
export {alive, LAB_DIR, pidofHere, PYTHON, REPO_ROOT, run, type ExecOptions, type ExecResult} from './lab/proc.ts';
export type {SinkMessage} from './lab/remote.ts';

export type Timings = Record<string, number>;

export class Lab {
	private holders = new Map<HostName, number>();
	private netInodes = new Set<string>();
	private started: number[] = [];
	private serial = 2026010100;
	private fragments: string[] = [];
	private edit: ((appended: string) => string) | undefined;
	private closed = false;
	readonly timings: Timings = {};
	/** The CA file the protocol clients (client.py) trust instead of the lab CA (the ACME lane: Pebble's root). */
	clientCa?: string;

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
		await this.phase('network', () => createNetwork(this.netInodes));
		await this.phase('ca', () => makeCa(this.base));
		await this.phase('mx root', () => this.mxRoot());
		await this.phase('holders', async () => {
			for (const h of HOSTS) await this.holder(h);
		});
		await this.phase('dns', () => this.startDns());
		await this.phase('mx services', () => this.mxServices());
		await this.phase('sink', () => this.startSink());
	}

	/** The mx's filesystem: a copy of the machine's, or the files for its own root. */
	private async mxRoot(): Promise<void> {
		if (this.mxRootOptions) writeOwnRootFiles(this.base, this.mxRootOptions);
		else await copyMachineRoot(this.base, this.log);
	}

	private async holder(h: HostName): Promise<void> {
		const own = h === 'mx' ? this.mxRootOptions : undefined;
		const {pid, err} = await startHolder(this.base, h, own, this.started);
		if (own && err().trim()) this.log(err().trim());
		this.holders.set(h, own?.boot === 'systemd' ? await bootedInit(pid, err, this.log) : pid);
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

	private writeZones(): Promise<void> {
		const appended = this.edit ? [this.edit(this.fragments.join('\n'))] : this.fragments;
		return writeZones(this.nsdDir, this.serial, appended);
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
		await this.reloadZones();
	}

	/**
	 * Serves example.test with its appended records passed through `edit` (a fault injected:
	 * a record changed as someone at the registrar would); editZone() without it serves them as
	 * appended again.
	 */
	async editZone(edit?: (appended: string) => string): Promise<void> {
		this.edit = edit;
		await this.reloadZones();
	}

	/** Takes a fragment appendZone() added out again (the same text), and publishes the zones without it. */
	async removeZone(fragment: string): Promise<void> {
		const i = this.fragments.indexOf(fragment.replace(/^\$ORIGIN.*$/gm, (l) => `; (lab: ignored) ${l}`).trimEnd());
		if (i < 0) throw new Error(`[lab] removeZone: not an appended fragment: ${fragment}`);
		this.fragments.splice(i, 1);
		await this.reloadZones();
	}

	/** Bumps the serial of every zone, reloads NSD and waits until it serves the new serial. */
	private async reloadZones(): Promise<void> {
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

	/**
	 * A fresh mx, the rest of the lab kept: every process in the mx's network namespace
	 * (its holder, the daemons a run started) is stopped by pid, and the mx gets a new copy of
	 * the machine's root — as if the server had just been installed. Machine-root mx only.
	 */
	async resetMx(): Promise<void> {
		await this.powerCut();
		await run(['rm', '-rf', '--one-file-system', join(this.base, 'mx')]);
		await copyMachineRoot(this.base, () => {});
		await this.holder('mx');
		await this.mxServices();
	}

	/**
	 * A power cut of the mx: every process in it killed at once (SIGKILL, no daemon shuts down),
	 * its /run and /tmp gone with its mount namespace. Its files stay, as on a disk; boot() brings
	 * the host back. Machine-root mx only.
	 */
	async powerCut(): Promise<void> {
		if (this.mxRootOptions) throw new Error('[lab] only for an mx on the machine root');
		const net = await namedNetInode(NETNS.mx);
		const pids = net ? processesIn(new Set([net])) : [];
		for (const p of pids) {
			try {
				process.kill(p, 'SIGKILL');
			} catch {}
		}
		await killAll(pids);
	}

	/** The mx after a power cut: a new holder on the same files, its syslog; then the daemons enabled in rc2.d, started as a boot would. */
	async boot(daemons: readonly string[]): Promise<ExecResult> {
		await this.holder('mx');
		await this.mxServices();
		const script = `for d in ${daemons.join(' ')}; do if ls /etc/rc2.d | grep -q "^S[0-9][0-9]$d$"; then service "$d" start >/dev/null 2>&1 </dev/null; echo "started $d"; fi; done`;
		return this.sh('mx', script, {timeoutMs: 120_000});
	}

	/** The mx's syslog (smtpd, dovecot, rspamd's filter write there). */
	async mxLog(): Promise<string> {
		if (this.mxRootOptions?.boot === 'systemd') return (await this.exec('mx', ['journalctl', '-q', '--no-pager', '-o', 'short', '-n', '400'])).stdout;
		// Once the bans stage started rsyslog (no systemd: fail2ban reads its files), the daemons log there.
		const lab = await this.readFile('mx', '/var/log/mwlab-syslog.log').catch(() => '');
		const rsyslog = await this.readFile('mx', '/var/log/mail.log').catch(() => '');
		return rsyslog ? `${lab}\n--- /var/log/mail.log (rsyslog) ---\n${rsyslog.split('\n').slice(-400).join('\n')}` : lab;
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
		// Renames only, so that another lab slot restoring it sees the old cache or the new one.
		const old = `${RSPAMD_CACHE}.old-${process.pid}`;
		await run(['mv', '-T', RSPAMD_CACHE, old]);
		if ((await run(['mv', '-T', tmp, RSPAMD_CACHE])).exitCode !== 0) await run(['rm', '-rf', tmp]);
		await run(['rm', '-rf', old]);
	}

	// ------------------------------------------------------------ remote

	private async startSink(): Promise<void> {
		mkdirSync(this.sinkDir, {recursive: true});
		this.spawnDaemon('remote', sinkArgv(this.sinkDir), join(this.base, 'remote/sink.out'));
		for (let i = 0; i < 100; i++) {
			const r = await this.exec('remote', SINK_GREETING, {timeoutMs: 5000});
			if (r.stdout.startsWith('220')) return;
			await sleep(150);
		}
		throw new Error(`[lab] the remote sink did not start: ${readFileSync(join(this.base, 'remote/sink.out'), 'utf8')}`);
	}

	/** Messages the remote sink has stored, oldest first. */
	sinkMessages(): SinkMessage[] {
		return sinkMessages(this.sinkDir);
	}

	/** Waits for a sink message matching the predicate. */
	waitSink(pred: (m: SinkMessage) => boolean, timeoutMs = 30_000): Promise<SinkMessage | undefined> {
		return waitSink(this.sinkDir, pred, timeoutMs);
	}

	/** Runs test/lab/client.py on the remote host: `python3 client.py CMD JSON`, parses its JSON answer. */
	async client<T = Record<string, unknown>>(cmd: string, args: Record<string, unknown> = {}, opts: {host?: HostName; timeoutMs?: number} = {}): Promise<T & {error?: string}> {
		const r = await this.exec(opts.host ?? 'remote', [PYTHON, join(LAB_DIR, 'client.py'), cmd, JSON.stringify({ca: this.clientCa ?? this.caCert, dns: NET.dns, ...args})], {
			timeoutMs: opts.timeoutMs ?? 60_000,
		});
		try {
			return JSON.parse(r.stdout) as T & {error?: string};
		} catch {
			return {error: `client.py ${cmd} exit ${r.exitCode}: ${r.stdout}\n${r.stderr}`} as T & {error?: string};
		}
	}

	// ------------------------------------------------------------ down

	/**
	 * down(), then what is left of the lab, checked while its slot is still held (once released,
	 * the next lab in the slot may get the same namespace inode numbers), then the slot released.
	 */
	async downAndCheck(): Promise<{killed: number[]; left: string[]}> {
		const {killed} = await this.down({keepLock: true});
		const left = await this.leftovers();
		await releaseLock();
		if (holdsLock()) left.push(`lock ${LOCK()} (still ours)`);
		return {killed, left};
	}

	/** Stops every process of the lab (by pid), deletes the namespaces and the lab directory, releases the slot. Idempotent. */
	async down(opts: {keepLock?: boolean} = {}): Promise<{killed: number[]}> {
		if (this.closed) return {killed: []};
		this.closed = true;
		// Everything in the lab's network namespaces: daemons the wizard started, NSD, the sink, the holders.
		const pids = [...new Set([...processesIn(this.netInodes), ...this.started])];
		const killed = await killAll(pids);
		for (const ns of Object.values(NETNS)) await run(['ip', 'netns', 'del', ns]);
		await run(['rm', '-rf', '--one-file-system', this.base]);
		// systemd-nspawn leaves its (empty) propagation directory on the machine.
		if (this.mxRootOptions?.boot) {
			await run(['rm', '-rf', '--one-file-system', nspawnPropagate()]);
			// The booted mx's own cgroups, deepest first (only empty groups can go).
			for (const h of CGROUP_ROOTS) await run(['sh', '-c', 'd="$1/$2"; [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; true', 'sh', h, nspawnMachine()]);
		}
		if (!opts.keepLock) await releaseLock();
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
		if (this.mxRootOptions?.boot) spawnSync('rm', ['-rf', '--one-file-system', nspawnPropagate()], {stdio: 'ignore'});
		releaseLockSync();
	}

	/**
	 * What is left of this lab (empty when down() did its job). Only this lab's own, and only
	 * meaningful while the slot is held (downAndCheck): the next lab in the slot reuses the names.
	 * A namespace's inode number is reused once it is freed, and a lab in another slot may be
	 * created right now: a namespace another slot has named is that lab's, not ours. (One of ours
	 * kept alive by a leftover process keeps its number, and has no name any more.)
	 */
	async leftovers(): Promise<string[]> {
		const left: string[] = [];
		const ns: string[] = [];
		const own = Object.values(NETNS) as string[];
		const others = new Set<string>();
		for (const name of (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!)) {
			const inode = name ? await namedNetInode(name) : undefined;
			if (!inode) continue;
			if (!own.includes(name)) others.add(inode);
			else if (this.netInodes.has(inode)) ns.push(name);
		}
		if (ns.length) left.push(`namespaces: ${ns.join(' ')}`);
		const ours = new Set([...this.netInodes].filter((i) => !others.has(i)));
		const procs = processesIn(ours);
		if (procs.length) left.push(`processes in lab namespaces: ${procs.join(' ')}`);
		const started = this.started.filter(alive);
		if (started.length) left.push(`processes started by the lab: ${started.join(' ')}`);
		const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
			.split('\n')
			.filter((l) => l.includes(this.base) || l.includes(`${nspawnPropagate()} `) || (own.some((n) => l.includes(`/run/netns/${n} `)) && [...ours].some((i) => l.includes(i))));
		if (mounts.length) left.push(`mounts: ${mounts.join(' | ')}`);
		if (existsSync(this.base)) left.push(`directory ${this.base}`);
		if (this.mxRootOptions?.boot) for (const h of CGROUP_ROOTS) if (existsSync(join(h, nspawnMachine()))) left.push(`cgroup ${join(h, nspawnMachine())}`);
		if ((await run(['ip', 'link', 'show', 'mwbr0'])).exitCode === 0) left.push('link mwbr0 on the machine');
		return left;
	}
}
