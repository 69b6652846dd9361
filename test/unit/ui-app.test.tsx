import test from 'ava';
import {render} from 'ink-testing-library';
import {KEY, press, tick, until} from '../helpers/ink.ts';
import {selfSigned} from '../helpers/tls.ts';
import {App, passwordStepsPending, type Deps} from '../../source/ui/App.tsx';
import {toAnswers} from '../../source/ui/form.ts';
import {publicAnswers} from '../../source/answers.ts';
import type {Decision, Outcome} from '../../source/engine/apply.ts';
import type {StepPlan} from '../../source/engine/plan.ts';
import type {StateData} from '../../source/engine/state.ts';
import type {Event, Step} from '../../source/engine/types.ts';
import {record} from '../helpers/fixtures.ts';
import type {CheckReport, ExpectedRecord} from '../../source/dns/types.ts';

const STEPS: Deps['steps'] = [
	{id: 'packages', title: 'Packages: OpenSMTPD, Dovecot, Rspamd'},
	{id: 'dns-records', title: 'DNS records to publish'},
	{id: 'dns-wait', title: 'Waiting for the DNS records on every authoritative server', waitsForDns: true},
	{id: 'dovecot', title: 'Dovecot', passwords: true},
	{id: 'opensmtpd', title: 'OpenSMTPD', passwords: true},
];

const tls = selfSigned('mail.example.com');

const SAVED = publicAnswers(
	toAnswers(
		{
			domain: 'example.com',
			hostname: 'mail.example.com',
			ipv4: '203.0.113.7',
			ipv6: '',
			cert: tls.cert,
			key: tls.key,
			users: [{name: 'alice', password: 'irrelevant'}],
			selector: 'mail',
			policy: 'reject',
			rua: '',
			extra: {},
		},
		false,
	),
);

const done = (at = '2025-01-01T00:00:00Z') => ({done: true, at});
const RESUMED: StateData = {version: 1, answers: SAVED, steps: {dovecot: done(), opensmtpd: done()}};

type Script = (confirm: (plan: StepPlan) => Promise<Decision>, signal: AbortSignal) => AsyncGenerator<Event, Outcome>;

function deps(over: Partial<Deps> & {script?: Script} = {}): Deps & {codes: number[]} {
	const d = {
		codes: [] as number[],
		steps: STEPS,
		data: RESUMED,
		stateFile: '/tmp/state.json',
		env: {root: '/', defaultIpv4: () => '203.0.113.7'},
		canApply: true,
		answers: (f: Parameters<Deps['answers']>[0]) => toAnswers(f, false),
		async start(_a: unknown, confirm: (plan: StepPlan) => Promise<Decision>, signal: AbortSignal) {
			return {
				events: (
					over.script ??
					async function* () {
						return 'done' as Outcome;
					}
				)(confirm, signal),
				init: 'systemd' as const,
				release: () => {},
			};
		},
		exit: (code: number) => {
			d.codes.push(code);
		},
		...over,
	};
	return d;
}

const step = (id: string): Step<null> => ({id, title: STEPS.find((s) => s.id === id)!.title, summary: '', facts: async () => null, plan: () => []});
const APT = {kind: 'run', cmd: {argv: ['apt-get', 'install', '-y', 'opensmtpd']}, why: 'the mail daemons'} as const;
const PLAN: StepPlan = {step: step('packages'), actions: [APT], changes: 1};
const rec = (host: string, type: ExpectedRecord['type'], value: string) => record('mx', type, host, value);
const RECORDS = [rec('@', 'MX', '10 mail.example.com.'), rec('_dmarc', 'TXT', 'v=DMARC1; p=reject')];
const REPORT: CheckReport = {
	zone: 'example.com',
	servers: ['ns1.example.net (192.0.2.53)'],
	checks: [
		{record: RECORDS[0]!, state: 'ok', results: [{server: 'ns1.example.net (192.0.2.53)', state: 'ok'}]},
		{record: RECORDS[1]!, state: 'missing', results: [{server: 'ns1.example.net (192.0.2.53)', state: 'missing'}]},
	],
	complete: false,
	problems: [],
	durationMs: 12,
};

