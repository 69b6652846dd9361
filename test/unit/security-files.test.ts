// Issue 14, findings 2, 3, 4, 7: secret files, the plan's diffs, hashes in argv, the state directory.
import test, {type ExecutionContext} from 'ava';
import {spawnSync} from 'node:child_process';
import {createPublicKey, generateKeyPairSync} from 'node:crypto';
import {chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {apply} from '../../source/engine/apply.ts';
import {fakeExec, realExec} from '../../source/engine/exec.ts';
import {ensureDir, writeFileAction} from '../../source/engine/files.ts';
import {planStep} from '../../source/engine/plan.ts';
import {printPlan, secretSummary} from '../../source/engine/print.ts';
import {openState, StateDirError} from '../../source/engine/state.ts';
import {StepError, type Cmd, type Ctx, type Event} from '../../source/engine/types.ts';
import {dovecotHash, smtpdHash, verifyCrypt, verifyDovecotHash} from '../../source/platform/passwords.ts';
import {dkim} from '../../steps/04-dkim.ts';
import {STEPS} from '../../steps/index.ts';
import {DKIM_DIR, OLD_DKIM_DIR} from '../../source/mail/paths.ts';
import {dnsRecords} from '../../steps/06-dns-records.ts';
import {dkimKeyPath} from '../../templates/rspamd.ts';
import {dovecot} from '../../steps/07-dovecot.ts';
import {opensmtpd} from '../../steps/09-opensmtpd.ts';
import {DEBIAN12, HOST, answers, scratchRoot} from '../helpers/fixtures.ts';

const CLI = join(process.cwd(), 'dist/mailwizard.js');
const modeOf = (p: string) => statSync(p).mode & 0o7777;

async function drain(gen: AsyncGenerator<Event, string>): Promise<{events: Event[]; outcome: string}> {
	const events: Event[] = [];
	for (;;) {
		const r = await gen.next();
		if (r.done) return {events, outcome: r.value};
		events.push(r.value);
	}
}

// Finding 7: --state-dir chmods only what mailwizard created.
test('an existing state directory that holds other files is refused, never chmod-ed', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-state-'));
	writeFileSync(join(dir, 'someone-elses.txt'), 'x');
	chmodSync(dir, 0o1777); // like /tmp
	const before = modeOf(dir);
	const error = t.throws(() => openState(dir, false), {instanceOf: StateDirError});
	t.regex(error!.message, /holds other files \(someone-elses\.txt\)/);
	t.is(modeOf(dir), before, 'the mode of a directory that is not mailwizard’s is left alone');
});

test('a symlinked state directory is refused', (t) => {
	const base = mkdtempSync(join(tmpdir(), 'mw-state-'));
	mkdirSync(join(base, 'real'), {mode: 0o755});
	symlinkSync(join(base, 'real'), join(base, 'link'));
	t.throws(() => openState(join(base, 'link'), false), {instanceOf: StateDirError, message: /not a directory/});
	t.is(modeOf(join(base, 'real')), 0o755);
});

test('a new state directory is created 0700; mailwizard’s own is tightened and kept', (t) => {
	const base = mkdtempSync(join(tmpdir(), 'mw-state-'));
	openState(join(base, 'new/state'), false).update((d) => (d.finishedAt = 'x'));
	t.is(modeOf(join(base, 'new/state')), 0o700);
	t.true(existsSync(join(base, 'new/state/state.json')));
	mkdirSync(join(base, 'old'), {mode: 0o755});
	writeFileSync(join(base, 'old/state.json'), '{"version":1,"steps":{},"finishedAt":"y"}');
	writeFileSync(join(base, 'old/lock'), '1\n');
	t.is(openState(join(base, 'old'), false).data().finishedAt, 'y');
	t.is(modeOf(join(base, 'old')), 0o700);
});

test('the CLI exits 2 with a clear message for --state-dir on a shared directory, which keeps its mode', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-shared-'));
	writeFileSync(join(dir, 'other'), 'x');
	chmodSync(dir, 0o755);
	const r = spawnSync(process.execPath, [CLI, 'reset', '--state-dir', dir], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}});
	t.is(r.status, 2, r.stderr);
	t.regex(r.stderr, /--state-dir .* holds other files/);
	t.is(modeOf(dir), 0o755);
	t.false(existsSync(join(dir, 'state.json')));
});

