// tls (own files or ACME) and autoconfig in the answers (issue 16): source/answers/acme.ts.
import test from 'ava';
import {AnswersError, loadSavedAnswers, toFileForm, validateAnswers} from '../../source/answers.ts';
import {validateAutoconfig, validateTls} from '../../source/answers/acme.ts';
import {LE_DIRECTORY} from '../../templates/acme.ts';

const fails = (raw: unknown, key: string, message: RegExp) => (t: import('ava').ExecutionContext) => {
	const e = t.throws(() => validateTls(raw), {instanceOf: AnswersError});
	t.is(e?.key, key);
	t.regex(e?.message ?? '', message);
};

test('own files: unchanged shape', (t) => {
	t.deepEqual(validateTls({cert: '/etc/ssl/certs/m.pem', key: '/etc/ssl/private/m.key'}), {kind: 'files', cert: '/etc/ssl/certs/m.pem', key: '/etc/ssl/private/m.key'});
});

test('acme: email only → Let’s Encrypt production; mailto: and case normalised', (t) => {
	t.deepEqual(validateTls({acme: {email: 'MailTo:Postmaster@Example.test'}}), {kind: 'acme', email: 'postmaster@example.test', directory: LE_DIRECTORY});
});

test('acme: a private directory with its CA bundle', (t) => {
	t.deepEqual(validateTls({acme: {email: 'p@example.test', directory: 'https://mx.remote.test:14000/dir', ca_bundle: '/etc/ssl/lab-ca.pem'}}), {
		kind: 'acme',
		email: 'p@example.test',
		directory: 'https://mx.remote.test:14000/dir',
		caBundle: '/etc/ssl/lab-ca.pem',
	});
});

test('tls: both forms', fails({cert: '/a', key: '/b', acme: {email: 'p@example.test'}}, 'tls', /not both/));
test('tls: neither form', fails({}, 'tls', /cert and key .* or acme/));
test('tls: missing key', fails({cert: '/a'}, 'tls.key', /required/));
test('tls: unknown key', fails({acme: {email: 'p@example.test'}, acmee: 1}, 'tls.acmee', /unknown key/));
test('acme: unknown key', fails({acme: {email: 'p@example.test', server: 'x'}}, 'tls.acme.server', /unknown key/));
test('acme: email required', fails({acme: {}}, 'tls.acme.email', /required/));
test('acme: email invalid', fails({acme: {email: 'not an address'}}, 'tls.acme.email', /not a valid e-mail/));
test('acme: directory over http', fails({acme: {email: 'p@example.test', directory: 'http://acme.test/dir'}}, 'tls.acme.directory', /https/));
test('acme: directory with credentials', fails({acme: {email: 'p@example.test', directory: 'https://u:secret@acme.test/dir'}}, 'tls.acme.directory', /password/));
test('acme: directory not a URL', fails({acme: {email: 'p@example.test', directory: 'acme.test/dir'}}, 'tls.acme.directory', /not a URL/));
test('acme: ca_bundle relative', fails({acme: {email: 'p@example.test', directory: 'https://acme.test/dir', ca_bundle: 'ca.pem'}}, 'tls.acme.ca_bundle', /absolute/));
test('acme: ca_bundle without a directory', fails({acme: {email: 'p@example.test', ca_bundle: '/etc/ssl/ca.pem'}}, 'tls.acme.ca_bundle', /private ACME server/));
test('acme: not a mapping', fails({acme: 'yes'}, 'tls.acme', /mapping/));

test('autoconfig: on by default with ACME, off with own files; true with own files refused', (t) => {
	const acme = validateTls({acme: {email: 'p@example.test'}});
	const files = validateTls({cert: '/a', key: '/b'});
	t.true(validateAutoconfig(undefined, acme));
	t.false(validateAutoconfig(undefined, files));
	t.false(validateAutoconfig(false, acme));
	t.false(validateAutoconfig(false, files));
	t.is(t.throws(() => validateAutoconfig(true, files), {instanceOf: AnswersError})?.key, 'autoconfig');
	t.is(t.throws(() => validateAutoconfig('yes', acme), {instanceOf: AnswersError})?.key, 'autoconfig');
});

test('validateAnswers: tls.acme points the daemons at certbot’s live files, autoconfig on, and the file form round-trips', (t) => {
	const raw = {
		domain: 'example.test',
		hostname: 'mx.example.test',
		ipv4: '192.0.2.1',
		tls: {acme: {email: 'pm@example.test', directory: 'https://acme.test/dir', ca_bundle: '/etc/lab/ca.pem'}},
		users: [{name: 'alice', password_hash: '{CRYPT}$y$j9T$abc$def'}],
	};
	const a = validateAnswers(raw);
	t.deepEqual(a.tls, {
		cert: '/etc/letsencrypt/live/mx.example.test/fullchain.pem',
		key: '/etc/letsencrypt/live/mx.example.test/privkey.pem',
		acme: {email: 'pm@example.test', directory: 'https://acme.test/dir', caBundle: '/etc/lab/ca.pem'},
	});
	t.true(a.autoconfig);
	const f = toFileForm(a);
	t.deepEqual(f.tls, raw.tls);
	t.is(f.autoconfig, undefined, 'the default is not written');
	t.deepEqual(loadSavedAnswers(JSON.parse(JSON.stringify(f)) as Record<string, unknown>), {...a, users: [{name: 'alice', passwordFile: undefined, passwordHash: undefined, smtpdHash: undefined}]});
	const off = validateAnswers({...raw, autoconfig: false});
	t.false(off.autoconfig);
	t.is(toFileForm(off).autoconfig, false);
	t.false(validateAnswers({...raw, tls: {cert: '/c.pem', key: '/k.pem'}}).autoconfig);
	t.throws(() => validateAnswers({...raw, tls: {cert: '/c.pem', key: '/k.pem'}, autoconfig: true}), {message: /autoconfig: needs tls.acme/});
});
