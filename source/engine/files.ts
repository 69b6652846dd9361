// The only code that writes files: backup, temp file, validate, rename, owner/mode,
// verify after, restore on failure. Every file it reads for a plan or writes must be a regular
// file (never followed through a symbolic link), in a real directory; temp files get random
// names opened exclusively; owner and mode are set on the open file, never by path.
import {constants} from 'node:fs';
import {generateKeyPairSync, randomBytes} from 'node:crypto';
import {lstat, mkdir, open, readFile, rm} from 'node:fs/promises';
import type {Stats} from 'node:fs';
import {dirname, join} from 'node:path';
import {commit, replaceFile, writeTemp} from './durable.ts';
import type {Exec} from './exec.ts';
import {StepError, type Cmd, type FileAction, type Generated} from './types.ts';

export const BACKUP_DIR = '/var/backups/mailwizard';

const {O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY} = constants;

export function onRoot(root: string, path: string): string {
	return root === '/' ? path : join(root, path);
}

/** For files that are not secrets and not written (os-release, passwd): links are followed. */
export async function readText(root: string, path: string): Promise<string | undefined> {
	try {
		return await readFile(onRoot(root, path), 'utf8');
	} catch {
		return undefined;
	}
}

function kindOf(s: Stats): string {
	if (s.isSymbolicLink()) return 'a symbolic link';
	if (s.isDirectory()) return 'a directory';
	if (s.isFIFO()) return 'a named pipe';
	if (s.isSocket()) return 'a socket';
	return 'a device or special file';
}

/** The message for a path mailwizard will not read or write (a planted link, a FIFO). */
export function notRegular(path: string, what: string): string {
	return `${path} is ${what}, not a regular file: mailwizard refuses to read or write through it (someone may have planted it). Nothing was changed; look at it, remove it, and run again.`;
}

async function lstatOf(path: string): Promise<Stats | undefined> {
	try {
		return await lstat(path);
	} catch (error) {
		if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
		throw error;
	}
}

/**
 * Reads a file that must be a regular file (every file the engine writes, every secret):
 * opened without following a link and without blocking, checked on the open descriptor.
 * Absent: undefined. A link, a FIFO, a directory: StepError. Not readable (EACCES): thrown.
 */
export async function readRegular(root: string, path: string): Promise<string | undefined> {
	const full = onRoot(root, path);
	let fh;
	try {
		fh = await open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
		if (code === 'ELOOP') throw new StepError(notRegular(path, 'a symbolic link'));
		throw error;
	}
	try {
		const s = await fh.stat();
		if (!s.isFile()) throw new StepError(notRegular(path, kindOf(s)));
		return await fh.readFile('utf8');
	} finally {
		await fh.close();
	}
}

/**
 * Reads name from a directory another user may control (it could swap the directory for a
 * link between a check and the read): the directory is opened without following a link and
 * the file is opened through that open directory (/proc/self/fd), never through a link either.
 */
export async function readFromDir(root: string, dir: string, name: string): Promise<{text: string; uid: number; nlink: number} | undefined> {
	const full = onRoot(root, dir);
	const dirFh = await open(full, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
		if (error.code === 'ENOENT') return undefined;
		if (error.code === 'ELOOP' || error.code === 'ENOTDIR')
			throw new StepError(
				`${dir} is not a directory (a symbolic link or a file): mailwizard refuses to read through it (someone may have planted it). Nothing was changed; look at it, remove it, and run again.`,
			);
		throw error;
	});
	if (!dirFh) return undefined;
	try {
		const via = `/proc/self/fd/${dirFh.fd}`;
		if (!(await lstatOf(via))) throw new StepError(`cannot read ${join(dir, name)} safely: /proc is not mounted`);
		const fh = await open(join(via, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
			if (error.code === 'ENOENT') return undefined;
			if (error.code === 'ELOOP') throw new StepError(notRegular(join(dir, name), 'a symbolic link'));
			throw error;
		});
		if (!fh) return undefined;
		try {
			const s = await fh.stat();
			if (!s.isFile()) throw new StepError(notRegular(join(dir, name), kindOf(s)));
			return {text: await fh.readFile('utf8'), uid: s.uid, nlink: s.nlink};
		} finally {
			await fh.close();
		}
	} finally {
		await dirFh.close();
	}
}

/** A directory mailwizard writes in or sets up must be a real one, not a link to elsewhere. */
export async function requireRealDir(root: string, path: string): Promise<boolean> {
	const s = await lstatOf(onRoot(root, path));
	if (!s) return false;
	if (!s.isDirectory())
		throw new StepError(`${path} is ${kindOf(s)}, not a directory: mailwizard refuses to write through it (someone may have planted it). Nothing was changed; look at it, remove it, and run again.`);
	return true;
}

