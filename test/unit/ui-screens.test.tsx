import test from 'ava';
import {render} from 'ink-testing-library';
import {KEY, press, tick, until} from '../helpers/ink.ts';
import {fitTitle, shortTitle, StepList, stagesFrom} from '../../source/ui/StepList.tsx';
import {STEPS as REGISTRY} from '../../steps/index.ts';
import {resumeLines, Welcome} from '../../source/ui/Welcome.tsx';
import {Questions} from '../../source/ui/Questions.tsx';
import {PlanReview} from '../../source/ui/PlanReview.tsx';
import {WaitPanel} from '../../source/ui/WaitPanel.tsx';
import {EMPTY_FORM, firstRunFields, type Form} from '../../source/ui/form.ts';
import type {StepPlan} from '../../source/engine/plan.ts';
import type {StateData} from '../../source/engine/state.ts';
import {record} from '../helpers/fixtures.ts';
import type {CheckReport, ExpectedRecord} from '../../source/dns/types.ts';
import {recordLines} from '../../source/ui/records.ts';

const STEPS = [
	{id: 'preflight', title: 'Preflight: system, memory'},
	{id: 'packages', title: 'Packages (OpenSMTPD, Dovecot, Rspamd)'},
	{id: 'dns-wait', title: 'Waiting for the DNS records on every authoritative server', waitsForDns: true},
	{id: 'finish', title: 'Done: what to tell your mail client'},
];

const RESUMED: StateData = {
	version: 1,
	answers: {domain: 'example.com'},
	steps: {preflight: {done: true, at: '2025-01-01T00:00:00Z'}, packages: {done: true, at: '2025-01-01T00:01:00Z'}},
	wait: {since: '2025-01-01T00:02:00Z', records: [], lastCheck: {at: '2025-01-01T00:05:00Z', ok: 3, total: 5}},
};

test('the step list shows done, waiting on DNS and pending stages from the saved state', (t) => {
	const {lastFrame} = render(<StepList stages={stagesFrom(STEPS, RESUMED)} />);
	const f = lastFrame()!;
	t.regex(f, /✓ {2}1\. Preflight: system, memory {2}done/);
	t.regex(f, /✓ {2}2\. Packages \(OpenSMTPD, Dovecot, Rspamd\) {2}done/);
	t.regex(f, /… {2}3\. Waiting for the DNS records on every authoritative server {2}waiting on DNS/);
	t.regex(f, /· {2}4\. Done: what to tell your mail client$/m);
	t.notRegex(f, /4\. Done {2}done/);
});

test('a resumed run says where it stopped and how many records were published', (t) => {
	const lines = resumeLines(stagesFrom(STEPS, RESUMED), RESUMED);
	t.is(lines[0], 'Saved progress for example.com: 2 of 4 stages done.');
	t.is(lines[1], 'It stopped at stage 3: waiting for the DNS records.');
	t.regex(lines[2]!, /3 of 5 records published/);
	const {lastFrame} = render(<Welcome stages={stagesFrom(STEPS, RESUMED)} data={RESUMED} stateFile="/var/lib/mailwizard/state.json" onStart={() => {}} onQuit={() => {}} />);
	t.regex(lastFrame()!, /Enter continue/);
	t.regex(lastFrame()!, /3 of 5 records published/);
});

test('every stage of the registry, resumed at the DNS wait with a live DNS line, fits 80x24 with its keys (the blank lines go first)', (t) => {
	const steps = Object.fromEntries(
		REGISTRY.slice(
			0,
			REGISTRY.findIndex((s) => s.id === 'dns-wait'),
		).map((s) => [s.id, {done: true, at: '2025-01-01T00:00:00Z'}]),
	);
	const data: StateData = {...RESUMED, steps};
	const {lastFrame} = render(
		<Welcome
			stages={stagesFrom(REGISTRY, data)}
			data={data}
			stateFile="/var/lib/mailwizard/state.json"
			dnsNow="DNS now: 5 of 5 published (was 3): Enter finishes the setup."
			onStart={() => {}}
			onQuit={() => {}}
		/>,
	);
	const f = lastFrame()!;
	t.regex(f, /Enter continue/);
	t.regex(f, /3 of 5 records published/);
	t.true(f.split('\n').length < 24, `${f.split('\n').length} lines`);
});

