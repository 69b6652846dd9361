// Issue 17, the day-two commands: their parsing, their edits of the saved answers, their
// password source, and the built CLI's validation and plan on a scratch root.
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {aliasAdd, aliasRemove, domainAdd, domainRemove, userAdd, userPasswd, userRemove} from '../../source/answers/edit.ts';
import {validateAnswers} from '../../source/answers.ts';
import {newPassword} from '../../source/commands/secret.ts';
import {STAGES, stagesOf} from '../../source/commands/change.ts';
import {parseOptions, type Options} from '../../source/options.ts';
import {DEBIAN12, RAW, answers, scratchRoot} from '../helpers/fixtures.ts';
import {dovecot} from '../../steps/07-dovecot.ts';
import {opensmtpd} from '../../steps/09-opensmtpd.ts';
import type {FileAction} from '../../source/engine/types.ts';

const CLI = join(process.cwd(), 'dist/mailwizard.js');
const SAVED = {...RAW, users: [{name: 'alice'}, {name: 'bob', password_file: '/root/bob.pw'}]};

function run(args: string[]) {
	const r = spawnSync(process.execPath, [CLI, ...args], {encoding: 'utf8', input: '', env: {...process.env, NO_COLOR: '1'}});
	return {code: r.status, out: r.stdout, err: r.stderr};
}

/** A scratch root whose state holds the answers of a finished setup. */
function setUp(): {root: string; state: string} {
	const root = scratchRoot();
	const dir = join(root, 'var/lib/mailwizard');
	mkdirSync(dir, {recursive: true});
	chmodSync(dir, 0o700);
	const state = join(dir, 'state.json');
	writeFileSync(state, JSON.stringify({version: 1, steps: {}, answers: SAVED}));
	return {root, state};
}

function tree(dir: string): string[] {
	return readdirSync(dir, {recursive: true, encoding: 'utf8'})
		.map((f) => {
			const s = statSync(join(dir, f));
			return `${f} ${s.mode} ${s.size} ${s.mtimeMs}`;
		})
		.sort();
}

const opts = (argv: string[]) => parseOptions(argv) as Options;

test('the subcommands parse with their words; wrong arity or a flag of another command exits 2 saying the usage', (t) => {
	t.like(opts(['user', 'add', 'carol', '--password-file', '/root/c.pw']), {command: 'user', sub: 'add', args: ['carol'], passwordFile: '/root/c.pw'});
	t.like(opts(['alias', 'add', 'sales', 'alice', 'bob@other.test']), {command: 'alias', sub: 'add', args: ['sales', 'alice', 'bob@other.test']});
	t.like(opts(['user', 'remove', 'bob', '--purge', '--yes']), {sub: 'remove', purge: true, yes: true});
	t.like(opts(['domain', 'add', 'second.test', '--dry-run']), {command: 'domain', sub: 'add', dryRun: true});
	t.throws(() => parseOptions(['user']), {message: /"user" needs a subcommand: mailwizard user add NAME/});
	t.throws(() => parseOptions(['user', 'add']), {message: /usage: mailwizard user add NAME$/});
	t.throws(() => parseOptions(['alias', 'add', 'sales']), {message: /usage: mailwizard alias add LOCAL TARGET\.\.\./});
	t.throws(() => parseOptions(['user', 'frob', 'x']), {message: /unknown subcommand "user frob"/});
	t.throws(() => parseOptions(['user', 'remove', 'bob', '--password-file', '/x']), {message: /--password-file is for user add and user passwd/});
	t.throws(() => parseOptions(['user', 'add', 'bob', '--purge']), {message: /--purge is for user remove/});
	t.throws(() => parseOptions(['user', 'add', 'bob', '--json']), {message: /--json is for user list/});
	t.throws(() => parseOptions(['dns', 'extra']), {message: /unexpected argument "extra"/});
});

