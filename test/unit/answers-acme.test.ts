// tls (own files or ACME) and autoconfig in the answers (issue 16): source/answers-acme.ts.
import test from 'ava';
import {AnswersError} from '../../source/answers.ts';
import {validateAutoconfig, validateTls} from '../../source/answers-acme.ts';
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