export type FileStat = {mode: number; uid: number; gid: number};
/** Owner and mode of the path itself (a link is not followed). */
export async function statFile(root: string, path: string): Promise<FileStat | undefined> {
	try {
		const s = await lstat(onRoot(root, path));
		return {mode: s.mode & 0o7777, uid: s.uid, gid: s.gid};
	} catch {
		return undefined;
	}
}

function idsFrom(text: string | undefined): Map<string, number> {
	const out = new Map<string, number>();
	for (const line of (text ?? '').split('\n')) {
		const f = line.split(':');
		if (f.length >= 3 && f[0]) out.set(f[0], Number(f[2]));
	}
	return out;
}

export async function lookupIds(root: string, owner?: string, group?: string): Promise<{uid?: number; gid?: number}> {
	const users = owner ? idsFrom(await readText(root, '/etc/passwd')) : undefined;
	const groups = group ? idsFrom(await readText(root, '/etc/group')) : undefined;
	const uid = owner ? users!.get(owner) : undefined;
	const gid = group ? groups!.get(group) : undefined;
	if (owner && uid === undefined) throw new Error(`user ${owner} does not exist`);
	if (group && gid === undefined) throw new Error(`group ${group} does not exist`);
	return {uid, gid};
}

export function isGenerated(c: string | Generated): c is Generated {
	return typeof c !== 'string';
}

export function generate(g: Generated): string {
	switch (g.generate) {
		case 'rsa-2048-pkcs8': {
			const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048});
			return privateKey.export({type: 'pkcs8', format: 'pem'}).toString();
		}
	}
}

export function randomKey(bytes = 30): string {
	return randomBytes(bytes).toString('base64');
}

/** Whether a file action would change anything: content, mode, owner. Refuses a link or a FIFO. */
export async function fileDiffers(root: string, a: FileAction): Promise<{content: boolean; meta: boolean; old?: string; unreadable?: boolean}> {
	await requireRealDir(root, dirname(a.path));
	let old: string | undefined;
	try {
		old = await readRegular(root, a.path);
	} catch (error) {
		if (error instanceof StepError) throw error;
		// Exists but cannot be read (a dry run as a normal user): compared at apply time.
		return {content: true, meta: true, unreadable: true};
	}
	if (old === undefined) return {content: true, meta: true};
	const content = isGenerated(a.content) ? false : old !== a.content;
	const s = await statFile(root, a.path);
	let meta = !s || s.mode !== a.mode;
	if (!meta && (a.owner || a.group)) {
		try {
			const {uid, gid} = await lookupIds(root, a.owner, a.group);
			meta = (uid !== undefined && uid !== s!.uid) || (gid !== undefined && gid !== s!.gid);
		} catch {
			meta = true;
		}
	}
	return {content, meta, old};
}

export class FileError extends Error {
	constructor(
		message: string,
		readonly command?: string,
		readonly exitCode?: number,
		readonly tail?: string,
	) {
		super(message);
	}
}

async function runCheck(exec: Exec, cmd: Cmd, what: string): Promise<void> {
	const r = await exec.run(cmd);
	if (!(cmd.okCodes ?? [0]).includes(r.exitCode)) {
		const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-12).join('\n');
		throw new FileError(`${what} failed (exit ${r.exitCode})`, cmd.argv.join(' '), r.exitCode, tail);
	}
}

/** Reads a regular file (never through a link) with its owner and mode. */
async function readWithStat(full: string, path: string): Promise<{data: Buffer; s: Stats}> {
	const fh = await open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
		throw error.code === 'ELOOP' ? new FileError(notRegular(path, 'a symbolic link')) : error;
	});
	try {
		const s = await fh.stat();
		if (!s.isFile()) throw new FileError(notRegular(path, kindOf(s)));
		return {data: await fh.readFile(), s};
	} finally {
		await fh.close();
	}
}

/** Creates a directory (and its parents) when absent; refuses one that is a link or not a directory. */
async function makeRealDir(full: string, path: string, mode?: number): Promise<void> {
	await mkdir(full, {recursive: true, mode});
	const s = await lstat(full);
	if (!s.isDirectory())
		throw new FileError(`${path} is ${kindOf(s)}, not a directory: mailwizard refuses to write through it (someone may have planted it). Nothing was changed; look at it, remove it, and run again.`);
}

