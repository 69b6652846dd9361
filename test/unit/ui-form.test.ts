import test from 'ava';
import {execFileSync, spawn} from 'node:child_process';
import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {checkField, EMPTY_FORM, firstRunFields, formError, fromSaved, initialValue, needsPassword, reviewRows, setValue, toAnswers, toFile, type Env, type Form} from '../../source/ui/form.ts';
import {AnswersError, publicAnswers} from '../../source/answers.ts';
import {selfSigned} from '../helpers/tls.ts';

const env: Env = {root: '/', defaultIpv4: () => '203.0.113.7'};

const filled = (over: Partial<Form> = {}): Form => ({
	...EMPTY_FORM,
	domain: 'example.com',
	hostname: 'mail.example.com',
	ipv4: '203.0.113.7',
	cert: '/etc/ssl/mail.pem',
	key: '/etc/ssl/mail.key',
	users: [{name: 'alice', password: 'correct horse'}],
	selector: 'mail',
	policy: 'reject',
	...over,
});

test('a bad domain is refused with the reason validateAnswers gives', (t) => {
	const c = checkField('domain', EMPTY_FORM, 'exa mple', env);
	t.regex(c.error ?? '', /not a valid domain name/);
	t.is(checkField('domain', EMPTY_FORM, 'example.com', env).error, undefined);
	t.is(checkField('domain', EMPTY_FORM, '', env).error, 'an answer is needed here');
});

test('defaults follow earlier answers: host name, IPv4 from the host, certbot paths or ACME, selector, policy', (t) => {
	const f = {...EMPTY_FORM, domain: 'example.com'};
	t.is(initialValue('hostname', f, env), 'mail.example.com');
	t.is(initialValue('ipv4', f, env), '203.0.113.7');
	const g = {...f, hostname: 'mx.example.com'};
	const root = mkdtempSync(join(tmpdir(), 'mw-live-'));
	t.is(initialValue('cert', g, {...env, root}), 'acme', 'no certificate files: ACME is the default (issue 16)');
	execFileSync('mkdir', ['-p', join(root, 'etc/letsencrypt/live/mx.example.com')]);
	writeFileSync(join(root, 'etc/letsencrypt/live/mx.example.com/fullchain.pem'), 'x');
	t.is(initialValue('cert', g, {...env, root}), '/etc/letsencrypt/live/mx.example.com/fullchain.pem', "certbot's files for the host name: those");
	t.is(initialValue('key', {...g, cert: '/srv/tls/fullchain.pem'}, env), '/srv/tls/privkey.pem');
	t.is(initialValue('selector', f, env), 'mail');
	t.is(initialValue('policy', f, env), 'reject');
	t.is(initialValue('domain', {...f, domain: 'saved.org'}, env), 'saved.org', 'a saved answer wins over a default');
});

test('IPv6 is optional, and a wrong family is refused', (t) => {
	t.is(checkField('ipv6', filled(), '', env).error, undefined);
	t.regex(checkField('ipv6', filled(), '192.0.2.1', env).error ?? '', /not an IPv6 address/);
	t.regex(checkField('ipv4', filled(), '2001:db8::1', env).error ?? '', /not an IPv4 address/);
	t.regex((checkField('ipv4', filled(), '192.0.2.1', env).warnings ?? []).join(), /documentation range/, 'a lab address is a warning, not a refusal');
});

test('passwords: at least 8 characters, and typed twice the same', (t) => {
	t.regex(checkField('password:0', filled(), 'short', env).error ?? '', /at least 8/);
	t.is(checkField('password:0', filled(), 'long enough', env).error, undefined);
	t.regex(checkField('again:0', filled(), 'long enougH', env, {0: 'long enough'}).error ?? '', /differ/);
	t.is(checkField('again:0', filled(), 'long enough', env, {0: 'long enough'}).error, undefined);
});

test('a user name is checked, and the same name twice is refused', (t) => {
	t.regex(checkField('user:0', filled({users: []}), 'Al ice', env).error ?? '', /not a valid user name/);
	t.regex(checkField('user:1', filled(), 'alice', env).error ?? '', /listed twice/);
	t.is(checkField('user:1', filled(), '', env).error, undefined, 'an empty second user ends the list');
	t.is(checkField('user:0', filled({users: []}), '', env).error, 'an answer is needed here', 'the first user is required');
});

