// The inbound defence's answers (issue 18): greylisting, bans, ignore. Each refusal names its key.
import test from 'ava';
import {AnswersError, toFileForm, validateAnswers} from '../../source/answers.ts';
import {DEFAULT_BAN_ANSWERS} from '../../source/answers/defence.ts';
import {moreSummary, moreText, moreValue} from '../../source/ui/form-more.ts';

const BASE = {
	domain: 'example.test',
	hostname: 'mx.example.test',
	ipv4: '192.0.2.25',
	tls: {cert: '/etc/ssl/a.pem', key: '/etc/ssl/a.key'},
	users: [{name: 'alice', password_hash: '{CRYPT}$y$j9T$abc'}],
};

const fails = (extra: Record<string, unknown>, key: string, message: RegExp) => (t: import('ava').ExecutionContext) => {
	const e = t.throws(() => validateAnswers({...BASE, ...extra}), {instanceOf: AnswersError});
	t.is(e?.key, key);
	t.regex(e?.message ?? '', message);
	t.notRegex(e?.message ?? '', /[\n\r\x1b]/);
};

test('defaults: no greylisting, bans of 10 in 10m for 1h, nothing extra ignored; the file form leaves them out', (t) => {
	const a = validateAnswers(BASE);
	t.false(a.greylisting);
	t.deepEqual(a.bans, DEFAULT_BAN_ANSWERS);
	t.deepEqual(a.bans, {maxFailures: 10, window: '10m', ban: '1h'});
	t.deepEqual(a.ignore, []);
	const f = toFileForm(a) as Record<string, unknown>;
	t.false('greylisting' in f || 'bans' in f || 'ignore' in f);
});

test('given values round-trip through the file form (the state)', (t) => {
	const a = validateAnswers({...BASE, greylisting: true, bans: {max_failures: 5, window: 600, ban: '30s'}, ignore: ['198.51.100.0/24', '2001:DB8::7', '203.0.113.9']});
	t.true(a.greylisting);
	t.deepEqual(a.bans, {maxFailures: 5, window: '600', ban: '30s'});
	t.deepEqual(a.ignore, ['198.51.100.0/24', '2001:db8::7', '203.0.113.9']);
	t.deepEqual({...validateAnswers(toFileForm(a), {passwordOptional: true}), users: a.users}, a);
});

test('bans: false turns bans off, and stays off in the file form', (t) => {
	const a = validateAnswers({...BASE, bans: false});
	t.false(a.bans);
	t.false(validateAnswers(toFileForm(a), {passwordOptional: true}).bans);
});

test('bans: a partial mapping takes the defaults for the rest', (t) => {
	t.deepEqual(validateAnswers({...BASE, bans: {ban: '1d'}}).bans, {maxFailures: 10, window: '10m', ban: '1d'});
});

test('greylisting: not a boolean', fails({greylisting: 'yes'}, 'greylisting', /true or false/));
test('bans: a string', fails({bans: 'often'}, 'bans', /false or a mapping/));
test('bans: unknown key', fails({bans: {maxretry: 3}}, 'bans.maxretry', /unknown key/));
test('bans.max_failures: negative', fails({bans: {max_failures: -3}}, 'bans.max_failures', /whole number from 1/));
test('bans.max_failures: zero', fails({bans: {max_failures: 0}}, 'bans.max_failures', /whole number from 1/));
test('bans.max_failures: fraction', fails({bans: {max_failures: 2.5}}, 'bans.max_failures', /whole number/));
test('bans.max_failures: a string', fails({bans: {max_failures: '10'}}, 'bans.max_failures', /whole number/));
test('bans.window: negative seconds', fails({bans: {window: -600}}, 'bans.window', /whole number of seconds/));
test('bans.ban: zero', fails({bans: {ban: 0}}, 'bans.ban', /whole number of seconds/));
test('bans.ban: a newline and a fail2ban option after it', fails({bans: {ban: '1h\naction = x'}}, 'bans.ban', /not a duration/));
test('bans.window: an unknown unit', fails({bans: {window: '10y'}}, 'bans.window', /not a duration/));
test('bans.ban: longer than a year', fails({bans: {ban: '60w'}}, 'bans.ban', /longer than a year/));
test('ignore: not a list', fails({ignore: '203.0.113.7'}, 'ignore', /list/));
test('ignore: a host name', fails({ignore: ['mail.example.test']}, 'ignore[0]', /not an IPv4 or IPv6 address/));
test('ignore: a prefix too long (IPv4)', fails({ignore: ['10.0.0.0/33']}, 'ignore[0]', /not an IPv4/));
test('ignore: a prefix too long (IPv6)', fails({ignore: ['2001:db8::/129']}, 'ignore[0]', /not an IPv4/));
test('ignore: a bad address in a CIDR', fails({ignore: ['203.0.113.7', '300.1.2.3/24']}, 'ignore[1]', /not an IPv4/));
test('ignore: a newline smuggling a second option', fails({ignore: ['203.0.113.7\nbantime = 1']}, 'ignore[0]', /not an IPv4/));
test('ignore: a number', fails({ignore: [12]}, 'ignore[0]', /as a string/));
test('ignore: two addresses in one entry', fails({ignore: ['203.0.113.7 203.0.113.8']}, 'ignore[0]', /not an IPv4/));

test('wizard "More options": greylisting, bans and ignore as lines, into the file form and back', (t) => {
	t.true(moreValue('greylisting', 'yes'));
	t.is(moreValue('greylisting', 'no'), undefined);
	t.is(moreValue('bans', '10 in 10m, ban 1h'), undefined);
	t.false(moreValue('bans', 'off'));
	t.deepEqual(moreValue('bans', '3 in 600, ban 2h'), {max_failures: 3, window: 600, ban: '2h'});
	t.deepEqual(moreValue('ignore', '203.0.113.7, 198.51.100.0/24'), ['203.0.113.7', '198.51.100.0/24']);
	t.is(moreText('bans', {bans: {max_failures: 3, window: 600, ban: '2h'}}), '3 in 600, ban 2h');
	t.is(moreText('bans', {bans: false}), 'off');
	t.regex(moreSummary({greylisting: true, bans: false, ignore: ['203.0.113.7']}), /greylisting on · bans: off · never banned: 203.0.113.7/);
	t.notRegex(moreSummary({}), /greylisting|bans/, 'the defaults are not spelled out');
	const e = t.throws(() => moreValue('bans', 'ten tries'), {instanceOf: AnswersError});
	t.is(e?.key, 'bans');
	// What the wizard makes, validateAnswers judges (a bad number is its refusal, with the key).
	const bad = t.throws(() => validateAnswers({...BASE, bans: moreValue('bans', '0 in 10m, ban 1h')}), {instanceOf: AnswersError});
	t.is(bad?.key, 'bans.max_failures');
});