// Finding 3: the plan never shows a hash or key of a file that holds secrets, old or new.
const OLD_ALICE = '{CRYPT}$y$j9T$OLDALICESALT$oldalicehashvalue';
const OLD_CAROL = '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$OLDCAROL$carolhash';
const STRAY_SRS = 'c3RyYXktc3JzLWtleS1ub3QtcmVjb2duaXNlZA==';

test('the dry run after a password change shows which users change, never an old or new hash', async (t) => {
	const root = scratchRoot();
	mkdirSync(join(root, 'etc/dovecot'), {recursive: true});
	mkdirSync(join(root, 'etc/smtpd'), {recursive: true});
	writeFileSync(join(root, 'etc/dovecot/users'), `# Managed by mailwizard\nalice:${OLD_ALICE}::::::\ncarol:${OLD_CAROL}::::::\n`);
	writeFileSync(join(root, 'etc/smtpd/passwds'), `alice@example.test ${OLD_ALICE.slice(7)}\nalice ${OLD_ALICE.slice(7)}\ncarol ${OLD_CAROL}\n`);
	writeFileSync(join(root, 'etc/smtpd/srs.conf'), `srs key ${STRAY_SRS}\n`);
	const a = answers();
	const ctx: Ctx = {root, exec: fakeExec(), profile: DEBIAN12, readOnly: true, resolvers: [], host: HOST};
	const out = printPlan([await planStep(dovecot, ctx, a, STEPS), await planStep(opensmtpd, ctx, a, STEPS)], 'sysv');
	for (const secret of [OLD_ALICE, OLD_ALICE.slice(7), OLD_CAROL, STRAY_SRS, ...a.users.map((u) => u.passwordHash!), ...a.users.map((u) => u.smtpdHash!)].filter(Boolean)) {
		t.false(out.includes(secret), `the plan shows ${secret}`);
	}
	t.false(/\$y\$|\$argon2id\$/.test(out), 'no hash-looking text at all');
	t.regex(out, /update \/etc\/dovecot\/users[^\n]*\n(?:.*\n)*?\s+~ alice \(changed\)\n\s+\+ bob \(added\)\n\s+- carol \(removed\)/);
	t.regex(out, /- carol \(removed\)/);
	t.regex(out, /update \/etc\/smtpd\/srs\.conf(?:.*\n)*?\s+\+ srs key \(added\)\n\s+- line 1 \(removed\)/, 'a key it does not recognise is named by its line');
});

test('secret entries are named without any part of a line that lacks its separator', (t) => {
	const summary = secretSummary('colon', `alice:${OLD_ALICE}\n${OLD_CAROL}\n#bob:${OLD_ALICE}\n`, 'alice:new\n');
	t.false(summary.includes('OLD'));
	t.regex(summary, /~ alice \(changed\)\n- line 2 \(removed\)/);
	t.is(secretSummary('whole', 'PRIVATE', 'OTHER'), '(a secret: its content changes; neither the old nor the new one is shown)\n');
});

// Finding 2: keys only where root writes; no file is read or written through a link.
const TLS_KEY = '-----BEGIN PRIVATE KEY-----\nnot-a-real-tls-key\n-----END PRIVATE KEY-----\n';
const realKey = () => generateKeyPairSync('rsa', {modulusLength: 1024}).privateKey.export({type: 'pkcs8', format: 'pem'}).toString();
const rootCtx = (root: string, readOnly = false): Ctx => ({root, exec: fakeExec(), profile: DEBIAN12, readOnly, resolvers: [], host: HOST});

function plantTlsKey(root: string): string {
	mkdirSync(join(root, 'etc/ssl/private'), {recursive: true});
	writeFileSync(join(root, 'etc/ssl/private/mail.key'), TLS_KEY, {mode: 0o600});
	return join(root, 'etc/ssl/private/mail.key');
}

test('the DKIM key lives where only root writes, and Rspamd is told that path', (t) => {
	t.is(DKIM_DIR, '/etc/rspamd/dkim');
	t.is(dkimKeyPath('example.test', 'mail'), '/etc/rspamd/dkim/example.test.mail.key');
});