test('TLS paths are checked as typed: missing file, wrong host, key that does not match', (t) => {
	const a = selfSigned('mail.example.com');
	const b = selfSigned('mail.example.com');
	const f = filled({cert: a.cert});
	t.regex(checkField('cert', f, '/nonexistent/fullchain.pem', env).error ?? '', /does not exist/);
	t.regex(checkField('cert', filled({hostname: 'mx.other.org'}), a.cert, env).error ?? '', /does not cover mx\.other\.org/);
	const ok = checkField('cert', f, a.cert, env);
	t.is(ok.error, undefined);
	t.true((ok.info ?? []).some((l) => l.includes('covers mail.example.com')));
	t.regex(checkField('key', f, b.key, env).error ?? '', /is not the key of the certificate/);
	t.true((checkField('key', f, a.key, env).info ?? []).some((l) => l.includes('is the key of this certificate')));
});

test('the first run asks users one by one until a name is left empty', (t) => {
	let f = EMPTY_FORM;
	t.deepEqual(firstRunFields(f).slice(6), ['user:0', 'selector', 'policy', 'rua']);
	f = setValue('user:0', f, 'Alice');
	t.deepEqual(firstRunFields(f).slice(6), ['user:0', 'password:0', 'again:0', 'user:1', 'selector', 'policy', 'rua']);
	f = setValue('user:1', f, '');
	t.is(f.users.length, 1);
	t.is(f.users[0]!.name, 'alice');
});

test('typed passwords reach the Answers in memory and never the saved answers', (t) => {
	const f = setValue('again:0', filled({users: [{name: 'alice'}]}), 'correct horse');
	const a = toAnswers(f, false);
	t.is(a.users[0]!.password, 'correct horse');
	t.is(a.users[0]!.passwordHash, undefined, 'the validation placeholder does not leak');
	t.false(JSON.stringify(publicAnswers(a)).includes('correct horse'));
});

test('saved answers come back as the form, with keys the wizard does not ask kept', (t) => {
	const a = toAnswers(filled({extra: {aliases: {info: 'alice'}}}), false);
	const f = fromSaved(publicAnswers(a));
	t.is(f.domain, 'example.com');
	t.is(f.users[0]!.name, 'alice');
	t.is(f.users[0]!.password, undefined);
	t.deepEqual((f.extra.aliases as Record<string, unknown>).info, ['alice']);
	t.true(needsPassword(f.users[0]!, true), 'asked again while a stage still hashes it');
	t.false(needsPassword(f.users[0]!, false), 'not asked once dovecot and opensmtpd are done');
	t.false(needsPassword({name: 'bob', passwordFile: '/root/bob.pass'}, true), 'a password file is never asked for');
	const again = toAnswers(f, false);
	t.deepEqual(again.aliases.info, ['alice']);
});

test('the review lists every answer and reports the first problem with its question', (t) => {
	const rows = reviewRows(filled());
	t.true(rows.some((r) => r.label === 'User 1' && r.value.includes('alice@example.com')));
	t.true(rows.some((r) => r.label === 'Add a user'));
	t.is(formError(filled()), undefined);
	const bad = formError(filled({policy: 'maybe'}));
	t.is(bad?.id, 'policy');
	t.regex(bad?.message ?? '', /dmarc\.policy: must be none, quarantine or reject/);
});

test('the wizard reads the saved file form, keeps what it does not ask (dmarc.ruf too), and gives the same file form back', (t) => {
	const saved = {
		domain: 'example.com',
		hostname: 'mail.example.com',
		ipv4: '203.0.113.7',
		tls: {cert: '/etc/ssl/mail.pem', key: '/etc/ssl/mail.key'},
		users: [{name: 'alice'}, {name: 'bob', password_file: '/root/bob.pass'}],
		aliases: {postmaster: ['alice'], abuse: ['alice'], info: ['alice', 'bob']},
		catch_all: 'alice',
		dkim: {selector: 'mail'},
		dmarc: {policy: 'quarantine', rua: 'postmaster@example.com', ruf: 'alice@example.com'},
		extra_domains: ['example.org'],
		mta_sts: {mode: 'enforce'},
		tlsrpt: {rua: 'postmaster@example.com'},
		remove_mta: true,
	};
	const f = fromSaved(saved);
	t.deepEqual(f.users, [{name: 'alice'}, {name: 'bob', passwordFile: '/root/bob.pass'}]);
	t.is(f.policy, 'quarantine');
	t.deepEqual(toFile(f, false), {...saved, ipv4: '203.0.113.7', ipv6: undefined}, 'the form is the file form');
	const a = toAnswers(f, false);
	t.is(a.dmarc.ruf, 'alice@example.com', 'dmarc.ruf is not lost on a resumed run');
	t.deepEqual(publicAnswers(a), saved, 'and what the run saves is the same file form');
});

