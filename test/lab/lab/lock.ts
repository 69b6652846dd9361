// A few labs at a time on a machine, one per slot: the slot's lock file, what the lab needs
// to run at all, and the cleanup of what a crashed run left behind in the slot.
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import {rm} from 'node:fs/promises';
import {NETNS, useSlot} from './net.ts';
import {alive, killAll, namedNetInode, processesIn, PYTHON, run, sleep} from './proc.ts';

/**
 * How many labs may run at once on this machine (MWLAB_SLOTS, default 2: ava runs two test
 * files at a time). Each slot has its own lock and namespace names.
 */
export const SLOTS = Math.max(1, Number(process.env.MWLAB_SLOTS) || 2);
/** Slot N's lock (slot 0 keeps the historical name). */
export const lockPath = (slot: number) => (slot ? `/run/mwlab-${slot}.lock` : '/run/mwlab.lock');
/** The slot this process's lab took (0 until takeLock). */
let slotTaken = 0;
/** The lock file of this process's slot. */
export const LOCK = () => lockPath(slotTaken);
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
 * How long a lab run waits for a free slot: `npm test` runs its files two at a time,
 * so a file may wait for most of the others when the machine has fewer slots.
 */
export const LAB_LOCK_WAIT_MS = 30 * 60_000;

/** Takes the slot's lock if it is free (or its holder is dead): true when taken, else the live holder's pid. */
async function tryLock(slot: number): Promise<true | number> {
	const path = lockPath(slot);
	for (;;) {
		try {
			writeFileSync(path, `${process.pid}\n`, {flag: 'wx'});
			return true;
		} catch (e) {
			if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
		}
		const holder = Number(readFileSync(path, 'utf8').trim() || 0);
		if (holder && alive(holder)) return holder;
		await rm(path, {force: true});
	}
}

/** A free slot for this process's lab (its names follow it): waits while every slot is in use. */
export async function takeLock(log: (l: string) => void, waitMs = LAB_LOCK_WAIT_MS): Promise<void> {
	const end = Date.now() + waitMs;
	let said = false;
	for (;;) {
		const holders: number[] = [];
		for (let slot = 0; slot < SLOTS; slot++) {
			const got = await tryLock(slot);
			if (got === true) {
				slotTaken = slot;
				useSlot(slot);
				if (slot || said) log(`lab slot ${slot} (namespaces ${Object.values(NETNS).join(', ')})`);
				return;
			}
			holders.push(got);
		}
		if (Date.now() > end) throw new Error(`[lab] every lab slot (${SLOTS}) is still held after ${Math.round(waitMs / 1000)} s, by pids ${holders.join(' ')}`);
		if (!said) log(`waiting for a lab slot: ${SLOTS} in use by pids ${holders.join(' ')}`);
		said = true;
		await sleep(1000);
	}
}

/** Removes what a crashed run left behind. Refuses (throws) while another live lab holds the lock. */
export async function cleanupStale(log: (l: string) => void = () => {}): Promise<void> {
	const holder = Number(existsSync(LOCK()) ? readFileSync(LOCK(), 'utf8').trim() : 0);
	if (holder && holder !== process.pid && alive(holder)) throw new Error(`[lab] another lab run (pid ${holder}) holds ${LOCK()}`);
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
		return readFileSync(LOCK(), 'utf8').trim() === String(process.pid);
	} catch {
		return false;
	}
}

/** Gives the lock back (if it is ours). */
export async function releaseLock(): Promise<void> {
	if (holdsLock()) await rm(LOCK(), {force: true});
}

/** releaseLock() for process exit. */
export function releaseLockSync(): void {
	if (holdsLock()) spawnSync('rm', ['-f', LOCK()]);
}