const untilAborted = (signal: AbortSignal) => new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r())));

/** Plan review, apt with output, the records, then the DNS wait until aborted. */
const toTheWait: Script = async function* (confirm, signal) {
	yield {type: 'step', id: 'packages', title: STEPS[0]!.title, index: 0, total: 3};
	yield {type: 'plan', id: 'packages', actions: PLAN.actions};
	if ((await confirm(PLAN)) === 'quit') return 'quit';
	yield {type: 'action', id: 'packages', action: APT, status: 'start'};
	for (let i = 1; i <= 10; i++) yield {type: 'output', id: 'packages', line: `Unpacking package ${i} ...`};
	yield {type: 'action', id: 'packages', action: APT, status: 'done'};
	yield {type: 'step-done', id: 'packages', changed: 1};
	yield {type: 'step', id: 'dns-records', title: STEPS[1]!.title, index: 1, total: 3};
	yield {type: 'notice', id: 'dns-records', notice: {kind: 'notice', level: 'records', title: 'Publish these records in the DNS zone of example.com now', lines: [], records: RECORDS}};
	yield {type: 'step-done', id: 'dns-records', changed: 0};
	yield {type: 'step', id: 'dns-wait', title: STEPS[2]!.title, index: 2, total: 3};
	yield {type: 'wait', id: 'dns-wait', report: REPORT, nextPollIn: 30_000};
	await untilAborted(signal);
	yield {type: 'waiting', id: 'dns-wait', pending: 1};
	return 'interrupted';
};

const all = (frames: readonly string[]) => frames.join('\n');