test('a first run has no resume lines and offers to start', (t) => {
	const data: StateData = {version: 1, steps: {}};
	t.deepEqual(resumeLines(stagesFrom(STEPS, data), data), []);
	const {lastFrame} = render(<Welcome stages={stagesFrom(STEPS, data)} data={data} stateFile="/tmp/s.json" onStart={() => {}} onQuit={() => {}} />);
	t.regex(lastFrame()!, /Enter start/);
});

test('questions: an invalid answer shows the reason inline and keeps the question; a valid one moves on with the next default', async (t) => {
	let done: Form | undefined;
	const {lastFrame, stdin} = render(<Questions form={EMPTY_FORM} fields={firstRunFields} env={{root: '/', defaultIpv4: () => '203.0.113.7'}} onDone={(f) => (done = f)} />);
	await until(lastFrame, /Mail domain/);
	await press(stdin, 'not a domain', KEY.enter);
	const f = await until(lastFrame, /✗/);
	t.regex(f, /"not a domain" is not a valid domain name/);
	t.regex(f, /Mail domain/);
	// Clear what was typed and answer properly.
	await press(stdin, ...Array.from({length: 12}, () => '\u007F'), 'Example.COM', KEY.enter);
	const g = await until(lastFrame, /Host name of this server/);
	t.regex(g, /> mail\.example\.com/, 'the host name default comes from the domain');
	t.regex(g, /Mail domain: example\.com/, 'answered questions stay visible');
	await press(stdin, KEY.enter);
	t.regex(await until(lastFrame, /Public IPv4 address/), /> 203\.0\.113\.7/);
	await press(stdin, KEY.escape);
	await until(lastFrame, /Host name of this server/);
	t.is(done, undefined);
});

test('questions: passwords are masked, too short is refused, and a mismatch asks again', async (t) => {
	const form: Form = {...EMPTY_FORM, domain: 'example.com', users: [{name: 'alice'}]};
	let done: Form | undefined;
	const {lastFrame, stdin} = render(<Questions form={form} fields={() => ['password:0', 'again:0']} env={{root: '/', defaultIpv4: () => undefined}} onDone={(f) => (done = f)} />);
	await press(stdin, 'short', KEY.enter);
	t.regex(await until(lastFrame, /✗/), /too short: at least 8 characters \(5 typed\)/);
	await press(stdin, ...Array.from({length: 5}, () => '\u007F'), 'secret-pass');
	const typed = await until(lastFrame, /\*{11}/);
	t.notRegex(typed, /secret-pass/, 'the password is never on screen');
	await press(stdin, KEY.enter);
	await until(lastFrame, /The password for alice again/);
	await press(stdin, 'secret-pasS', KEY.enter);
	t.regex(await until(lastFrame, /✗/), /the two passwords differ/);
	await press(stdin, 'secret-pass', KEY.enter);
	await tick();
	t.is(done?.users[0]?.password, 'secret-pass');
});

const diffPlan = (n: number): StepPlan => ({
	step: {id: 'dovecot', title: 'Dovecot: IMAP and authentication', summary: '', facts: async () => null, plan: () => []},
	actions: [
		{
			kind: 'file',
			path: '/etc/dovecot/dovecot.conf',
			content: Array.from({length: n}, (_v, i) => `line ${i + 1}`).join('\n') + '\n',
			mode: 0o644,
			why: 'the IMAP server',
			old: 'line 1\nold line\n',
			metaOnly: false,
		},
		{kind: 'service', name: 'dovecot', op: 'restart', why: 'load the new configuration'},
	],
	changes: 2,
});