test('a symlink planted as the DKIM key at the old path is refused: nothing kept, copied or published', async (t) => {
	const root = scratchRoot();
	const tls = plantTlsKey(root);
	mkdirSync(join(root, OLD_DKIM_DIR), {recursive: true});
	symlinkSync('/etc/ssl/private/mail.key', join(root, OLD_DKIM_DIR, 'example.test.mail.key'));
	const a = answers();
	for (const step of [dkim, dnsRecords]) {
		const error = await t.throwsAsync(planStep(step, rootCtx(root), a, STEPS), {instanceOf: StepError});
		t.regex(error!.message, /\/var\/lib\/rspamd\/dkim\/example\.test\.mail\.key is a symbolic link, not a regular file/);
	}
	const state = openState(join(root, 'state'), false);
	const {events} = await drain(apply({steps: [dkim, dnsRecords], ctx: rootCtx(root), answers: a, state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
	t.true(events.some((e) => e.type === 'error' && /symbolic link/.test(e.message)));
	t.false(
		events.some((e) => e.type === 'notice' && (e.notice.records?.length ?? 0) > 0),
		'no record is published',
	);
	t.false(existsSync(join(root, DKIM_DIR, 'example.test.mail.key')));
	t.is(readFileSync(tls, 'utf8'), TLS_KEY);
	t.is(modeOf(tls), 0o600);
});

test('a key at the old path planted by another user (not root-owned) is refused', async (t) => {
	const root = scratchRoot();
	mkdirSync(join(root, OLD_DKIM_DIR), {recursive: true});
	writeFileSync(join(root, OLD_DKIM_DIR, 'example.test.mail.key'), realKey());
	chownSync(join(root, OLD_DKIM_DIR, 'example.test.mail.key'), 107, 110);
	await t.throwsAsync(planStep(dkim, rootCtx(root), answers(), STEPS), {instanceOf: StepError, message: /not a file root wrote \(owner uid 107/});
});

test('a symlinked old dkim/ directory is refused, never followed', async (t) => {
	const root = scratchRoot();
	mkdirSync(join(root, 'etc/ssl/private'), {recursive: true});
	writeFileSync(join(root, 'etc/ssl/private/example.test.mail.key'), realKey());
	mkdirSync(join(root, 'var/lib/rspamd'), {recursive: true});
	symlinkSync(join(root, 'etc/ssl/private'), join(root, OLD_DKIM_DIR));
	await t.throwsAsync(planStep(dkim, rootCtx(root), answers(), STEPS), {instanceOf: StepError, message: /\/var\/lib\/rspamd\/dkim is not a directory/});
});

test('a key at the old path is moved to the new one unchanged (never regenerated), 0640 root:_rspamd', async (t) => {
	const root = scratchRoot();
	const pem = realKey();
	mkdirSync(join(root, OLD_DKIM_DIR), {recursive: true});
	writeFileSync(join(root, OLD_DKIM_DIR, 'example.test.mail.key'), pem, {mode: 0o640});
	const a = answers();
	const plan = await planStep(dkim, rootCtx(root), a, STEPS);
	const text = printPlan([plan], 'sysv');
	t.regex(text, /create \/etc\/rspamd\/dkim\/example\.test\.mail\.key \(0640 root:_rspamd\): the DKIM key, moved unchanged from \/var\/lib\/rspamd\/dkim/);
	t.false(text.includes('PRIVATE KEY'));
	const state = openState(join(root, 'state'), false);
	const {outcome} = await drain(apply({steps: [dkim], ctx: rootCtx(root), answers: a, state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
	t.is(outcome, 'done');
	const moved = join(root, DKIM_DIR, 'example.test.mail.key');
	t.is(readFileSync(moved, 'utf8'), pem);
	t.is(modeOf(moved), 0o640);
	t.is(statSync(moved).gid, 0);
	t.is(modeOf(join(root, DKIM_DIR)), 0o750);
	const records = await planStep(dnsRecords, rootCtx(root), a, STEPS);
	t.true(JSON.stringify(records.actions).includes(createPublicKey(pem).export({type: 'spki', format: 'der'}).toString('base64')), 'the published half is the old key’s');
});

test('the writer refuses a symlink as the file it replaces, and never follows one at the old temp name', async (t) => {
	const root = scratchRoot();
	const tls = plantTlsKey(root);
	mkdirSync(join(root, 'etc/x'), {recursive: true});
	symlinkSync(tls, join(root, 'etc/x/a.conf'));
	const error = await t.throwsAsync(writeFileAction(root, fakeExec(), {kind: 'file', path: '/etc/x/a.conf', content: 'new\n', mode: 0o644, why: 't'}, 's'));
	t.regex(error!.message, /\/etc\/x\/a\.conf is a symbolic link, not a regular file/);
	// The temp name was predictable (pid): a link planted there made root overwrite its target.
	symlinkSync(tls, join(root, `etc/x/b.conf.mailwizard-${process.pid}.tmp`));
	await writeFileAction(root, fakeExec(), {kind: 'file', path: '/etc/x/b.conf', content: 'b\n', mode: 0o644, why: 't'}, 's');
	t.is(readFileSync(tls, 'utf8'), TLS_KEY);
	t.is(modeOf(tls), 0o600);
	t.is(readFileSync(join(root, 'etc/x/b.conf'), 'utf8'), 'b\n');
	t.false(lstatSync(join(root, 'etc/x/b.conf')).isSymbolicLink());
});

test('a symlinked directory is never chmod-ed or chgrp-ed through', async (t) => {
	const root = scratchRoot();
	mkdirSync(join(root, 'etc/ssl/private'), {recursive: true, mode: 0o700});
	chmodSync(join(root, 'etc/ssl/private'), 0o700);
	mkdirSync(join(root, 'etc/rspamd'), {recursive: true});
	symlinkSync(join(root, 'etc/ssl/private'), join(root, DKIM_DIR));
	await t.throwsAsync(ensureDir(root, DKIM_DIR, 0o750, 'root', '_rspamd'), {message: /symbolic link/});
	await t.throwsAsync(planStep(dkim, rootCtx(root), answers(), STEPS), {instanceOf: StepError});
	t.is(modeOf(join(root, 'etc/ssl/private')), 0o700);
});

test('a FIFO where a file is written is refused without hanging', async (t) => {
	const root = scratchRoot();
	spawnSync('mkfifo', [join(root, 'etc/users')]);
	await t.throwsAsync(
		planStep({id: 'f', title: 'f', summary: '', facts: async () => null, plan: () => [{kind: 'file', path: '/etc/users', content: 'x\n', mode: 0o600, why: 't'}]}, rootCtx(root), answers(), STEPS),
		{instanceOf: StepError, message: /a named pipe/},
	);
});

test('a failed verify restores the old file with its owner and mode', async (t) => {
	const root = scratchRoot();
	writeFileSync(join(root, 'etc/c.conf'), 'old\n', {mode: 0o604});
	chmodSync(join(root, 'etc/c.conf'), 0o604);
	const exec = fakeExec([{match: (argv) => argv[0] === 'verify', result: {exitCode: 2, stdout: '', stderr: 'no'}}]);
	await t.throwsAsync(writeFileAction(root, exec, {kind: 'file', path: '/etc/c.conf', content: 'new\n', mode: 0o640, group: '_rspamd', verify: [{argv: ['verify']}], why: 't'}, 's'));
	t.is(readFileSync(join(root, 'etc/c.conf'), 'utf8'), 'old\n');
	t.is(modeOf(join(root, 'etc/c.conf')), 0o604);
	t.deepEqual(
		readdirSync(join(root, 'etc')).filter((f) => f.includes('mailwizard')),
		[],
	);
});

// Finding 4: a password hash is never a process argument (visible in /proc/*/cmdline).
const Y_HASH = '$y$j9T$abcdefghijklmnop$wRwvHNqzMkHLG74uLLCRVTwaZ.a1aIothEUeYGf9oED'; // crypt("pw", ...)
const noHashInArgv = (t: ExecutionContext, calls: readonly Cmd[], hash: string) => {
	for (const c of calls)
		t.false(
			c.argv.some((x) => x.includes(hash.slice(7))),
			`a hash in argv: ${c.argv.join(' ')}`,
		);
};

test('verifying a crypt hash (a re-run, smtpd hashes) passes it on stdin, never in argv', async (t) => {
	const exec = fakeExec(
		[{match: (argv) => argv[0] === 'perl', result: (cmd) => ({exitCode: 0, stdout: cmd.stdin === `pw\0${Y_HASH}` ? 'verified\n' : 'mismatch\n', stderr: ''})}],
		['perl', 'doveadm', 'smtpctl'],
	);
	const ctx = rootCtx('/');
	const c = {...ctx, exec};
	t.true(await verifyDovecotHash(c, `{CRYPT}${Y_HASH}`, 'pw'));
	t.true(await verifyDovecotHash(c, `{SHA512-CRYPT}${Y_HASH}`, 'pw'));
	t.false(await verifyDovecotHash(c, `{CRYPT}${Y_HASH}`, 'other'));
	noHashInArgv(t, exec.calls, Y_HASH);
	t.true(
		exec.calls.every((x) => x.secrets?.includes(Y_HASH) || !x.stdin?.includes(Y_HASH)),
		'the hash is masked wherever the command is shown',
	);
});

test('a new Dovecot hash is verified by doveadm itself (-V), and a new smtpd hash from stdin: no hash in argv', async (t) => {
	const argon = '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';
	const exec = fakeExec(
		[
			{match: (argv) => argv[0] === 'doveadm' && argv.includes('-s'), result: {exitCode: 0, stdout: `${argon} (verified)\n`, stderr: ''}},
			{match: (argv) => argv[0] === 'smtpctl', result: {exitCode: 0, stdout: `${Y_HASH}\n`, stderr: ''}},
			{match: (argv) => argv[0] === 'perl', result: {exitCode: 0, stdout: 'verified\n', stderr: ''}},
		],
		['perl', 'doveadm', 'smtpctl'],
	);
	const c = {...rootCtx('/'), exec};
	t.is(await dovecotHash(c, 'ARGON2ID', 'pw'), argon);
	t.is(await smtpdHash(c, 'pw'), Y_HASH);
	noHashInArgv(t, exec.calls, argon);
	noHashInArgv(t, exec.calls, Y_HASH);
	t.deepEqual(exec.calls[0]!.argv, ['doveadm', '-O', 'pw', '-s', 'ARGON2ID', '-V']);
	const unverified = fakeExec([{match: () => true, result: {exitCode: 0, stdout: `${argon}\n`, stderr: ''}}], ['doveadm']);
	await t.throwsAsync(dovecotHash({...c, exec: unverified}, 'ARGON2ID', 'pw'), {message: /did not verify/});
});

const havePerl = spawnSync('perl', ['-e', '1']).status === 0;
(havePerl ? test : test.skip)(`libc crypt(3) through perl verifies a yescrypt hash read from stdin${havePerl ? '' : ' (skipped: no perl here)'}`, async (t) => {
	const c = {...rootCtx('/'), exec: realExec()};
	t.true(await verifyCrypt(c, Y_HASH, 'pw'));
	t.false(await verifyCrypt(c, Y_HASH, 'pW'));
	t.false(await verifyCrypt(c, '', ''));
});

// Made by doveadm pw -s ARGON2ID (Dovecot 2.4, libsodium) for the password "pw1".
const ARGON2ID = '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$6glrI2nfyOd6FM/F4RPRUw$g640QQUsHXjOFQmTfb7ffFryU+JzV9Ii7cJEHP1jV4k';

test('verifying an ARGON2ID hash (the default scheme) passes it on stdin to libsodium, never in argv', async (t) => {
	const exec = fakeExec(
		[{match: (argv) => argv[0] === 'python3', result: (cmd) => ({exitCode: 0, stdout: cmd.stdin === `pw1\0${ARGON2ID.slice(10)}` ? 'verified\n' : 'mismatch\n', stderr: ''})}],
		['python3', 'doveadm'],
	);
	const c = {...rootCtx('/'), exec};
	t.true(await verifyDovecotHash(c, ARGON2ID, 'pw1'));
	t.false(await verifyDovecotHash(c, ARGON2ID, 'pw2'));
	noHashInArgv(t, exec.calls, ARGON2ID);
	t.false(exec.calls.some((x) => x.argv[0] === 'doveadm'));
});

const libsodium = spawnSync('python3', ['-c', 'import ctypes; ctypes.CDLL("libsodium.so.23")']).status === 0;
(libsodium ? test : test.skip)(`libsodium through python3 verifies a real Dovecot ARGON2ID hash read from stdin${libsodium ? '' : ' (skipped: no python3 with libsodium.so.23 here)'}`, async (t) => {
	const c = {...rootCtx('/'), exec: realExec()};
	t.true(await verifyDovecotHash(c, ARGON2ID, 'pw1'));
	t.false(await verifyDovecotHash(c, ARGON2ID, 'pw2'));
});

test("the daily check's memory (check-last.json) is mailwizard's own: a state directory holding it opens (the lab's rotations after the doctor's notify run exited 2)", (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-state-'));
	chmodSync(dir, 0o700);
	writeFileSync(join(dir, 'check-last.json'), '{}');
	t.notThrows(() => openState(dir, false));
});
