// Password files, read at the run's edge (after validation, before apply): only a
// regular file, small, owned by root (or the running user) and private to its owner.
import {lstatSync} from 'node:fs';
import {MAX_SMALL, UnsafeFileError, safeReadFile} from '../platform/safe-read.ts';
import {AnswersError, type Answers} from './types.ts';

export const MIN_PASSWORD = 8;

/** The password in a file: one line, the newline not part of it. */
export function readPasswordFile(file: string, key: string): string {
	let text: string;
	try {
		text = safeReadFile(file, {maxBytes: MAX_SMALL, private: true}).text;
	} catch (error) {
		if (error instanceof UnsafeFileError) throw new AnswersError(key, error.message);
		throw error;
	}
	const password = text.replace(/\r?\n$/, '');
	if (password.length === 0) throw new AnswersError(key, `${file} is empty`);
	if (/[\n\r\0]/.test(password)) throw new AnswersError(key, `${file} must hold one line (the password, then a newline)`);
	if (password.length < MIN_PASSWORD) throw new AnswersError(key, `the password is shorter than ${MIN_PASSWORD} characters`);
	return password;
}

/** The answers with each user's password_file read into memory (never saved). */
export function readPasswordFiles(a: Answers): Answers {
	return {...a, users: a.users.map((u, i) => (u.passwordFile ? {...u, password: readPasswordFile(u.passwordFile, `users[${i}].password_file`)} : u))};
}

/**
 * What a dry run can say about each password file. As root the file is read (the password
 * stays in memory and is dropped); otherwise only lstat: a regular file, private, owned by
 * root or this user, not too short. A file this user cannot even stat is checked as root.
 * Returns the problems (bad input) and the notes (what could not be checked).
 */
export function checkPasswordFiles(a: Answers, asRoot = process.getuid?.() === 0): {problems: string[]; notes: string[]} {
	const problems: string[] = [];
	const notes: string[] = [];
	a.users.forEach((u, i) => {
		if (!u.passwordFile) return;
		const key = `users[${i}].password_file`;
		if (asRoot) {
			try {
				readPasswordFile(u.passwordFile, key);
			} catch (error) {
				if (error instanceof AnswersError) problems.push(error.message);
				else throw error;
			}
			return;
		}
		const r = statPasswordFile(u.passwordFile);
		if (r === 'EACCES') notes.push(`${key}: ${u.passwordFile} cannot be looked at by this user; it is checked when mailwizard runs as root`);
		else if (r) problems.push(`${key}: ${r}`);
	});
	return {problems, notes};
}

/** The checks of readPasswordFile that need no reading: undefined when they pass. */
function statPasswordFile(file: string): string | undefined {
	let st;
	try {
		st = lstatSync(file);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
		if (code === 'EACCES') return code;
		return code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}: ${code}`;
	}
	if (st.isSymbolicLink()) return `${file} is a symbolic link: give the path of the file itself`;
	if (!st.isFile()) return `${file} is not a regular file`;
	if (st.size > MAX_SMALL) return `${file} is too large for a password`;
	const uid = process.getuid?.();
	if (st.uid !== 0 && st.uid !== uid) return `${file} belongs to another user (uid ${st.uid}): chown root ${file}`;
	if (st.mode & 0o066) return `${file} can be read or written by group or others (mode ${(st.mode & 0o777).toString(8).padStart(3, '0')}): chmod 600 ${file}`;
	if (st.size === 0) return `${file} is empty`;
	if (st.size < MIN_PASSWORD) return `the password in ${file} is shorter than ${MIN_PASSWORD} characters (the file holds ${st.size} bytes)`;
	return undefined;
}
