// Password files, read at the run's edge (after validation, before apply): only a
// regular file, small, owned by root (or the running user) and private to its owner.
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