test('a first run: every question in order, with inline errors, then the review; without root it stops before applying', async (t) => {
	const d = deps({data: {version: 1, steps: {}}, canApply: false});
	const {lastFrame, stdin} = render(<App deps={d} />);
	await until(lastFrame, /Enter start/);
	t.regex(lastFrame()!, /Not root/);
	// Ink listens for keys only after the first frame is committed; a key sent before that is lost
	// (the type-ahead item of issue 15, still open): wait for the listener, as a person would.
	await tick(100);
	await press(stdin, KEY.enter);
	await until(lastFrame, /Mail domain/);
	await press(stdin, 'example.com', KEY.enter);
	await until(lastFrame, /Host name/);
	await press(stdin, KEY.enter); // mail.example.com
	await until(lastFrame, /IPv4/);
	await press(stdin, KEY.enter); // 203.0.113.7 from the host
	t.regex(await until(lastFrame, /Enter again to use it/), /203\.0\.113\.7 is in a documentation range/);
	await press(stdin, KEY.enter);
	await until(lastFrame, /IPv6/);
	await press(stdin, KEY.enter); // none
	await until(lastFrame, /TLS certificate/);
	// No certificate files for the host name yet: ACME is the default (issue 16), said as it is checked.
	t.regex(lastFrame()!, /> acme/);
	t.regex(lastFrame()!, /✓ ACME: a certificate for mail\.example\.com is obtained once its name points here/);
	await press(stdin, ...Array.from({length: 60}, () => '\u007F'), tls.cert);
	await until(lastFrame, /✓ covers mail\.example\.com/);
	await press(stdin, KEY.enter);
	// The test certificate is self-signed: a warning saying what others will do (issue 15.4); a second Enter keeps it.
	t.regex(await until(lastFrame, /Enter again to use it/), /is self-signed/);
	await press(stdin, KEY.enter);
	await until(lastFrame, /TLS private key/);
	await press(stdin, ...Array.from({length: 60}, () => '\u007F'), tls.key);
	await until(lastFrame, /is the key of this certificate/);
	await press(stdin, KEY.enter);
	await until(lastFrame, /Enter again to use it/);
	await press(stdin, KEY.enter);
	await until(lastFrame, /First mail user/);
	await press(stdin, 'alice', KEY.enter);
	await until(lastFrame, /Password for alice/);
	await press(stdin, 'correct horse', KEY.enter);
	await until(lastFrame, /again/);
	await press(stdin, 'correct horse', KEY.enter);
	await until(lastFrame, /Another mail user/);
	await press(stdin, KEY.enter);
	await until(lastFrame, /DKIM selector/);
	await press(stdin, KEY.enter);
	await until(lastFrame, /DMARC policy/);
	await press(stdin, ...Array.from({length: 6}, () => '\u007F'), 'sometimes', KEY.enter);
	t.regex(await until(lastFrame, /✗/), /must be none, quarantine or reject/);
	await press(stdin, ...Array.from({length: 9}, () => '\u007F'), 'quarantine', KEY.enter);
	await until(lastFrame, /DMARC reports to/);
	await press(stdin, KEY.enter);
	const review = await until(lastFrame, /Review your answers/);
	t.regex(review, /Mail domain +example\.com/);
	t.regex(review, /User 1 +alice@example\.com {2}· password typed \(in memory only\)/);
	t.regex(review, /DMARC policy +quarantine/);
	t.notRegex(review, /correct horse/);
	await press(stdin, 'c');
	t.regex(await until(lastFrame, /Applying needs root/), /run it as root:\s+node \//);
	t.notRegex(lastFrame()!, /npx mailwizard/, 'never a command that does not exist here (issue 15.1)');
	await press(stdin, 'q');
	await until(() => String(d.codes.length), /[1-9]/);
	t.deepEqual(d.codes, [2]);
});

test('the review edits one answer and comes back to the review', async (t) => {
	const d = deps();
	const {lastFrame, stdin} = render(<App deps={d} />);
	await until(lastFrame, /Enter continue/);
	await press(stdin, KEY.enter);
	await until(lastFrame, /Review your answers/);
	// Up from "Continue" to the last answer (DMARC reports), then up twice more to the selector.
	await press(stdin, KEY.up, KEY.up, KEY.up, KEY.enter);
	await until(lastFrame, /Change an answer/);
	t.regex(lastFrame()!, /DKIM selector/);
	await press(stdin, ...Array.from({length: 4}, () => '\u007F'), '2025a', KEY.enter);
	t.regex(await until(lastFrame, /Review your answers/), /DKIM selector +2025a/);
});

test('a resumed run asks again for passwords only while a stage still hashes them', (t) => {
	t.true(passwordStepsPending(STEPS, {version: 1, steps: {dovecot: done()}}));
	t.false(passwordStepsPending(STEPS, RESUMED));
});

test('plan review, live output bounded to the last lines, the records, the DNS wait; q there exits 75', async (t) => {
	const d = deps({script: toTheWait});
	const {lastFrame, stdin, frames} = render(<App deps={d} />);
	await until(lastFrame, /Enter continue/);
	await press(stdin, KEY.enter);
	await until(lastFrame, /Review your answers/);
	await press(stdin, 'c');
	const review = await until(lastFrame, /\[1\/3\] Packages/);
	t.regex(review, /\$ apt-get install -y opensmtpd/);
	t.regex(review, /r\/Enter run · s skip this stage · q quit/);
	await press(stdin, 'r');
	const wait = await until(lastFrame, /You can quit now/);
	t.regex(wait, /✓ \$ apt-get install -y opensmtpd/, 'the finished command is a static line');
	t.regex(wait, /DNS: 1 of 2 records/);
	t.regex(wait, /TXT _dmarc +– +missing/);
	t.regex(wait, /Next check in (30|29) s/);
	const printed = all(frames);
	t.regex(printed, /MX {4}host @ {3}\(FQDN example\.com\.\)/, 'the records are printed for copying');
	t.regex(printed, /v=DMARC1; p=reject/);
	await press(stdin, 'q');
	await until(() => String(d.codes.length), /[1-9]/);
	t.deepEqual(d.codes, [75]);
	t.regex(lastFrame()!.replace(/\s+/g, ' '), /Waiting for 1 DNS record\. Progress is saved.*run `node .*` again to continue/);
});

test('output of a running command: a spinner, the label and only the last lines', async (t) => {
	let release!: () => void;
	const d = deps({
		script: async function* () {
			yield {type: 'step', id: 'packages', title: STEPS[0]!.title, index: 0, total: 3};
			yield {type: 'action', id: 'packages', action: APT, status: 'start'};
			for (let i = 1; i <= 10; i++) yield {type: 'output', id: 'packages', line: `Unpacking package ${i} ...`};
			await new Promise<void>((r) => (release = r));
			return 'done';
		},
	});
	const {lastFrame, stdin} = render(<App deps={d} />);
	await until(lastFrame, /Enter continue/);
	await press(stdin, KEY.enter, 'c');
	const f = await until(lastFrame, /Unpacking package 10/);
	t.regex(f, /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \$ apt-get install -y opensmtpd · \d+s/);
	t.notRegex(f, /Unpacking package 4 /, 'older lines scroll away');
	t.regex(f, /Unpacking package 5 /);
	release();
	await until(() => String(d.codes.length), /[1-9]/);
	t.deepEqual(d.codes, [0]);
});

test('Ctrl-C while a command runs: apply is aborted (its signal ends the command), exit 130 with how to resume', async (t) => {
	let aborted = false;
	const d = deps({
		script: async function* (_confirm, signal) {
			yield {type: 'step', id: 'packages', title: STEPS[0]!.title, index: 0, total: 3};
			yield {type: 'action', id: 'packages', action: APT, status: 'start'};
			await untilAborted(signal);
			aborted = true;
			return 'interrupted';
		},
	});
	const {lastFrame, stdin} = render(<App deps={d} />);
	await until(lastFrame, /Enter continue/);
	await press(stdin, KEY.enter, 'c');
	await until(lastFrame, /apt-get install/);
	await press(stdin, KEY.ctrlC);
	await tick(80);
	t.true(aborted);
	await until(() => String(d.codes.length), /[1-9]/);
	t.deepEqual(d.codes, [130]);
	t.regex(lastFrame()!.replace(/\s+/g, ' '), /Interrupted: progress is saved\. Run `node [^`]*` again to continue/, 'the wrap point depends on the path of the test runner');
});

test('Ctrl-C before anything runs exits 130 and says nothing changed', async (t) => {
	const d = deps();
	const {lastFrame, stdin} = render(<App deps={d} />);
	await until(lastFrame, /Enter continue/);
	await press(stdin, KEY.ctrlC);
	await until(() => String(d.codes.length), /[1-9]/);
	t.deepEqual(d.codes, [130]);
	t.regex(lastFrame()!, /nothing was changed/);
});

test('a failed step shows the command, its exit code, the tail of its output and the hint; exit 1', async (t) => {
	const d = deps({
		script: async function* () {
			yield {type: 'step', id: 'packages', title: STEPS[0]!.title, index: 0, total: 3};
			yield {
				type: 'error',
				id: 'packages',
				message: 'command failed with exit code 100',
				command: 'apt-get install -y opensmtpd',
				exitCode: 100,
				tail: 'E: Unable to locate package opensmtpd',
				hint: 'Check /etc/apt/sources.list, then run mailwizard again.',
			};
			return 'failed';
		},
	});
	const {lastFrame, stdin} = render(<App deps={d} />);
	await until(lastFrame, /Enter continue/);
	await press(stdin, KEY.enter, 'c');
	const f = await until(lastFrame, /A stage failed/);
	t.regex(f, /✗ command failed with exit code 100/);
	t.regex(f, /command: apt-get install -y opensmtpd \(exit code 100\)/);
	t.regex(f, /\| E: Unable to locate package opensmtpd/);
	t.regex(f, /Check \/etc\/apt\/sources\.list/);
	await until(() => String(d.codes.length), /[1-9]/);
	t.deepEqual(d.codes, [1]);
});

test('the finish shows the summary notice', async (t) => {
	const d = deps({
		script: async function* () {
			yield {type: 'step', id: 'finish', title: 'Done', index: 2, total: 3};
			yield {
				type: 'notice',
				id: 'finish',
				notice: {kind: 'notice', level: 'summary', title: 'example.com is served by mail.example.com', lines: ['Mail client settings:', '  IMAP      mail.example.com port 993']},
			};
			yield {type: 'step-done', id: 'finish', changed: 0};
			yield {type: 'done', changed: 7};
			return 'done';
		},
	});
	const {lastFrame, stdin} = render(<App deps={d} />);
	await until(lastFrame, /Enter continue/);
	await press(stdin, KEY.enter, 'c');
	const f = await until(lastFrame, /Finished: 7 changes applied/);
	t.regex(f, /example\.com is served by mail\.example\.com/);
	t.regex(f, /IMAP {6}mail\.example\.com port 993/);
	await until(() => String(d.codes.length), /[1-9]/);
	t.deepEqual(d.codes, [0]);
});

test('a resumed run that sees the DNS wait through: a log line for the records, the summary wrapped (never cut) at 80 columns, "every stage is done"', async (t) => {
	const server = 'ns1.example.net (192.0.2.53)';
	const complete: CheckReport = {...REPORT, checks: REPORT.checks.map((c) => ({...c, state: 'ok' as const, results: [{server, state: 'ok' as const}]})), complete: true};
	const long = '  IMAP      mail.example.com port 993, SSL/TLS, normal password, user alice@example.com (or alice)';
	const d = deps({
		script: async function* () {
			yield {type: 'step', id: 'dns-wait', title: STEPS[2]!.title, index: 2, total: 3};
			yield {type: 'wait', id: 'dns-wait', report: complete, nextPollIn: 0};
			yield {type: 'step-done', id: 'dns-wait', changed: 0};
			yield {type: 'step', id: 'finish', title: 'Done', index: 2, total: 3};
			yield {type: 'notice', id: 'finish', notice: {kind: 'notice', level: 'summary', title: 'example.com is served by mail.example.com', lines: ['Mail client settings:', long]}};
			yield {type: 'step-done', id: 'finish', changed: 0};
			yield {type: 'done', changed: 0};
			return 'done';
		},
	});
	const {lastFrame, frames, stdin, stdout} = render(<App deps={d} />);
	// ink-testing-library's terminal is 100 columns: the screen of an 80-column one.
	Object.defineProperty(stdout, 'columns', {value: 80});
	await until(lastFrame, /Enter continue/);
	await press(stdin, KEY.enter, 'c');
	await until(lastFrame, /Finished/);
	const text = all(frames);
	t.regex(text, /✓ DNS: all 2 records on every authoritative server of example\.com \(1 server\)/);
	t.regex(text.replace(/\s*\n\s*/g, ' '), /IMAP +mail\.example\.com port 993, SSL\/TLS, normal password, user alice@example\.com \(or alice\)/, 'the client settings are whole');
	t.notRegex(text, /user alice@…/, 'not cut at the edge');
	for (const l of lastFrame()!.split('\n')) t.true(l.length <= 80, `fits in 80 columns: ${l}`);
	t.regex(lastFrame()!.replace(/\s*\n\s*/g, ' '), /Finished: the DNS records are published and every stage is done\. Your mail server is ready\./);
	await until(() => String(d.codes.length), /[1-9]/);
	t.deepEqual(d.codes, [0]);
});

test('a resumed run stopped at the DNS wait checks the records again after the first frame and says what changed', async (t) => {
	const data: StateData = {...RESUMED, wait: {since: '2025-01-01T00:02:00Z', records: RECORDS, lastCheck: {at: '2025-01-01T00:05:00Z', ok: 1, total: 2}}};
	let release!: () => void;
	const gate = new Promise<void>((r) => (release = r));
	const d = deps({data, recheck: async () => (await gate, {ok: 2, total: 2})});
	const {lastFrame} = render(<App deps={d} />);
	const first = await until(lastFrame, /Enter continue/);
	t.regex(first, /DNS at the last check \(2025-01-01 00:05 UTC\): 1 of 2 records published\./);
	t.regex(first, /Checking the DNS records now…/, 'the first frame does not wait for the network');
	release();
	t.regex(await until(lastFrame, /DNS now/), /DNS now: 2 of 2 published \(was 1\): Enter finishes the setup\./);
	const failing = deps({data, recheck: async () => Promise.reject(new Error('no authoritative server answered'))});
	const other = render(<App deps={failing} />);
	t.regex(await until(other.lastFrame, /the check failed/), /DNS now: the check failed \(no authoritative server answered\); the wait checks again\./);
});