test('the plan review shows the file diff in a bounded box that scrolls, and Run / Skip / Quit', async (t) => {
	const decisions: string[] = [];
	const {lastFrame, stdin} = render(<PlanReview plan={diffPlan(40)} init="systemd" index={6} total={11} height={10} onDecision={(d) => decisions.push(d)} />);
	const f = lastFrame()!;
	t.regex(f, /\[7\/11\] Dovecot: IMAP and authentication/);
	t.regex(f, /2 changes to review/);
	t.regex(f, /update \/etc\/dovecot\/dovecot\.conf \(0644\)/);
	t.regex(f, /-old line/);
	t.regex(f, /\+line 2/);
	t.regex(f, /lines 1–10 of \d+/);
	t.notRegex(f, /systemctl restart dovecot/, 'the end of the plan is below the fold');
	t.regex(f, /r\/Enter run · s skip this stage · q quit/);
	await press(stdin, KEY.pageDown, KEY.pageDown, KEY.pageDown, KEY.pageDown, KEY.pageDown);
	const g = lastFrame()!;
	t.regex(g, /systemctl restart dovecot/);
	t.regex(g, /lines \d+–\d+ of \d+/);
	await press(stdin, KEY.up);
	await press(stdin, 's');
	await press(stdin, 'q');
	await press(stdin, KEY.enter);
	t.deepEqual(decisions, ['skip', 'quit', 'run']);
});

const rec = record;

const REPORT: CheckReport = {
	zone: 'example.com',
	servers: ['ns1.example.net (192.0.2.53)', 'ns2.example.net (198.51.100.53)'],
	checks: [
		{
			record: rec('mx', 'MX', '@', '10 mail.example.com.'),
			state: 'ok',
			results: [
				{server: 'ns1.example.net (192.0.2.53)', state: 'ok'},
				{server: 'ns2.example.net (198.51.100.53)', state: 'ok'},
			],
		},
		{
			record: rec('spf', 'TXT', '@', 'v=spf1 mx -all'),
			state: 'wrong',
			results: [
				{server: 'ns1.example.net (192.0.2.53)', state: 'ok'},
				{server: 'ns2.example.net (198.51.100.53)', state: 'wrong', detail: '"v=spf1 a ~all"'},
			],
		},
		{
			record: rec('dmarc', 'TXT', '_dmarc', 'v=DMARC1; p=reject'),
			state: 'missing',
			results: [
				{server: 'ns1.example.net (192.0.2.53)', state: 'missing'},
				{server: 'ns2.example.net (198.51.100.53)', state: 'missing'},
			],
		},
	],
	complete: false,
	negativeTtl: 300,
	problems: [],
	durationMs: 40,
};

