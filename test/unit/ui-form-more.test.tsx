// Issue 17 (and 16's wizard part): the wizard asks everything an answers file can say —
// ACME or own files, a password file instead of typing, the optional section (aliases,
// catch-all, extra domains, MTA-STS, TLS reports, another MTA) — and saves what it collected.
import test from 'ava';
import {render} from 'ink-testing-library';
import {chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parse} from 'yaml';
import {KEY, press, tick, until} from '../helpers/ink.ts';
import {App, type Deps} from '../../source/ui/App.tsx';
import {reviewWindow} from '../../source/ui/Review.tsx';
import {
	checkField,
	EMPTY_FORM,
	firstRunFields,
	formError,
	fromSaved,
	initialValue,
	moreFields,
	needsPassword,
	reviewRows,
	savePath,
	setValue,
	toAnswers,
	toFile,
	type Env,
	type Form,
} from '../../source/ui/form.ts';
import {publicAnswers, validateAnswers} from '../../source/answers.ts';
import {answersFileText, saveAnswers, zonePathOf} from '../../source/run/save.ts';
import type {Outcome} from '../../source/engine/apply.ts';

const env: Env = {root: '/', defaultIpv4: () => '203.0.113.7'};

const filled = (over: Partial<Form> = {}): Form => ({
	...EMPTY_FORM,
	domain: 'example.com',
	hostname: 'mail.example.com',
	ipv4: '203.0.113.7',
	cert: '/etc/ssl/mail.pem',
	key: '/etc/ssl/mail.key',
	users: [
		{name: 'alice', password: 'correct horse'},
		{name: 'bob', password: 'battery staple'},
	],
	selector: 'mail',
	policy: 'reject',
	...over,
});

/** Answers a sequence of questions as Questions does: check, then set. */
function answer(form: Form, pairs: ReadonlyArray<[Parameters<typeof setValue>[0], string]>): Form {
	let f = form;
	for (const [id, v] of pairs) {
		const c = checkField(id, f, v, env);
		if (c.error) throw new Error(`${id}: ${c.error}`);
		f = setValue(id, f, v);
	}
	return f;
}