test('the edits: an existing user or alias target changes nothing, passwd drops the old password file, the last user and the main domain stay', (t) => {
	t.false(userAdd(SAVED, 'Alice').changed);
	const added = userAdd(SAVED, 'carol');
	t.true(added.changed);
	t.deepEqual(
		validateAnswers(added.form, {passwordOptional: true}).users.map((u) => u.name),
		['alice', 'bob', 'carol'],
	);
	// A re-run of the wizard would otherwise read bob's old file and put the old password back.
	t.deepEqual((userPasswd(SAVED, 'bob').form.users as unknown[])[1], {name: 'bob'});
	t.throws(() => userPasswd(SAVED, 'nobody'), {message: /there is no user "nobody"/});
	t.deepEqual(userRemove(SAVED, 'bob').form.users, [{name: 'alice'}]);
	t.false(userRemove(SAVED, 'nobody').changed);
	t.throws(() => userRemove({...SAVED, users: [{name: 'alice'}]}, 'alice'), {message: /only user/});
	const sales = aliasAdd(SAVED, 'sales', ['alice', 'bob']);
	t.deepEqual(sales.form.aliases, {sales: ['alice', 'bob']});
	t.false(aliasAdd(sales.form, 'Sales', ['ALICE']).changed);
	t.deepEqual(aliasAdd(sales.form, 'sales', ['x@other.test']).form.aliases, {sales: ['alice', 'bob', 'x@other.test']});
	t.false('aliases' in aliasRemove(sales.form, 'sales').form);
	t.false(aliasRemove(SAVED, 'sales').changed);
	t.deepEqual(domainAdd(SAVED, 'Second.test.').form.extra_domains, ['second.test']);
	t.false(domainAdd(SAVED, 'example.test').changed);
	t.throws(() => domainRemove(SAVED, 'example.test'), {message: /main domain/});
	t.false('extra_domains' in domainRemove(domainAdd(SAVED, 'second.test').form, 'second.test').form);
});

test('user and alias changes converge only the Dovecot and OpenSMTPD stages; a domain adds DKIM, the records and the wait, never packages or preflight', (t) => {
	t.deepEqual(
		stagesOf(STAGES.mailbox).map((s) => s.id),
		['dovecot', 'opensmtpd'],
	);
	const domain = stagesOf(STAGES.domain).map((s) => s.id);
	t.deepEqual(domain, ['dkim', 'dns-records', 'dovecot', 'rspamd', 'opensmtpd', 'dns-wait']);
	t.false(domain.includes('packages') || domain.includes('preflight') || domain.includes('finish'));
});

