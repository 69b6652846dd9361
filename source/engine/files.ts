// The only code that writes files: backup, temp file, validate, rename, owner/mode,
// verify after, restore on failure.
import {generateKeyPairSync, randomBytes} from 'node:crypto';
import {chmod, chown, copyFile, mkdir, readFile, rename, rm, stat, writeFile} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import type {Exec} from './exec.ts';
import type {Cmd, FileAction, Generated} from './types.ts';

export const BACKUP_DIR = '/var/backups/mailwizard';

export function onRoot(root: string, path: string): string {
	return root === '/' ? path : join(root, path);
}

export async function readText(root: string, path: string): Promise<string | undefined> {
	try {
		return await readFile(onRoot(root, path), 'utf8');
	} catch {
		return undefined;
	}
}

export type FileStat = {mode: number; uid: number; gid: number};
export async function statFile(root: string, path: string): Promise<FileStat | undefined> {
	try {
		const s = await stat(onRoot(root, path));
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

/** Whether a file action would change anything: content, mode, owner. */
export async function fileDiffers(root: string, a: FileAction): Promise<{content: boolean; meta: boolean; old?: string; unreadable?: boolean}> {
	const old = await readText(root, a.path);
	if (old === undefined) {
		// Exists but cannot be read (a dry run as a normal user): compared at apply time.
		const unreadable = (await statFile(root, a.path)) !== undefined;
		return {content: true, meta: true, unreadable};
	}
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

/**
 * Writes a file the careful way. Returns the backup path of the replaced file, if any.
 * A failed validation leaves the old file untouched; a failed verify restores it.
 */
export async function writeFileAction(root: string, exec: Exec, a: FileAction, backupStamp: string): Promise<string | undefined> {
	const target = onRoot(root, a.path);
	await mkdir(dirname(target), {recursive: true});
	const content = isGenerated(a.content) ? generate(a.content) : a.content;
	// Placeholders (a password not known on this run) carry NUL: they may be printed, never written.
	if (content.includes('\0')) throw new FileError(`refusing to write ${a.path}: it would contain a placeholder (a password that is not known on this run); give the password file and run again`);
	const {uid, gid} = await lookupIds(root, a.owner, a.group);
	const tmp = `${target}.mailwizard-${process.pid}.tmp`;
	await writeFile(tmp, content, {mode: 0o600});
	try {
		if (uid !== undefined || gid !== undefined) await chown(tmp, uid ?? -1, gid ?? -1);
		await chmod(tmp, a.mode);
		if (a.validate) await runCheck(exec, {argv: a.validate.map((x) => x.replace('%s', tmp))}, `checking the new ${a.path} with ${a.validate[0]}`);
	} catch (error) {
		await rm(tmp, {force: true});
		throw error;
	}
	let backup: string | undefined;
	const existed = (await statFile(root, a.path)) !== undefined;
	if (existed) {
		backup = onRoot(root, join(BACKUP_DIR, backupStamp, a.path));
		await mkdir(dirname(backup), {recursive: true, mode: 0o700});
		await copyFile(target, backup);
	}
	await rename(tmp, target);
	try {
		for (const v of a.verify ?? []) await runCheck(exec, v, `verifying ${a.path} with ${v.argv.slice(0, 2).join(' ')}`);
	} catch (error) {
		if (backup) await copyFile(backup, target);
		else await rm(target, {force: true});
		throw error;
	}
	return backup;
}

/** Restores files written earlier in a failed step (newest first). */
export async function restore(root: string, written: ReadonlyArray<{path: string; backup?: string}>): Promise<void> {
	for (const w of [...written].reverse()) {
		if (w.backup) await copyFile(w.backup, onRoot(root, w.path));
		else await rm(onRoot(root, w.path), {force: true});
	}
}

export async function ensureDir(root: string, path: string, mode: number, owner?: string, group?: string): Promise<void> {
	const target = onRoot(root, path);
	await mkdir(target, {recursive: true});
	const {uid, gid} = await lookupIds(root, owner, group);
	if (uid !== undefined || gid !== undefined) await chown(target, uid ?? -1, gid ?? -1);
	await chmod(target, mode);
}

export async function dirDiffers(root: string, path: string, mode: number, owner?: string, group?: string): Promise<boolean> {
	const s = await statFile(root, path);
	if (!s || s.mode !== mode) return true;
	try {
		const {uid, gid} = await lookupIds(root, owner, group);
		return (uid !== undefined && uid !== s.uid) || (gid !== undefined && gid !== s.gid);
	} catch {
		return true;
	}
}