test('the DNS wait shows each record on each server as ok, missing or wrong, the countdown and how to quit', (t) => {
	const {lastFrame} = render(<WaitPanel report={REPORT} nextIn={27} />);
	const f = lastFrame()!;
	t.regex(f, /DNS: 1 of 3 records on every authoritative server of example\.com/);
	t.regex(f, /MX @ +✓ +✓ +ok/);
	t.regex(f, /TXT @ +✓ +≠ +wrong/);
	t.regex(f, /TXT _dmarc +– +– +missing/);
	t.regex(f, /1 = ns1\.example\.net \(192\.0\.2\.53\)/);
	t.regex(f, /TXT @ on ns2\.example\.net: found "v=spf1 a ~all"/);
	t.regex(f, /Next check in 27 s/);
	t.regex(f, /You can quit now \(q\): run `node [^`]*` again later to\s+continue/);
});

test('the DNS wait keeps a space between the longest record name and its first cell, and the server numbers above the cells', (t) => {
	const dkim = rec('dkim', 'TXT', 'mail._domainkey', 'v=DKIM1; k=rsa; p=AAAA');
	const server = 'ns1.example.test (10.77.0.53)';
	const report: CheckReport = {
		...REPORT,
		zone: 'example.test',
		servers: [server],
		checks: [
			{record: dkim, state: 'missing', results: [{server, state: 'missing'}]},
			{record: rec('mx', 'MX', '@', '10 mail.example.test.'), state: 'ok', results: [{server, state: 'ok'}]},
		],
		negativeTtl: 30,
	};
	const lines = render(<WaitPanel report={report} nextIn={1} />)
		.lastFrame()!
		.split('\n');
	const row = lines.find((l) => l.includes('mail._domainkey'))!;
	t.regex(row, /TXT mail\._domainkey +– +missing/, row);
	const header = lines[1]!;
	t.is(header.indexOf('1'), row.indexOf('–'), 'the server number stands above its cell');
	t.is(lines.find((l) => l.includes('MX @'))!.indexOf('✓'), row.indexOf('–'), "every row's cells in one column");
});

test('the DNS wait shows a wrong value whole on two lines, not cut at the screen edge; three problems at most', (t) => {
	const server = 'ns1.example.test (10.77.0.53)';
	const found = '"v=DMARC1; p=reject; sp=reject; pct=100; aspf=s; adkim=s; fo=1"';
	const dmarc = rec('dmarc', 'TXT', '_dmarc', 'v=DMARC1; p=reject; sp=reject; pct=100; aspf=s; adkim=s; fo=1; rua=mailto:postmaster@example.test');
	const wrong = (r: ExpectedRecord) => ({record: r, state: 'wrong' as const, results: [{server, state: 'wrong' as const, detail: found}]});
	const report: CheckReport = {
		...REPORT,
		zone: 'example.test',
		servers: [server],
		checks: [wrong(dmarc), wrong(rec('spf', 'TXT', '@', 'v=spf1 mx -all')), wrong(rec('mx', 'MX', '@', '10 mail.example.test.')), wrong(rec('dkim', 'TXT', 'mail._domainkey', 'v=DKIM1; p=AAAA'))],
		problems: [],
	};
	const f = render(<WaitPanel report={report} nextIn={1} width={80} />).lastFrame()!;
	t.regex(f.replace(/\s*\n\s*/g, ' '), /TXT _dmarc on ns1\.example\.test: found "v=DMARC1; p=reject; sp=reject; pct=100; aspf=s; adkim=s; fo=1"/);
	t.is(f.match(/ on ns1\.example\.test: found/g)?.length, 3);
});

test('records to publish: relative host and FQDN, the DKIM value whole and as 255-byte strings', (t) => {
	const long = `v=DKIM1; k=rsa; p=${'A'.repeat(380)}`;
	const lines = recordLines([
		rec('dkim', 'TXT', 'mail._domainkey', long, [long.slice(0, 255), long.slice(255)]),
		{...rec('ptr', 'PTR', 'x', 'mail.example.com.'), name: '7.113.0.203.in-addr.arpa', publishable: false, note: 'ask the provider of 203.0.113.7'},
	]);
	t.is(lines[0], 'TXT   host mail._domainkey   (FQDN mail._domainkey.example.com.)   TTL 3600');
	t.is(lines[1], `      ${long}`, 'the whole value on one line, for copying');
	t.regex(lines[2]!, /as 2 strings: "v=DKIM1; k=rsa; p=A+" "A+"/);
	t.true(lines.includes('PTR   7.113.0.203.in-addr.arpa.  ->  mail.example.com.'));
});

test('issue 15.7: Ctrl-U followed at once by typed or pasted text clears the line and keeps the new text', async (t) => {
	const {lastFrame, stdin} = render(<Questions form={EMPTY_FORM} fields={firstRunFields} env={{root: '/', defaultIpv4: () => undefined}} onDone={() => {}} />);
	await until(lastFrame, /Mail domain/);
	await tick(50);
	stdin.write('old.test');
	await until(lastFrame, /> old\.test/);
	// A slow SSH link or a paste: the clear and the new text in one chunk.
	stdin.write('\u0015new.test');
	await tick(50);
	t.regex(lastFrame()!, /> new\.test/);
	t.notRegex(lastFrame()!, /old|\u0015/);
	// Typed at once after the clear: separate reads, nothing drawn in between.
	const nextRead = () => new Promise((r) => setImmediate(r));
	stdin.write('\u0015');
	await nextRead();
	stdin.write('b');
	await nextRead();
	stdin.write('c');
	await tick(50);
	t.regex(lastFrame()!, /> bc/);
	t.notRegex(lastFrame()!, /new\.test/);
});

test('issue 15.2: at 60 columns every stage of the registry is named on one line, never cut mid-word', (t) => {
	const data: StateData = {version: 1, steps: {}};
	const {lastFrame} = render(<StepList stages={stagesFrom(REGISTRY, data)} width={60} />);
	const lines = lastFrame()!.split('\n');
	t.is(lines.length, REGISTRY.length);
	for (const [i, line] of lines.entries()) {
		t.true(line.length <= 60, line);
		t.true(line.includes(shortTitle(REGISTRY[i]!.title)), `${line} names ${shortTitle(REGISTRY[i]!.title)}`);
	}
	t.is(fitTitle('Waiting for the DNS records on every authoritative server', 30), 'Waiting for the DNS records…');
	t.is(fitTitle('DKIM key: generated once', 80), 'DKIM key: generated once');
});
