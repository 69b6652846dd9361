import test from 'ava';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {AnswersError, readPasswordFiles, validateAnswers} from '../../source/answers.ts';
import {RAW, answers} from '../helpers/fixtures.ts';

const bad: Array<[string, Record<string, unknown>, string]> = [
	['domain with a newline', {domain: 'example.test\nmx'}, 'domain'],
	['domain with a quote', {domain: 'exa"mple.test'}, 'domain'],
	['domain with a space', {domain: 'example .test'}, 'domain'],
	['domain with a colon', {domain: 'example.test:25'}, 'domain'],
	['domain with NUL', {domain: 'example\0.test'}, 'domain'],
	['single-label domain', {domain: 'localhost'}, 'domain'],
	['over-long label', {domain: `${'a'.repeat(64)}.test`}, 'domain'],
	['over-long name', {domain: `${'abcdefghi.'.repeat(26)}test`}, 'domain'],
	['hostname with underscore', {hostname: 'mail_1.example.test'}, 'hostname'],
	['ipv4 garbage', {ipv4: '300.1.2.3'}, 'ipv4'],
	['ipv6 given as v4', {ipv6: '192.0.2.1'}, 'ipv6'],
	['relative cert path', {tls: {cert: 'cert.pem', key: '/k'}}, 'tls.cert'],
	['cert path with a quote', {tls: {cert: '/etc/ssl/a"b.pem', key: '/k'}}, 'tls.cert'],
	['cert path with a space', {tls: {cert: '/etc/ssl/a b.pem', key: '/k'}}, 'tls.cert'],
	['key missing', {tls: {cert: '/c'}}, 'tls.key'],
	['no users', {users: []}, 'users'],
	['user with a colon', {users: [{name: 'al:ice', password_hash: '{CRYPT}$y$x'}]}, 'users[0].name'],
	['user with a newline', {users: [{name: 'al\nice', password_hash: '{CRYPT}$y$x'}]}, 'users[0].name'],
	[
		'user twice',
		{
			users: [
				{name: 'alice', password_hash: '{CRYPT}$y$x'},
				{name: 'Alice', password_hash: '{CRYPT}$y$x'},
			],
		},
		'users[1].name',
	],
	['password in the answers', {users: [{name: 'alice', password: 'secret123'}]}, 'users[0].password'],
	['no password source', {users: [{name: 'alice'}]}, 'users[0].password_file'],
	['argon hash without smtpd hash', {users: [{name: 'alice', password_hash: '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$a$b'}]}, 'users[0].smtpd_hash'],
	['hash with a colon', {users: [{name: 'alice', password_hash: '{CRYPT}$y$a:b'}]}, 'users[0].password_hash'],
	['selector with a dot', {dkim: {selector: 'a.b'}}, 'dkim.selector'],
	['dmarc policy', {dmarc: {policy: 'block'}}, 'dmarc.policy'],
	['dmarc rua not an address', {dmarc: {policy: 'reject', rua: 'nobody'}}, 'dmarc.rua'],
	['dmarc rua undeliverable', {dmarc: {policy: 'reject', rua: 'reports@example.test'}}, 'dmarc.rua'],
	['alias loop a -> a', {aliases: {a: 'a'}}, 'aliases.a'],
	['alias loop a -> b -> a', {aliases: {a: 'b', b: 'a'}}, 'aliases.a'],
	['alias to a non-user', {aliases: {info: 'carol'}}, 'aliases.info'],
	['alias that is a user', {aliases: {alice: 'bob'}}, 'aliases.alice'],
	['alias outside our domains', {aliases: {'info@elsewhere.test': 'alice'}}, 'aliases.info@elsewhere.test'],
	['malformed alias target', {aliases: {info: 'a b'}}, 'aliases.info'],
	['catch-all to a non-user', {catch_all: 'carol'}, 'catch_all'],
	['unknown key', {colour: 'blue'}, 'colour'],
	['remove_mta not boolean', {remove_mta: 'yes'}, 'remove_mta'],
	['extra domain twice', {extra_domains: ['example.test']}, 'extra_domains[0]'],
];

for (const [name, over, key] of bad) {
	test(`refuses ${name}, naming ${key}`, (t) => {
		const error = t.throws(() => validateAnswers({...RAW, ...over}, {}), {instanceOf: AnswersError});
		t.is(error?.key, key);
	});
}

test('normalizes case and adds postmaster and abuse to the first user', (t) => {
	const a = answers({domain: 'Example.TEST', hostname: 'MAIL.example.test.'});
	t.is(a.domain, 'example.test');
	t.is(a.hostname, 'mail.example.test');
	t.deepEqual(a.aliases.postmaster, ['alice']);
	t.deepEqual(a.aliases.abuse, ['alice']);
});

test('aliases take lists, full local addresses and external targets', (t) => {
	const a = answers({aliases: {team: ['alice', 'BOB@example.test'], fwd: 'Someone@Remote.test'}});
	t.deepEqual(a.aliases.team, ['alice', 'bob']);
	t.deepEqual(a.aliases.fwd, ['someone@remote.test']);
});

test('a crypt password_hash serves smtpd too', (t) => {
	const a = answers();
	t.is(a.users[0]!.smtpdHash, '$y$j9T$abc$def');
});

test("reads the password file at the run's edge (newline not part of it) and refuses a short one", (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-pw-'));
	writeFileSync(join(dir, 'ok'), 'correct horse\n', {mode: 0o600});
	writeFileSync(join(dir, 'short'), 'abc\n', {mode: 0o600});
	const shape = validateAnswers({...RAW, users: [{name: 'alice', password_file: join(dir, 'ok')}]});
	t.is(shape.users[0]!.password, undefined, 'validation reads no file');
	t.is(readPasswordFiles(shape).users[0]!.password, 'correct horse');
	const e = t.throws(() => readPasswordFiles(validateAnswers({...RAW, users: [{name: 'alice', password_file: join(dir, 'short')}]})), {instanceOf: AnswersError});
	t.is(e?.key, 'users[0].password_file');
	const missing = t.throws(() => readPasswordFiles(validateAnswers({...RAW, users: [{name: 'alice', password_file: join(dir, 'nope')}]})), {instanceOf: AnswersError});
	t.regex(missing!.message, /ENOENT/);
});

test('saved answers of an interactive run may have users without a password source', (t) => {
	const a = validateAnswers({...RAW, users: [{name: 'alice'}]}, {passwordOptional: true});
	t.is(a.users[0]!.password, undefined);
	t.is(a.users[0]!.passwordHash, undefined);
	t.throws(() => validateAnswers({...RAW, users: [{name: 'alice'}]}), {instanceOf: AnswersError});
});