test('a new password: typed twice the same and long enough, or from a private file; without either, exit 2', async (t) => {
	const typed =
		(...words: string[]) =>
		async () =>
			words.shift()!;
	t.is(await newPassword('carol', {terminal: true}, typed('correct horse', 'correct horse')), 'correct horse');
	await t.throwsAsync(newPassword('carol', {terminal: true}, typed('correct horse', 'correct hose')), {message: 'the two passwords differ'});
	await t.throwsAsync(newPassword('carol', {terminal: true}, typed('short', 'short')), {message: /shorter than 8/});
	await t.throwsAsync(newPassword('carol', {terminal: false}), {message: /no terminal to type carol's password on: give it in a root-only file with --password-file/});
	const {root} = setUp();
	const file = join(root, 'carol.pw');
	writeFileSync(file, 'a long enough secret\n', {mode: 0o600});
	t.is(await newPassword('carol', {file, terminal: false}), 'a long enough secret');
	chmodSync(file, 0o644);
	await t.throwsAsync(newPassword('carol', {file, terminal: false}), {message: /^--password-file: /});
});

test('user add without a terminal and without --password-file exits 2 and changes nothing', (t) => {
	const {root} = setUp();
	const before = tree(root);
	const r = run(['--root', root, 'user', 'add', 'carol', '--yes']);
	t.is(r.code, 2, r.err);
	t.regex(r.err, /no terminal to type carol's password on/);
	t.regex(r.err, /Nothing was changed/);
	t.deepEqual(tree(root), before);
});

test('a bad name or a target that is nobody gets the answers file message, exit 2, nothing changed', (t) => {
	const {root, state} = setUp();
	const before = readFileSync(state, 'utf8');
	const bad = run(['--root', root, 'user', 'add', 'Bad Name', '--dry-run']);
	t.is(bad.code, 2);
	t.regex(bad.err, /users\[2\]\.name: "bad name" is not a valid user name/);
	const nobody = run(['--root', root, 'alias', 'add', 'sales', 'nobody', '--yes']);
	t.is(nobody.code, 2);
	t.regex(nobody.err, /aliases\.sales: "nobody" is neither a user nor an alias/);
	t.is(readFileSync(state, 'utf8'), before);
});

test('the dry run of alias add shows only the affected stages and tables, reloaded in place, and saves nothing', (t) => {
	const {root, state} = setUp();
	const before = readFileSync(state, 'utf8');
	const r = run(['--root', root, 'alias', 'add', 'sales', 'alice', 'bob', '--dry-run']);
	t.is(r.code, 0, r.err);
	t.regex(r.out, /^# mailwizard dry run: add the alias sales -> alice, bob — nothing is changed/);
	t.regex(r.out, /## 1\/2 Dovecot/);
	t.regex(r.out, /## 2\/2 OpenSMTPD/);
	t.notRegex(r.out, /apt-get|Preflight|DKIM key/i);
	t.regex(r.out, /\/etc\/smtpd\/virtuals/);
	t.regex(r.out, /sales@example\.test/);
	t.is(readFileSync(state, 'utf8'), before);
});

test('user remove --purge without a terminal needs --yes; user list and alias list read the saved answers', (t) => {
	const {root} = setUp();
	const purge = run(['--root', root, 'user', 'remove', 'bob', '--purge']);
	t.is(purge.code, 2);
	t.regex(purge.err, /--purge --yes/);
	const list = run(['--root', root, 'user', 'list', '--json']);
	t.is(list.code, 0, list.err);
	t.deepEqual(
		(JSON.parse(list.out) as {users: Array<{name: string; mailbox: string}>}).users.map((u) => [u.name, u.mailbox]),
		[
			['alice', '/var/vmail/alice'],
			['bob', '/var/vmail/bob'],
		],
	);
	t.regex(run(['--root', root, 'alias', 'list']).out, /^postmaster\t-> alice$/m);
	const none = run(['--root', scratchRoot(), 'user', 'list']);
	t.is(none.code, 2);
	t.regex(none.err, /nothing is set up yet/);
});

test('the files a user or alias change writes are reloaded in place: no daemon restarts for them', (t) => {
	const a = answers({aliases: {sales: ['alice', 'bob']}});
	const hashes = [
		{name: 'alice', hash: '$y$A', source: 'kept' as const},
		{name: 'bob', hash: '$y$B', source: 'kept' as const},
	];
	const files = [
		...dovecot.plan(a, {scheme: 'ARGON2ID', hashes: hashes.map((h) => ({...h, hash: `{CRYPT}${h.hash}`}))} as never, DEBIAN12),
		...opensmtpd.plan(a, {srsKey: 'SRSKEY', iface: 'eth0', hashes} as never, DEBIAN12),
	].filter((x): x is FileAction => x.kind === 'file');
	const tables = ['passwds', 'recipients', 'virtuals', 'sendas', 'domains'].map((n) => `/etc/smtpd/${n}`);
	for (const path of ['/etc/dovecot/users', ...tables]) {
		const f = files.find((x) => x.path === path);
		t.truthy(f, path);
		// resolve() restarts a file's service only when it has restarts and no onChange.
		t.false(Boolean(f!.restarts && !f!.onChange), `${path} would restart ${f!.restarts}`);
	}
	for (const path of tables) t.regex(JSON.stringify(files.find((x) => x.path === path)!.onChange), /smtpctl.*update.*table/, path);
});

test('a user add whose apply fails leaves the user out of the saved answers (run it again after fixing the cause)', (t) => {
	const {root, state} = setUp();
	const before = readFileSync(state, 'utf8');
	const file = join(root, 'carol.pw');
	writeFileSync(file, 'a long enough secret\n', {mode: 0o600});
	// alice's password is not known on this run: the users file cannot be written, the apply fails.
	const r = run(['--root', root, 'user', 'add', 'carol', '--password-file', file, '--yes']);
	t.is(r.code, 1, r.out + r.err);
	t.regex(r.out, /ERROR in step dovecot/);
	t.regex(r.out, /the change was not saved/);
	t.is(readFileSync(state, 'utf8'), before);
	t.false(JSON.stringify(JSON.parse(readFileSync(state, 'utf8'))).includes('carol'));
});
