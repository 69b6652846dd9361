// One lab at a time on a machine: the lock file, what the lab needs to run at all, and the
// cleanup of what a crashed run left behind.
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import {rm} from 'node:fs/promises';
import {NETNS} from './net.ts';
import {alive, killAll, namedNetInode, processesIn, PYTHON, run, sleep} from './proc.ts';

export const LOCK = '/run/mwlab.lock';
/** Every lab's directory is /tmp/mwlab-PID-XXXXXX. */
export const BASE_PREFIX = '/tmp/mwlab-';

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
export async function takeLock(log: (l: string) => void, waitMs = LAB_LOCK_WAIT_MS): Promise<void> {
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

/** Whether this process holds the lock. */
export function holdsLock(): boolean {
	try {
		return readFileSync(LOCK, 'utf8').trim() === String(process.pid);
	} catch {
		return false;
	}
}

/** Gives the lock back (if it is ours). */
export async function releaseLock(): Promise<void> {
	if (holdsLock()) await rm(LOCK, {force: true});
}

/** releaseLock() for process exit. */
export function releaseLockSync(): void {
	if (holdsLock()) spawnSync('rm', ['-f', LOCK]);
}