test('ACME instead of files: "acme" at the certificate asks the account e-mail, the terms and autoconfig, and becomes tls.acme', (t) => {
	const f0 = filled({cert: '', key: ''});
	t.regex(checkField('cert', f0, '/nonexistent/fullchain.pem', env).error ?? '', /does not exist \(no certificate yet\? type acme/, 'a missing certificate points at acme');
	t.regex(checkField('cert', f0, 'acme', env).info?.join() ?? '', /ACME: a certificate for mail\.example\.com is obtained/);
	const f = setValue('cert', f0, 'acme');
	t.deepEqual(firstRunFields(f).slice(4, 8), ['cert', 'acmeEmail', 'acmeAgree', 'autoconfig']);
	t.is(initialValue('acmeEmail', f, env), 'postmaster@example.com');
	t.regex(checkField('acmeEmail', f, 'not an address', env).error ?? '', /not a valid e-mail address/);
	t.regex(checkField('acmeAgree', f, 'no', env).error ?? '', /needs the agreement/);
	t.is(initialValue('autoconfig', f, env), 'yes');
	const noTerms = answer(f, [['acmeEmail', 'hostmaster@example.com']]);
	t.is(formError(noTerms)?.id, 'acmeAgree', 'Continue goes back to the terms');
	t.throws(() => toAnswers(noTerms, false), {message: /terms of service/});
	const agreed = answer(noTerms, [
		['acmeAgree', 'yes'],
		['autoconfig', 'no'],
	]);
	t.deepEqual(toFile(agreed, false).tls, {acme: {email: 'hostmaster@example.com'}});
	const a = toAnswers(agreed, false);
	t.is(a.tls.acme?.email, 'hostmaster@example.com');
	t.is(a.tls.cert, '/etc/letsencrypt/live/mail.example.com/fullchain.pem', "certbot's live path for the host name");
	t.false(a.autoconfig);
	const rows = reviewRows(agreed);
	t.true(rows.some((r) => r.id === 'cert' && /ACME \(Let's Encrypt\): obtained and renewed for mail\.example\.com/.test(r.value)));
	t.true(rows.some((r) => r.id === 'acmeEmail' && /hostmaster@example\.com · terms agreed · no client autoconfig/.test(r.value)));
	t.false(
		rows.some((r) => r.id === 'key'),
		'no key to ask for',
	);
});

test('a saved ACME run comes back as ACME (its private directory and CA bundle kept), agreed by the file', (t) => {
	const saved = {
		domain: 'example.com',
		hostname: 'mail.example.com',
		ipv4: '203.0.113.7',
		tls: {acme: {email: 'postmaster@example.com', directory: 'https://acme.lab.test/dir', ca_bundle: '/etc/ssl/lab-ca.pem'}},
		users: [{name: 'alice'}],
		dkim: {selector: 'mail'},
		dmarc: {policy: 'reject'},
	};
	const f = fromSaved(saved);
	t.is(f.cert, 'acme');
	t.is(f.acmeAgree, 'yes');
	t.deepEqual(toFile(f, false).tls, saved.tls);
	t.deepEqual(publicAnswers(toAnswers(f, false)).tls, saved.tls);
	t.is(formError(f), undefined);
});

test('a password file instead of typing: an empty password asks for the file, which must be private', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-pwfile-'));
	const file = join(dir, 'alice.pass');
	writeFileSync(file, 'correct horse\n', {mode: 0o644});
	let f = setValue('user:0', {...EMPTY_FORM, domain: 'example.com'}, 'alice');
	t.deepEqual(firstRunFields(f).slice(6, 9), ['user:0', 'password:0', 'again:0']);
	t.is(checkField('password:0', f, '', env).error, undefined, 'an empty password is the way to a file');
	f = setValue('password:0', f, '');
	t.deepEqual(firstRunFields(f).slice(6, 10), ['user:0', 'password:0', 'pwfile:0', 'user:1'], 'the file is asked instead of the second typing');
	t.regex(checkField('pwfile:0', f, 'alice.pass', env).error ?? '', /absolute path/);
	t.regex(checkField('pwfile:0', f, join(dir, 'nope'), env).error ?? '', /does not exist/);
	t.regex(checkField('pwfile:0', f, file, env).error ?? '', /chmod 600/);
	chmodSync(file, 0o600);
	t.is(checkField('pwfile:0', f, file, env).error, undefined);
	f = setValue('pwfile:0', f, file);
	t.false(needsPassword(f.users[0]!, true));
	t.deepEqual((toFile(f, false).users as unknown[])[0], {name: 'alice', password_file: file});
	t.true(reviewRows(f).some((r) => r.value.includes(`password from ${file}`)));
	// Typing a password after all goes back to the two typings.
	t.deepEqual(firstRunFields(setValue('password:0', f, 'another secret')).slice(6, 9), ['user:0', 'password:0', 'again:0']);
});

test('the optional section: aliases (postmaster and abuse shown), catch-all, extra domains, MTA-STS, TLS reports, another MTA', (t) => {
	const f0 = filled();
	t.deepEqual(moreFields(), ['aliases', 'catchAll', 'extraDomains', 'mtaSts', 'tlsrpt', 'removeMta', 'greylisting', 'bans', 'ignore']);
	t.is(initialValue('greylisting', f0, env), 'no');
	t.is(initialValue('bans', f0, env), '10 in 10m, ban 1h');
	t.is(initialValue('aliases', f0, env), 'postmaster: alice; abuse: alice', 'the defaults the answers apply anyway');
	t.is(initialValue('removeMta', f0, env), 'no');
	t.regex(checkField('aliases', f0, 'sales alice', env).error ?? '', /is not "LOCAL: TARGET, TARGET"/);
	t.regex(checkField('aliases', f0, 'sales: nobody', env).error ?? '', /"nobody" is neither a user nor an alias/, "the answers file's own message");
	t.regex(checkField('catchAll', f0, 'carol', env).error ?? '', /is not one of the users/);
	t.regex(checkField('extraDomains', f0, 'example.com', env).error ?? '', /listed twice/);
	t.regex(checkField('mtaSts', f0, 'sometimes', env).error ?? '', /testing, enforce|none/);
	t.regex(checkField('removeMta', f0, 'maybe', env).error ?? '', /yes or no/);
	const f = answer(f0, [
		['aliases', 'postmaster: alice; abuse: alice; sales: alice, bob; fwd: someone@remote.test'],
		['catchAll', 'bob'],
		['extraDomains', 'example.org, Example.NET.'],
		['mtaSts', 'testing'],
		['tlsrpt', 'postmaster@example.com'],
		['removeMta', 'yes'],
	]);
	const a = toAnswers(f, false);
	t.deepEqual({...a.aliases}, {postmaster: ['alice'], abuse: ['alice'], sales: ['alice', 'bob'], fwd: ['someone@remote.test']});
	t.is(a.catchAll, 'bob');
	t.deepEqual(a.extraDomains, ['example.org', 'example.net']);
	t.deepEqual(a.mtaSts, {mode: 'testing'});
	t.deepEqual(a.tlsrpt, {rua: 'postmaster@example.com'});
	t.true(a.removeMta);
	const more = reviewRows(f).find((r) => r.id === 'more')!;
	t.is(more.value, 'aliases: postmaster, abuse, sales, fwd · catch-all: bob · extra domains: example.org example.net · MTA-STS: testing · TLS reports: postmaster@example.com · removes another MTA');
	// Emptied again: the keys leave the file form, as an answers file without them.
	const cleared = answer(f, [
		['catchAll', ''],
		['extraDomains', ''],
		['mtaSts', ''],
		['removeMta', 'no'],
	]);
	const file = toFile(cleared, false);
	t.false('catch_all' in file || 'extra_domains' in file || 'mta_sts' in file || 'remove_mta' in file);
	t.is(reviewRows(filled()).find((r) => r.id === 'more')!.value, 'aliases: postmaster, abuse · catch-all: none · extra domains: none · MTA-STS: off · TLS reports: none');
});

test('where the answers are saved: the home default, a path typed, or nowhere', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-save-'));
	t.is(savePath(filled(), {saveDir: dir}), join(dir, 'mailwizard-example.com.yaml'));
	t.is(savePath(filled(), {}), '', 'no default place: not saved');
	t.is(savePath(filled({saveAs: ''}), {saveDir: dir}), '', 'emptied: not saved');
	t.regex(checkField('saveAs', filled(), 'answers.yaml', env).error ?? '', /absolute path/);
	t.regex(checkField('saveAs', filled(), '/nonexistent-dir/a.yaml', env).error ?? '', /does not exist/);
	writeFileSync(join(dir, 'old.yaml'), 'x');
	t.regex((checkField('saveAs', filled(), join(dir, 'old.yaml'), env).warnings ?? []).join(), /will be replaced/);
	t.true(reviewRows(filled(), {saveDir: dir}).some((r) => r.id === 'saveAs' && r.value === join(dir, 'mailwizard-example.com.yaml')));
	t.regex(zonePathOf('/root/mailwizard-example.com.yaml'), /^\/root\/mailwizard-example\.com\.zone$/);
});

test('the saved answers file has no secret and is valid answers; the zone fragment beside it holds the records', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-saved-'));
	const f = answer(filled(), [['aliases', 'sales: alice, bob']]);
	const a = {
		...toAnswers(f, false),
		users: [
			{name: 'alice', password: 'correct horse'},
			{name: 'bob', passwordFile: '/root/bob.pass', password: 'battery staple'},
		],
	};
	const path = join(dir, 'mailwizard-example.com.yaml');
	const lines = await saveAnswers(dir, a, path);
	const text = readFileSync(path, 'utf8');
	t.notRegex(text, /correct horse|battery staple/);
	t.regex(text, /The password of alice was typed, so it is not here: on this server --answers keeps it; for another server, add password_file/);
	t.is(statSync(path).mode & 0o777, 0o600);
	const again = validateAnswers(parse(text), {passwordOptional: true});
	t.deepEqual({...again.aliases}.sales, ['alice', 'bob']);
	t.is(again.users[1]!.passwordFile, '/root/bob.pass');
	const zone = readFileSync(join(dir, 'mailwizard-example.com.zone'), 'utf8');
	t.regex(zone, /^example\.com\.\s+3600\s+IN\s+MX\s+10 mail\.example\.com\.$/m);
	t.regex(zone, /^_dmarc\.example\.com\.\s+3600\s+IN\s+TXT/m);
	t.regex(lines.join('\n'), new RegExp(`Answers saved to ${path}[\\s\\S]*DNS records saved to ${dir}/mailwizard-example\\.com\\.zone`));
	t.regex(answersFileText(a), /^# mailwizard answers, saved by the wizard/);
});

/** A first run's deps: nothing saved, a dry run that previews one empty plan. */
function dryDeps(saved: Array<{path: string; aliases: unknown}>): Deps & {codes: number[]} {
	const codes: number[] = [];
	return {
		codes,
		steps: [{id: 'dovecot', title: 'Dovecot', passwords: true}],
		data: {
			version: 1,
			steps: {},
			answers: {
				domain: 'example.com',
				hostname: 'mail.example.com',
				ipv4: '203.0.113.7',
				tls: {acme: {email: 'postmaster@example.com'}},
				users: [{name: 'alice', password_file: '/root/alice.pass'}],
				dmarc: {policy: 'reject'},
			},
		},
		stateFile: '/tmp/state.json',
		env: {...env, saveDir: '/home/op'},
		canApply: false,
		dryRun: true,
		answers: (f) => toAnswers(f, false),
		start: async () => ({
			events: (async function* () {
				return 'done' as Outcome;
			})(),
			init: 'systemd',
			release: () => {},
		}),
		preview: async () => ({plans: [{step: {id: 'dovecot', title: 'Dovecot', summary: '', facts: async () => null, plan: () => []}, actions: [], changes: 0}], init: 'systemd'}),
		async save(answers, path) {
			saved.push({path, aliases: publicAnswers(answers).aliases});
			return [`Answers saved to ${path}`];
		},
		exit: (code) => void codes.push(code),
	};
}

test('in the terminal: "More options" on the review asks the optional section, and the end saves the answers and says where', async (t) => {
	const saved: Array<{path: string; aliases: unknown}> = [];
	const d = dryDeps(saved);
	const {lastFrame, stdin} = render(<App deps={d} />);
	await until(lastFrame, /Enter continue/);
	await tick(100);
	await press(stdin, KEY.enter);
	let review = await until(lastFrame, /Review your answers/);
	t.regex(review, /TLS certificate +ACME \(Let's Encrypt\): obtained and renewed for mail\.example\.com/);
	t.regex(review, /More options +aliases: postmaster, abuse · catch-all: none/);
	t.regex(review, /Save answers to +\/home\/op\/mailwizard-example\.com\.yaml/);
	// Up from Continue: DMARC reports, policy, selector, then the save path and More options.
	await press(stdin, KEY.up, KEY.up, KEY.up, KEY.up, KEY.up, KEY.enter);
	await until(lastFrame, /Aliases/);
	t.regex(lastFrame()!, /postmaster: alice; abuse: alice/, 'the default aliases are shown');
	await press(stdin, '; sales: alice', KEY.enter);
	await until(lastFrame, /Catch-all user/);
	await press(stdin, 'alice', KEY.enter);
	for (const q of [/Extra mail domains/, /MTA-STS/, /TLS reports to/, /Remove another MTA/, /Greylisting/, /Ban password guessers/, /Never banned/]) {
		await until(lastFrame, q);
		await press(stdin, KEY.enter);
	}
	review = await until(lastFrame, /Review your answers/);
	t.regex(review, /More options +aliases: postmaster, abuse, sales · catch-all: alice/);
	await press(stdin, 'c');
	await until(lastFrame, /preview, nothing runs/);
	await press(stdin, KEY.enter);
	await until(lastFrame, /Answers saved to \/home\/op\/mailwizard-example\.com\.yaml/);
	t.deepEqual(saved, [{path: '/home/op/mailwizard-example.com.yaml', aliases: {postmaster: ['alice'], abuse: ['alice'], sales: ['alice']}}]);
	await until(() => String(d.codes.length), /[1-9]/);
	t.deepEqual(d.codes, [0]);
	t.false(existsSync('/home/op/mailwizard-example.com.yaml'), 'the test saved through deps only');
});

test('a review taller than the terminal shows a window that keeps the cursor (and Continue below) in view', (t) => {
	t.deepEqual(reviewWindow(15, 15, 20), {from: 0, to: 15}, 'all of it when it fits');
	t.deepEqual(reviewWindow(15, 15, 13), {from: 2, to: 15}, 'on Continue: the last answers');
	t.deepEqual(reviewWindow(15, 0, 13), {from: 0, to: 13}, 'on the first answer: the first ones');
	t.deepEqual(reviewWindow(15, 7, 5), {from: 3, to: 8});
});
