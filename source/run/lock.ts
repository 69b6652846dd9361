// One mailwizard per state directory. The lock file holds the pid of its holder from the
// moment it exists: the pid goes into a temporary file (durable.ts), which is then hard-linked
// as "lock" (link fails if a lock exists: of two starting at once, exactly one wins). A lock
// whose process is gone (a crash, a power cut) is moved aside, again atomically, and taken.
import {linkSync, readFileSync, renameSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {writeTemp} from '../engine/durable.ts';
import {UsageError} from '../exit.ts';

/** The pid in a lock file; undefined when it is gone or holds no pid (a lock of an older version cut short). */
function holderOf(file: string): number | undefined {
	try {
		const pid = Number(readFileSync(file, 'utf8').trim());
		return Number.isInteger(pid) && pid > 0 ? pid : undefined;
	} catch {
		return undefined;
	}
}

function alive(pid: number): boolean {
	if (pid === process.pid) return false;
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

function refuse(pid: number, dir: string): never {
	throw new UsageError(`another mailwizard (pid ${pid}) is running with the state in ${dir}: nothing was changed. Wait until it ends (or stop it: kill ${pid}), then run this again.`);
}

/** Moves a stale lock aside: only one of several processes doing this at once gets it. False when it was gone already. */
function moveAside(file: string, stale: number | undefined, dir: string): boolean {
	const aside = `${file}.stale-${process.pid}`;
	try {
		renameSync(file, aside);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
		throw error;
	}
	const moved = holderOf(aside);
	if (moved !== stale && moved !== undefined && alive(moved)) {
		// Another process took the stale lock between our look and our move: it is theirs.
		try {
			linkSync(aside, file);
		} finally {
			rmSync(aside, {force: true});
		}
		refuse(moved, dir);
	}
	rmSync(aside, {force: true});
	return true;
}

/** Takes the lock of a state directory (a stale lock, whose pid is dead, is taken over); returns its release, safe to call twice. */
export function lock(dir: string): () => void {
	const file = join(dir, 'lock');
	const tmp = writeTemp(file, `${process.pid}\n`, 0o600);
	try {
		for (let attempt = 0; ; attempt++) {
			try {
				linkSync(tmp, file);
				break;
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw error;
			}
			const pid = holderOf(file);
			if (pid !== undefined && alive(pid)) refuse(pid, dir);
			moveAside(file, pid, dir);
		}
	} finally {
		rmSync(tmp, {force: true});
	}
	let held = true;
	return () => {
		if (held && holderOf(file) === process.pid) rmSync(file, {force: true});
		held = false;
	};
}

/**
 * Refuses at once (exit 2, nothing read further, nothing written) when another mailwizard holds
 * the lock of this state directory: called first by every command that changes the system.
 */
export function refuseIfLocked(dir: string): void {
	const pid = holderOf(join(dir, 'lock'));
	if (pid !== undefined && alive(pid)) refuse(pid, dir);
}
