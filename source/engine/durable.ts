// The one way mailwizard replaces a file (configuration, keys, backups, its state): the data
// goes to a temporary file in the same directory (random name, opened exclusively, never
// through a link), is flushed to disk with its owner and mode, renamed over the target, and the
// directory is flushed so the rename survives a power cut. A reader sees the old file or the
// new one, never half of one; a failure (a full disk) leaves the old file and no temporary file.
import {closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync} from 'node:fs';
import {randomBytes} from 'node:crypto';
import {basename, dirname, join} from 'node:path';

const {O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY} = constants;

export type Owner = {readonly uid?: number; readonly gid?: number};

/** A write that failed because the filesystem is full (or over quota): said plainly, with what to do. */
export class DiskFullError extends Error {
	override name = 'DiskFullError';
	constructor(
		readonly file: string,
		readonly code: string,
	) {
		super(
			`no space left on the filesystem of ${dirname(file)} while writing ${file} (${code}): the previous ${file} is unchanged and nothing was left half-written. Free some space (df -h ${dirname(file)}), then run mailwizard again.`,
		);
	}
}

function explained(error: unknown, file: string): unknown {
	const code = (error as NodeJS.ErrnoException).code ?? '';
	return code === 'ENOSPC' || code === 'EDQUOT' ? new DiskFullError(file, code) : error;
}

/** Temporary files of a target: `${target}.mailwizard-RANDOM.tmp`. */
export const TEMP_SUFFIX = /\.mailwizard-[0-9a-f]{24}\.tmp$/;

/** fsync a directory, so a rename in it survives a crash. */
export function syncDir(dir: string): void {
	const fd = openSync(dir, O_RDONLY | O_DIRECTORY);
	try {
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
}

function writeAll(fd: number, data: Buffer): void {
	for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
}

/**
 * Creates the temporary file of target exclusively, with owner and mode set on the open file,
 * and the data flushed to disk. Returns its path; on any failure it is removed and the error
 * (a full disk as DiskFullError) thrown.
 */
/** Temporary files of this target left by a run that was killed before its rename: removed. */
function dropStaleTemps(target: string): void {
	const name = basename(target);
	let entries: string[] = [];
	try {
		entries = readdirSync(dirname(target));
	} catch {
		return;
	}
	for (const e of entries) if (e.startsWith(`${name}.mailwizard-`) && TEMP_SUFFIX.test(e)) rmSync(join(dirname(target), e), {force: true});
}

export function writeTemp(target: string, data: string | Buffer, mode: number, who: Owner = {}): string {
	dropStaleTemps(target);
	const tmp = `${target}.mailwizard-${randomBytes(12).toString('hex')}.tmp`;
	let fd: number;
	try {
		fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
	} catch (error) {
		throw explained(error, target);
	}
	try {
		writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
		if (who.uid !== undefined || who.gid !== undefined) fchownSync(fd, who.uid ?? -1, who.gid ?? -1);
		fchmodSync(fd, mode);
		fsyncSync(fd);
	} catch (error) {
		closeSync(fd);
		rmSync(tmp, {force: true});
		throw explained(error, target);
	}
	closeSync(fd);
	return tmp;
}

/** Renames the temporary file over target and flushes the directory; the temporary file never remains. */
export function commit(tmp: string, target: string): void {
	try {
		renameSync(tmp, target);
	} catch (error) {
		rmSync(tmp, {force: true});
		throw explained(error, target);
	}
	syncDir(dirname(target));
}

/** Owner and mode of an existing regular file (a link is not followed), for a replacement that keeps them. */
function existingMeta(target: string): {mode: number; uid: number; gid: number} | undefined {
	let fd: number;
	try {
		fd = openSync(target, O_RDONLY | O_NOFOLLOW | constants.O_NONBLOCK);
	} catch {
		return undefined;
	}
	try {
		const s = fstatSync(fd);
		return s.isFile() ? {mode: s.mode & 0o7777, uid: s.uid, gid: s.gid} : undefined;
	} finally {
		closeSync(fd);
	}
}

/**
 * Replaces (or creates) target with data durably. Without a mode the file keeps the mode and
 * owner it has (a new one is created 0600, owned by this user).
 */
export function replaceFile(target: string, data: string | Buffer, o: {readonly mode?: number} & Owner = {}): void {
	const old = o.mode === undefined ? existingMeta(target) : undefined;
	const mode = o.mode ?? old?.mode ?? 0o600;
	const who = o.mode === undefined && old ? {uid: old.uid, gid: old.gid} : {uid: o.uid, gid: o.gid};
	commit(writeTemp(target, data, mode, who), target);
}
