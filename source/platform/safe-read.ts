// Reading a file an operator named (answers, password files, certificates) without
// trusting what is at that path: opened without blocking (a FIFO would hang the run)
// and, unless asked, without following a final symlink; then fstat on the open file:
// only a regular file, only up to a size cap (/dev/zero would eat the memory). A
// private file (a password) must not be readable or writable by group or others.
import {closeSync, constants, fstatSync, openSync, readSync, type Stats} from 'node:fs';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Caps for what mailwizard reads: passwords and answers are small, certificate chains larger. */
export const MAX_SMALL = 64 * KiB;
export const MAX_CERT = MiB;

export type SafeReadOptions = {
	/** Refuse a file larger than this many bytes. */
	readonly maxBytes: number;
	/** A secret: owned by root or by the user running mailwizard, mode without group/other bits. */
	readonly private?: boolean;
	/** Follow a symlink at the last component (certbot's live/ paths are symlinks). Default: refuse it. */
	readonly followLinks?: boolean;
};

export type SafeFile = {readonly text: string; readonly mode: number; readonly uid: number; readonly size: number};

/**
 * Why a file was refused. `code` is the errno code (ENOENT, EACCES, ELOOP ...) when the
 * system refused, else NOTFILE, TOOBIG, NOTPRIVATE or NOTOWNER; `reason` says it in words
 * (with the fix when there is one), and the message is the file name and the reason.
 */
export class UnsafeFileError extends Error {
	constructor(
		readonly file: string,
		readonly code: string,
		readonly reason: string,
	) {
		super(/^E[A-Z]+$/.test(reason) ? `cannot read ${file}: ${reason}` : `${file} ${reason}`);
		this.name = 'UnsafeFileError';
	}
}

function kind(st: Stats): string {
	if (st.isFIFO()) return 'a FIFO (named pipe)';
	if (st.isCharacterDevice()) return 'a character device';
	if (st.isBlockDevice()) return 'a block device';
	if (st.isSocket()) return 'a socket';
	if (st.isDirectory()) return 'a directory';
	return 'not a regular file';
}

function size(n: number): string {
	return n >= MiB ? `${Math.round(n / MiB)} MiB` : `${Math.round(n / KiB)} KiB`;
}

function openFlags(followLinks: boolean | undefined): number {
	return constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (followLinks ? 0 : constants.O_NOFOLLOW);
}

function openOrExplain(file: string, options: SafeReadOptions): number {
	try {
		return openSync(file, openFlags(options.followLinks));
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
		if (code === 'ELOOP' && !options.followLinks) throw new UnsafeFileError(file, code, 'is a symbolic link: give the path of the file itself');
		throw new UnsafeFileError(file, code, code);
	}
}

function checkStat(file: string, st: Stats, options: SafeReadOptions): void {
	if (!st.isFile()) throw new UnsafeFileError(file, 'NOTFILE', `is ${kind(st)}, not a regular file`);
	if (st.size > options.maxBytes) throw new UnsafeFileError(file, 'TOOBIG', `is larger than ${size(options.maxBytes)}`);
	if (!options.private) return;
	const uid = process.getuid?.();
	if (st.uid !== 0 && st.uid !== uid) throw new UnsafeFileError(file, 'NOTOWNER', `belongs to another user (uid ${st.uid}): chown root ${file}`);
	if (st.mode & 0o066) throw new UnsafeFileError(file, 'NOTPRIVATE', `can be read or written by group or others (mode ${(st.mode & 0o777).toString(8).padStart(3, '0')}): chmod 600 ${file}`);
}

/** Reads at most maxBytes + 1 (a file that grows after fstat is still caught). */
function readCapped(fd: number, file: string, maxBytes: number): Buffer {
	const buffer = Buffer.alloc(maxBytes + 1);
	let length = 0;
	for (;;) {
		const n = readSync(fd, buffer, length, buffer.length - length, null);
		if (n === 0) break;
		length += n;
		if (length > maxBytes) throw new UnsafeFileError(file, 'TOOBIG', `is larger than ${size(maxBytes)}`);
	}
	return buffer.subarray(0, length);
}

/** The file's text (UTF-8) after the checks above; throws UnsafeFileError otherwise. */
export function safeReadFile(file: string, options: SafeReadOptions): SafeFile {
	const fd = openOrExplain(file, options);
	try {
		const st = fstatSync(fd);
		checkStat(file, st, options);
		const text = readCapped(fd, file, options.maxBytes).toString('utf8');
		return {text, mode: st.mode & 0o7777, uid: st.uid, size: st.size};
	} catch (error) {
		if (error instanceof UnsafeFileError) throw error;
		const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
		throw new UnsafeFileError(file, code, code);
	} finally {
		closeSync(fd);
	}
}
