// One mailwizard per state directory.
import {closeSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {UsageError} from '../exit.ts';

/** Takes the lock of a state directory (a stale lock, whose pid is dead, is taken over); returns its release, safe to call twice. */
export function lock(dir: string): () => void {
	const file = join(dir, 'lock');
	let fd: number;
	try {
		fd = openSync(file, 'wx', 0o600);
	} catch {
		const pid = Number(readFileSync(file, 'utf8').trim());
		let alive = false;
		try {
			process.kill(pid, 0);
			alive = pid !== process.pid;
		} catch {}
		if (alive) throw new UsageError(`another mailwizard (pid ${pid}) is running with the state in ${dir}`);
		rmSync(file, {force: true});
		fd = openSync(file, 'wx', 0o600);
	}
	writeFileSync(fd, `${process.pid}\n`);
	closeSync(fd);
	let held = true;
	return () => {
		if (held) rmSync(file, {force: true});
		held = false;
	};
}
