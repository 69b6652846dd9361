// Issue 14.6: files named by the operator are read without trusting what is at the path.
import test from 'ava';
import {execFileSync, spawn} from 'node:child_process';
import {chmodSync, chownSync, mkdtempSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {MAX_SMALL, UnsafeFileError, safeReadFile} from '../../source/platform/safe-read.ts';

function scratch(): string {
	return mkdtempSync(join(tmpdir(), 'mw-safe-'));
}

function fifo(dir: string, name = 'fifo'): string {
	const p = join(dir, name);
	execFileSync('mkfifo', [p]);
	return p;
}

/** The real CLI from source, bounded: a hung read fails the test instead of hanging it. */
async function cli(args: string[]): Promise<{code: number | null; err: string; ms: number}> {
	const started = Date.now();
	const child = spawn(process.execPath, ['--import=tsx', 'source/bin.ts', ...args], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}});
	let err = '';
	child.stderr.on('data', (d: Buffer) => (err += d.toString()));
	child.stdout.resume();
	const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
	const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
	clearTimeout(timer);
	return {code, err, ms: Date.now() - started};
}

const answersWith = (dir: string, passwordFile: string): string => {
	const file = join(dir, `answers-${Math.random().toString(36).slice(2)}.yaml`);
	writeFileSync(
		file,
		`domain: example.test\nhostname: mail.example.test\nipv4: 192.0.2.10\ntls: {cert: /etc/ssl/c.pem, key: /etc/ssl/k.pem}\nusers:\n  - {name: alice, password_file: ${passwordFile}}\n`,
	);
	return file;
};

test('14.6: a FIFO as --answers, or a FIFO or /dev/zero as a password file, exits 2 at once naming the key', async (t) => {
	const dir = scratch();
	const pipe = fifo(dir);
	const state = join(dir, 'state');
	// Without --yes and without a terminal the run stops before anything changes, but only
	// after reading the password files: the run's edge.
	const [answers, password, zero] = await Promise.all([
		cli(['--dry-run', '--answers', pipe, '--state-dir', state]),
		cli(['--answers', answersWith(dir, pipe), '--state-dir', state]),
		cli(['--answers', answersWith(dir, '/dev/zero'), '--state-dir', state]),
	]);
	t.is(answers.code, 2, answers.err);
	t.regex(answers.err, /--answers: \S+fifo is a FIFO \(named pipe\), not a regular file/);
	t.is(password.code, 2, password.err);
	t.regex(password.err, /users\[0\]\.password_file: \S+fifo is a FIFO/);
	t.is(zero.code, 2, zero.err);
	t.regex(zero.err, /users\[0\]\.password_file: \/dev\/zero is a character device, not a regular file/);
});

test('14.6: a password file readable by others exits 2 with the fix; a private one gets as far as the review', async (t) => {
	const dir = scratch();
	const pw = join(dir, 'alice.pass');
	writeFileSync(pw, 'correct horse\n', {mode: 0o644});
	chmodSync(pw, 0o644);
	const open = await cli(['--answers', answersWith(dir, pw), '--state-dir', join(dir, 'state')]);
	t.is(open.code, 2, open.err);
	t.true(open.err.includes(`users[0].password_file: ${pw} can be read or written by group or others (mode 644): chmod 600 ${pw}`), open.err);
	chmodSync(pw, 0o600);
	const ok = await cli(['--answers', answersWith(dir, pw), '--state-dir', join(dir, 'state')]);
	t.regex(ok.err, /no terminal to review the answers on/, 'the password file was accepted');
});

test('safeReadFile reads a regular file and reports its mode', (t) => {
	const dir = scratch();
	const p = join(dir, 'f');
	writeFileSync(p, 'hello\n', {mode: 0o600});
	const f = safeReadFile(p, {maxBytes: MAX_SMALL, private: true});
	t.is(f.text, 'hello\n');
	t.is(f.mode & 0o777, 0o600);
});

test('safeReadFile refuses a FIFO, a device, a directory and a symlink, without blocking', (t) => {
	const dir = scratch();
	const started = Date.now();
	const cases: Array<[string, string, RegExp]> = [
		[fifo(dir), 'NOTFILE', /is a FIFO \(named pipe\), not a regular file/],
		['/dev/zero', 'NOTFILE', /is a character device/],
		[dir, 'NOTFILE', /is a directory/],
	];
	const target = join(dir, 'target');
	writeFileSync(target, 'x');
	symlinkSync(target, join(dir, 'link'));
	cases.push([join(dir, 'link'), 'ELOOP', /is a symbolic link: give the path of the file itself/]);
	for (const [p, code, message] of cases) {
		const e = t.throws(() => safeReadFile(p, {maxBytes: MAX_SMALL}), {instanceOf: UnsafeFileError}, p);
		t.is(e?.code, code, p);
		t.regex(e!.message, message);
	}
	t.is(safeReadFile(join(dir, 'link'), {maxBytes: MAX_SMALL, followLinks: true}).text, 'x', 'a link is followed when asked (certbot live/)');
	t.true(Date.now() - started < 2000);
});

test('safeReadFile refuses a file over its size cap', (t) => {
	const dir = scratch();
	const p = join(dir, 'big');
	writeFileSync(p, Buffer.alloc(MAX_SMALL + 1, 0x61));
	const e = t.throws(() => safeReadFile(p, {maxBytes: MAX_SMALL}), {instanceOf: UnsafeFileError});
	t.is(e?.code, 'TOOBIG');
	t.regex(e!.message, /is larger than 64 KiB/);
	t.is(safeReadFile(p, {maxBytes: MAX_SMALL + 1}).text.length, MAX_SMALL + 1);
});

test('a private file must not be open to group or others', (t) => {
	const dir = scratch();
	const p = join(dir, 'secret');
	writeFileSync(p, 'x', {mode: 0o600});
	for (const mode of [0o640, 0o604, 0o620, 0o660]) {
		chmodSync(p, mode);
		const e = t.throws(() => safeReadFile(p, {maxBytes: MAX_SMALL, private: true}), {instanceOf: UnsafeFileError}, mode.toString(8));
		t.is(e?.code, 'NOTPRIVATE');
		t.regex(e!.message, new RegExp(`chmod 600 ${p}$`));
	}
	for (const mode of [0o600, 0o400, 0o700]) {
		chmodSync(p, mode);
		t.notThrows(() => safeReadFile(p, {maxBytes: MAX_SMALL, private: true}), mode.toString(8));
	}
	chmodSync(p, 0o644);
	t.notThrows(() => safeReadFile(p, {maxBytes: MAX_SMALL}), 'only a private read checks the mode');
});

(process.getuid?.() === 0 ? test : test.skip)('a private file owned by another user is refused (needs root to chown)', (t) => {
	const dir = scratch();
	const p = join(dir, 'secret');
	writeFileSync(p, 'x', {mode: 0o600});
	chownSync(p, 65534, 65534);
	const e = t.throws(() => safeReadFile(p, {maxBytes: MAX_SMALL, private: true}), {instanceOf: UnsafeFileError});
	t.is(e?.code, 'NOTOWNER');
	t.regex(e!.message, /belongs to another user \(uid 65534\): chown root/);
});