test('the wizard also resumes from a state saved by the previous version (camelCase keys, hashes dropped)', (t) => {
	const f = fromSaved({
		domain: 'example.com',
		hostname: 'mail.example.com',
		ipv4: '203.0.113.7',
		tls: {cert: '/etc/ssl/mail.pem', key: '/etc/ssl/mail.key'},
		users: [
			{name: 'alice', passwordHash: '{CRYPT}$y$j9T$abc$def', smtpdHash: '$y$j9T$abc$def'},
			{name: 'bob', passwordFile: '/root/bob.pass'},
		],
		aliases: {postmaster: ['alice'], abuse: ['alice']},
		catchAll: 'alice',
		dkim: {selector: 'mail'},
		dmarc: {policy: 'reject'},
		extraDomains: ['example.org'],
		removeMta: false,
	});
	t.deepEqual(f.users, [{name: 'alice'}, {name: 'bob', passwordFile: '/root/bob.pass'}]);
	t.is(f.extra.catch_all, 'alice');
	t.deepEqual(f.extra.extra_domains, ['example.org']);
	const a = toAnswers(f, false);
	t.is(a.catchAll, 'alice');
	t.deepEqual(a.extraDomains, ['example.org']);
	t.false(JSON.stringify(publicAnswers(a)).includes('$y$'), 'no hash is saved again');
});

test('15.7: the wizard says what a host name without a dot or an address as a user name needs', (t) => {
	t.is(checkField('hostname', filled(), 'mail', env).error, '"mail" needs a fully qualified name with a dot (like mail.example.com)');
	t.is(checkField('hostname', filled(), 'localhost', env).error, '"localhost" needs a fully qualified name with a dot (like mail.example.com)');
	t.is(checkField('user:0', filled({users: []}), 'alice@example.com', env).error, '"alice@example.com" is an address: give only the name before @ ("alice"); the address will be alice@example.com');
});

test('14.6: a FIFO typed as the certificate is refused at once instead of hanging the wizard', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-fifo-'));
	const fifo = join(dir, 'fullchain.pem');
	execFileSync('mkfifo', [fifo]);
	// A writer that gives up after a few seconds: a reader that blocks fails this test instead of hanging it.
	const writer = spawn('sh', ['-c', `sleep 3 > '${fifo}'`], {stdio: 'ignore'});
	t.teardown(() => writer.kill());
	const started = Date.now();
	const c = checkField('cert', filled(), fifo, env);
	t.regex(c.error ?? '', /is a FIFO \(named pipe\), not a regular file/);
	t.true(Date.now() - started < 2000);
});

test("a saved user's password file is read only when the run asks for it (the run's edge), with the safe reader's checks", (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-pw-'));
	const pw = join(dir, 'bob.pass');
	writeFileSync(pw, 'correct horse\n', {mode: 0o644});
	const f = filled({users: [{name: 'bob', passwordFile: pw}]});
	t.is(toAnswers(f, false).users[0]!.password, undefined, 'a dry run reads no password');
	const e = t.throws(() => toAnswers(f, true), {instanceOf: AnswersError});
	t.is(e?.key, 'users[0].password_file');
	t.regex(e!.message, /chmod 600/);
	chmodSync(pw, 0o600);
	t.is(toAnswers(f, true).users[0]!.password, 'correct horse');
});

test("IPv6: the host's public address is suggested when it has one (left empty, mail could leave over IPv6 outside SPF); none: empty", (t) => {
	t.is(initialValue('ipv6', filled({ipv6: ''}), {...env, defaultIpv6: () => '2a01:4f8::25'}), '2a01:4f8::25');
	t.is(initialValue('ipv6', filled({ipv6: ''}), env), '');
	t.is(initialValue('ipv6', filled({ipv6: '2a01:4f8::1'}), {...env, defaultIpv6: () => '2a01:4f8::25'}), '2a01:4f8::1', 'a given answer wins');
});
