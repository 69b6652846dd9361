// The certificate and key files the answers name (own files, not ACME), looked at the run's
// edge like the password files: a path that exists but can never be a certificate (a
// directory, a FIFO that would block the run, a device, a huge file) is bad input, refused
// naming its key before anything is written. Whether the file is a valid certificate for the
// host is the TLS stage's check; a file not there yet is too (the stage says what to do).
import {statSync} from 'node:fs';
import {join} from 'node:path';
import {MAX_CERT} from '../platform/safe-read.ts';
import {AnswersError, type Answers} from './types.ts';

function kind(path: string): string | undefined {
	let s;
	try {
		s = statSync(path); // a link is followed: certbot's live/ paths are links
	} catch {
		return undefined; // absent or not ours to look at: the TLS stage reports it
	}
	if (s.isFile()) return s.size > MAX_CERT ? `is larger than ${MAX_CERT / 1024 / 1024} MiB: not a certificate or key` : undefined;
	const what = s.isDirectory() ? 'a directory' : s.isFIFO() ? 'a FIFO (named pipe)' : s.isCharacterDevice() || s.isBlockDevice() ? 'a device' : s.isSocket() ? 'a socket' : 'not a regular file';
	return `is ${what}, not a certificate or key file`;
}

/** What is wrong with tls.cert and tls.key as files: "key: message" lines, none when fine. */
export function certFileProblems(a: Answers, root = '/'): string[] {
	if (a.tls.acme) return [];
	const out: string[] = [];
	for (const [key, path] of [
		['tls.cert', a.tls.cert],
		['tls.key', a.tls.key],
	] as const) {
		const problem = kind(root === '/' ? path : join(root, path));
		if (problem) out.push(new AnswersError(key, `${path} ${problem}`).message);
	}
	return out;
}

/** Throws the first problem as an AnswersError (exit 2, nothing written). */
export function checkCertFiles(a: Answers, root = '/'): void {
	const [first] = certFileProblems(a, root);
	if (first) throw new AnswersError(first.slice(0, first.indexOf(':')), first.slice(first.indexOf(':') + 2));
}