/** Keeps a copy of the file being replaced, with its owner and mode, in a root-only directory. */
async function backupOf(root: string, path: string, backupStamp: string): Promise<string> {
	const backup = onRoot(root, join(BACKUP_DIR, backupStamp, path));
	await makeRealDir(dirname(backup), join(BACKUP_DIR, backupStamp, dirname(path)), 0o700);
	const {data, s} = await readWithStat(onRoot(root, path), path);
	// The first backup of a run is the state before the run: kept when a step writes a file twice.
	if (await lstatOf(backup)) return backup;
	replaceFile(backup, data, {mode: s.mode & 0o7777, uid: s.uid, gid: s.gid});
	return backup;
}

/**
 * Writes a file the careful way. Returns the backup path of the replaced file, if any.
 * A failed validation leaves the old file untouched; a failed verify restores it.
 */
export async function writeFileAction(root: string, exec: Exec, a: FileAction, backupStamp: string): Promise<string | undefined> {
	const target = onRoot(root, a.path);
	await makeRealDir(dirname(target), dirname(a.path));
	const content = isGenerated(a.content) ? generate(a.content) : a.content;
	// Placeholders (a password not known on this run) carry NUL: they may be printed, never written.
	if (content.includes('\0')) throw new FileError(`refusing to write ${a.path}: it would contain a placeholder (a password that is not known on this run); give the password file and run again`);
	const existing = await lstatOf(target);
	if (existing && !existing.isFile()) throw new FileError(notRegular(a.path, kindOf(existing)));
	const tmp = writeTemp(target, content, a.mode, await lookupIds(root, a.owner, a.group));
	try {
		if (a.validate) await runCheck(exec, {argv: a.validate.map((x) => x.replace('%s', tmp))}, `checking the new ${a.path} with ${a.validate[0]}`);
	} catch (error) {
		await rm(tmp, {force: true});
		throw error;
	}
	const backup = existing
		? await backupOf(root, a.path, backupStamp).catch(async (error: unknown) => {
				await rm(tmp, {force: true});
				throw error;
			})
		: undefined;
	commit(tmp, target);
	try {
		for (const v of a.verify ?? []) await runCheck(exec, v, `verifying ${a.path} with ${v.argv.slice(0, 2).join(' ')}`);
	} catch (error) {
		await restore(root, [{path: a.path, backup}]);
		throw error;
	}
	return backup;
}

/** Restores files written earlier in a failed step (newest first), with their old owner and mode. */
export async function restore(root: string, written: ReadonlyArray<{path: string; backup?: string}>): Promise<void> {
	for (const w of [...written].reverse()) {
		if (w.backup) {
			const {data, s} = await readWithStat(w.backup, w.backup);
			replaceFile(onRoot(root, w.path), data, {mode: s.mode & 0o7777, uid: s.uid, gid: s.gid});
		} else await rm(onRoot(root, w.path), {force: true});
	}
}

/** Creates or fixes a directory: its owner and mode are set on the opened directory, never through a link. */
export async function ensureDir(root: string, path: string, mode: number, owner?: string, group?: string): Promise<void> {
	const target = onRoot(root, path);
	await makeRealDir(target, path);
	const {uid, gid} = await lookupIds(root, owner, group);
	const fh = await open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
		throw error.code === 'ELOOP' || error.code === 'ENOTDIR'
			? new FileError(`${path} is a symbolic link, not a directory: mailwizard refuses to change it. Nothing was changed; look at it, remove it, and run again.`)
			: error;
	});
	try {
		if (uid !== undefined || gid !== undefined) await fh.chown(uid ?? -1, gid ?? -1);
		await fh.chmod(mode);
	} finally {
		await fh.close();
	}
}

export async function dirDiffers(root: string, path: string, mode: number, owner?: string, group?: string): Promise<boolean> {
	if (!(await requireRealDir(root, path))) return true;
	const s = await statFile(root, path);
	if (!s || s.mode !== mode) return true;
	try {
		const {uid, gid} = await lookupIds(root, owner, group);
		return (uid !== undefined && uid !== s.uid) || (gid !== undefined && gid !== s.gid);
	} catch {
		return true;
	}
}

/**
 * Deletes a file mailwizard wrote and no longer wants (a retired key): only a regular file in
 * a real directory (a link in its place is refused, never followed). True when it was there.
 */
export async function removeRegular(root: string, path: string): Promise<boolean> {
	await requireRealDir(root, dirname(path));
	const s = await lstatOf(onRoot(root, path));
	if (!s) return false;
	if (!s.isFile()) throw new StepError(notRegular(path, kindOf(s)));
	await rm(onRoot(root, path));
	return true;
}
