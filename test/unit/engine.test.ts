import test from 'ava';
import {existsSync, readFileSync, statSync, writeFileSync, mkdirSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {apply} from '../../source/engine/apply.ts';
import {fakeExec, showCmd} from '../../source/engine/exec.ts';
import {writeFileAction} from '../../source/engine/files.ts';
import {planStep} from '../../source/engine/plan.ts';
import {printPlan} from '../../source/engine/print.ts';
import {openState} from '../../source/engine/state.ts';
import type {Ctx, Event, FileAction, Step} from '../../source/engine/types.ts';
import type {Exec} from '../../source/engine/exec.ts';
import {DEBIAN12, HOST, RAW, answers, scratchRoot} from '../helpers/fixtures.ts';

function ctxFor(root: string, exec: Exec = fakeExec()): Ctx {
	return {root, exec, profile: DEBIAN12, readOnly: false, resolvers: [], host: HOST};
}

const file = (path: string, content: string, extra: Partial<FileAction> = {}): FileAction => ({kind: 'file', path, content, mode: 0o640, why: 'test', ...extra});

test('a file is written through a temp file with its mode, and the old one is backed up', async (t) => {
	const root = scratchRoot();
	mkdirSync(join(root, 'etc/x'), {recursive: true});
	writeFileSync(join(root, 'etc/x/a.conf'), 'old\n');
	const backup = await writeFileAction(root, fakeExec(), file('/etc/x/a.conf', 'new\n'), 'stamp');
	t.is(readFileSync(join(root, 'etc/x/a.conf'), 'utf8'), 'new\n');
	t.is(statSync(join(root, 'etc/x/a.conf')).mode & 0o777, 0o640);
	t.truthy(backup);
	t.is(readFileSync(backup!, 'utf8'), 'old\n');
	t.deepEqual(readdirSync(join(root, 'etc/x')), ['a.conf'], 'no temp file left');
});

test('a failed validation leaves the old file untouched', async (t) => {
	const root = scratchRoot();
	writeFileSync(join(root, 'etc/a.conf'), 'old\n');
	const exec = fakeExec([{match: (argv) => argv[0] === 'checker', result: {exitCode: 1, stdout: '', stderr: 'line 3: syntax error'}}]);
	const error = await t.throwsAsync(writeFileAction(root, exec, file('/etc/a.conf', 'broken\n', {validate: ['checker', '-n', '%s']}), 's'));
	t.regex(error!.message, /checking the new \/etc\/a.conf/);
	t.is(readFileSync(join(root, 'etc/a.conf'), 'utf8'), 'old\n');
	t.regex(exec.calls[0]!.argv[2]!, /a\.conf\.mailwizard-[0-9a-f]{24}\.tmp$/, 'the validator sees the temp file (an unpredictable name)');
	t.deepEqual(
		readdirSync(join(root, 'etc')).filter((f) => f.includes('tmp')),
		[],
	);
});

test('a failed verify after the rename restores the previous file', async (t) => {
	const root = scratchRoot();
	writeFileSync(join(root, 'etc/b.conf'), 'old\n');
	const exec = fakeExec([{match: (argv) => argv[0] === 'verify', result: {exitCode: 2, stdout: '', stderr: 'no'}}]);
	await t.throwsAsync(writeFileAction(root, exec, file('/etc/b.conf', 'new\n', {verify: [{argv: ['verify']}]}), 's'));
	t.is(readFileSync(join(root, 'etc/b.conf'), 'utf8'), 'old\n');
});

test('the writer refuses a placeholder (NUL) so an unknown password hash is never written', async (t) => {
	const root = scratchRoot();
	await t.throwsAsync(writeFileAction(root, fakeExec(), file('/etc/users', 'alice:\u0000x\u0000\n'), 's'));
	t.false(existsSync(join(root, 'etc/users')));
});

const twoFiles: Step<null> = {
	id: 'two',
	title: 'two files of one service',
	summary: '',
	async facts() {
		return null;
	},
	plan: () => [
		file('/etc/svc/a', 'A\n', {restarts: 'svc'}),
		file('/etc/svc/b', 'B\n', {restarts: 'svc'}),
		{kind: 'service', name: 'svc', op: 'restart', why: 'load'},
		{kind: 'service', name: 'svc', op: 'restart', why: 'load again'},
	],
};

async function drain(gen: AsyncGenerator<Event, string>): Promise<{events: Event[]; outcome: string}> {
	const events: Event[] = [];
	for (;;) {
		const n = await gen.next();
		if (n.done) return {events, outcome: n.value};
		events.push(n.value);
	}
}

test('apply runs a service restart once after its files, then a re-plan changes nothing', async (t) => {
	const root = scratchRoot();
	let running = false;
	const exec = fakeExec([
		{match: (a) => a[0] === 'service' && a[2] === 'status', result: () => ({exitCode: running ? 0 : 3, stdout: '', stderr: ''})},
		{match: (a) => a[0] === 'service' && a[2] !== 'status', result: () => ((running = true), {exitCode: 0, stdout: '', stderr: ''})},
	]);
	const state = openState(join(root, 'state'), false);
	const {outcome, events} = await drain(apply({steps: [twoFiles], ctx: ctxFor(root, exec), answers: answers(), state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
	t.is(outcome, 'done');
	const serviceCalls = exec.calls.filter((c) => c.argv[0] === 'service' && c.argv[2] !== 'status').map((c) => c.argv.join(' '));
	t.deepEqual(serviceCalls, ['service svc start'], 'not running before: started once, not restarted twice');
	t.true(events.some((e) => e.type === 'step-done' && e.changed === 3));
	t.true(state.data().steps.two!.done);
	const again = await planStep(twoFiles, ctxFor(root, exec), answers(), [twoFiles]);
	t.is(again.changes, 0);
	t.deepEqual(again.actions, []);
	// A changed file now restarts the running service.
	writeFileSync(join(root, 'etc/svc/a'), 'changed by hand\n');
	const third = await planStep(twoFiles, ctxFor(root, exec), answers(), [twoFiles]);
	t.deepEqual(
		third.actions.map((a) => (a.kind === 'service' ? `${a.op} ${a.name}` : a.kind)),
		['file', 'restart svc'],
	);
});

test('a failing command stops the step, restores its files and keeps earlier progress', async (t) => {
	const root = scratchRoot();
	const exec = fakeExec([{match: (a) => a[0] === 'false', result: {exitCode: 1, stdout: 'out\n', stderr: 'it broke\n'}}]);
	const ok: Step<null> = {id: 'ok', title: 'ok', summary: '', facts: async () => null, plan: () => [file('/etc/ok', 'ok\n')]};
	const bad: Step<null> = {id: 'bad', title: 'bad', summary: '', facts: async () => null, plan: () => [file('/etc/new-file', 'x\n'), {kind: 'run', cmd: {argv: ['false']}, why: 'fails'}]};
	const state = openState(join(root, 'state'), false);
	const {outcome, events} = await drain(apply({steps: [ok, bad], ctx: ctxFor(root, exec), answers: answers(), state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
	t.is(outcome, 'failed');
	const error = events.find((e) => e.type === 'error');
	t.like(error, {type: 'error', id: 'bad', exitCode: 1, command: 'false'});
	t.regex((error as {tail: string}).tail, /it broke/);
	t.false(existsSync(join(root, 'etc/new-file')), 'the step rolled back its new file');
	t.true(state.data().steps.ok!.done);
	t.is(state.data().steps.bad, undefined);
});

test("20: a failing command's own error line is in the message, and its failHint follows (apt's mirror gone midway)", async (t) => {
	const root = scratchRoot();
	const out =
		'Get:1 http://deb.debian.org/debian bookworm/main amd64 libx 1.0 [10 kB]\nErr:2 http://deb.debian.org/debian bookworm/main amd64 rspamd 3.4\n  503  Service Unavailable\nE: Failed to fetch http://deb.debian.org/debian/pool/main/r/rspamd/rspamd_3.4_amd64.deb  503  Service Unavailable\nE: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?\n';
	const exec = fakeExec([{match: (a) => a[0] === 'apt-get', result: {exitCode: 100, stdout: out, stderr: ''}}]);
	const step: Step<null> = {
		id: 'pk',
		title: 'pk',
		summary: '',
		facts: async () => null,
		plan: () => [{kind: 'run', cmd: {argv: ['apt-get', 'install', 'rspamd'], failHint: 'Nothing was left half-installed.'}, why: 'x'}],
	};
	const state = openState(join(root, 'state'), false);
	const {outcome, events} = await drain(apply({steps: [step], ctx: ctxFor(root, exec), answers: answers(), state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
	t.is(outcome, 'failed');
	const error = events.find((e) => e.type === 'error') as {message: string; hint?: string};
	t.is(error.message, 'command failed with exit code 100: E: Failed to fetch http://deb.debian.org/debian/pool/main/r/rspamd/rspamd_3.4_amd64.deb  503  Service Unavailable');
	t.is(error.hint, 'Nothing was left half-installed.');
});

test('the dry-run printer masks secrets in commands and diffs', async (t) => {
	const root = scratchRoot();
	writeFileSync(join(root, 'etc/srs.conf'), 'srs key "OLDSECRET"\n');
	const step: Step<null> = {
		id: 's',
		title: 'secrets',
		summary: '',
		facts: async () => null,
		plan: () => [
			file('/etc/srs.conf', 'srs key "OLDSECRET"\nsrs key backup "NEWSECRET"\n', {secrets: ['OLDSECRET', 'NEWSECRET']}),
			{kind: 'run', cmd: {argv: ['smtpctl', 'encrypt'], stdin: 'hunter22\n', secrets: ['hunter22']}, why: 'hash'},
		],
	};
	const plan = await planStep(step, ctxFor(root), answers(), [step]);
	const text = printPlan([plan], 'sysv');
	t.notRegex(text, /OLDSECRET|NEWSECRET|hunter22/);
	t.regex(text, /\(a secret: its content changes; neither the old nor the new one is shown\)/, 'a file with secrets is never diffed line by line');
	t.regex(text, /smtpctl encrypt <<< \*\*\*\*\*\*\*\*/);
	t.is(showCmd({argv: ['doveadm', 'pw', '-t', '{CRYPT}$y$H'], stdin: 'Tr0ub4dor&3\n', secrets: ['Tr0ub4dor&3']}), "doveadm pw -t '{CRYPT}$y$H' <<< ********");
});

test('the state never holds a password', async (t) => {
	const root = scratchRoot();
	const state = openState(join(root, 'state'), false);
	const a = {...answers(), users: [{name: 'alice', password: 'sup3rsecret!', passwordFile: '/root/a.pass'}]};
	await drain(apply({steps: [], ctx: ctxFor(root), answers: a, state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
	const raw = readFileSync(join(root, 'state/state.json'), 'utf8');
	t.notRegex(raw, /sup3rsecret/);
	t.regex(raw, /a\.pass/);
	t.is(statSync(join(root, 'state')).mode & 0o777, 0o700);
});

test('an abort ends the running command and the outcome is interrupted, with progress kept', async (t) => {
	const root = scratchRoot();
	const controller = new AbortController();
	const {realExec} = await import('../../source/engine/exec.ts');
	const slow: Step<null> = {id: 'slow', title: 'slow', summary: '', facts: async () => null, plan: () => [{kind: 'run', cmd: {argv: ['sleep', '30']}, why: 'long'}]};
	const state = openState(join(root, 'state'), false);
	const started = Date.now();
	setTimeout(() => controller.abort(), 300);
	const {outcome} = await drain(
		apply({steps: [slow], ctx: ctxFor(root, realExec()), answers: answers(), state, wait: 'once', signal: controller.signal, checkDns: async () => Promise.reject(new Error('unused'))}),
	);
	t.is(outcome, 'interrupted');
	t.true(Date.now() - started < 5000, 'the sleep was ended, not waited for');
	t.is(state.data().steps.slow, undefined);
});

test('a service command returns when it exits, even though the daemon it started keeps running', async (t) => {
	const {realExec} = await import('../../source/engine/exec.ts');
	const started = Date.now();
	const r = await realExec().run({argv: ['sh', '-c', 'echo starting; echo warn >&2; sleep 5 & exit 0'], daemon: true});
	t.true(Date.now() - started < 3000, 'not blocked by the background child holding the output');
	t.is(r.exitCode, 0);
	t.is(r.stdout, 'starting\nwarn\n');
});

test('apt and service commands show their lines as they come, and a daemon their postinst starts holds nothing', async (t) => {
	const {realExec} = await import('../../source/engine/exec.ts');
	const started = Date.now();
	const seen: Array<[string, number]> = [];
	// As a postinst on a host without systemd: a line, a pause, a line, a daemon left running.
	const r = await realExec().run({argv: ['sh', '-c', 'echo Unpacking dovecot-core; sleep 1; read x; echo "Setting up $x"; sleep 5 & exit 3'], daemon: true, stdin: 'dovecot-imapd\n'}, (line) =>
		seen.push([line, Date.now() - started]),
	);
	t.true(Date.now() - started < 3000, 'not blocked by the daemon');
	t.is(r.exitCode, 3);
	t.deepEqual(
		seen.map(([l]) => l),
		['Unpacking dovecot-core', 'Setting up dovecot-imapd'],
	);
	// The command pauses 1 s between its lines: streamed, they arrive about 1 s apart (buffered, together).
	t.true(seen[1]![1] - seen[0]![1] >= 500, `the first line showed while the command still ran (${seen[0]![1]} ms, then ${seen[1]![1]} ms)`);
	t.is(r.stdout, 'Unpacking dovecot-core\nSetting up dovecot-imapd\n');
});

test('a restart waits for the old daemon to go before starting (sysv); systemd restarts itself', async (t) => {
	const {serviceCmd, serviceRunning} = await import('../../source/engine/services.ts');
	// The binary comes from the stage that manages the daemon (Step.daemons in the registry).
	const {STEPS} = await import('../../steps/index.ts');
	const smtpd = STEPS.flatMap((s) => s.daemons ?? []).find((d) => d.service === 'opensmtpd')!.exe;
	const sysv = serviceCmd('sysv', 'opensmtpd', 'restart', smtpd);
	t.is(sysv.argv[0], 'sh');
	t.regex(sysv.argv[2]!, /^alive\(\) \{.*\}; service opensmtpd stop; .*while alive \/usr\/sbin\/smtpd .*; service opensmtpd start \|\| \{ sleep 2; service opensmtpd start; \}$/);
	t.true(sysv.daemon);
	t.deepEqual(serviceCmd('systemd', 'opensmtpd', 'restart').argv, ['sh', '-c', 'systemctl daemon-reload && systemctl restart opensmtpd']);
	t.deepEqual(serviceCmd('systemd', 'dovecot', 'start').argv, ['sh', '-c', 'systemctl daemon-reload && systemctl enable --now dovecot']);
	// As OpenSMTPD's init script: "stop" returns at once and the daemon goes 1 s later;
	// "status" exits 0 whether or not it runs. The wait follows the daemon's process itself.
	const {mkdtempSync, writeFileSync, chmodSync, copyFileSync} = await import('node:fs');
	const {tmpdir} = await import('node:os');
	const {spawn} = await import('node:child_process');
	const dir = mkdtempSync(join(tmpdir(), 'mw-svc-'));
	const daemon = join(dir, 'fake-smtpd');
	copyFileSync('/bin/sleep', daemon);
	chmodSync(daemon, 0o755);
	writeFileSync(
		join(dir, 'service'),
		`#!/bin/sh\ncase "$2" in\nstop) (sleep 1; kill $(cat ${dir}/pid)) >/dev/null 2>&1 & ;;\nstatus) echo "not running ... failed!"; exit 0 ;;\nstart) echo started ;;\nesac\n`,
	);
	chmodSync(join(dir, 'service'), 0o755);
	const child = spawn(daemon, ['30'], {stdio: 'ignore'});
	writeFileSync(join(dir, 'pid'), String(child.pid));
	const {realExec} = await import('../../source/engine/exec.ts');
	const ctx = {profile: {init: 'sysv'}, exec: realExec()} as unknown as Parameters<typeof serviceRunning>[0];
	t.true(await serviceRunning(ctx, 'opensmtpd', daemon), 'its process runs');
	const started = Date.now();
	const r = await realExec().run({...serviceCmd('sysv', 'opensmtpd', 'restart', daemon), env: {PATH: `${dir}:/usr/bin:/bin`}});
	const took = Date.now() - started;
	t.is(r.exitCode, 0, r.stdout);
	t.regex(r.stdout, /started/);
	t.true(took >= 900 && took < 5000, `waited for the daemon to go, not for the 15 s limit (${took} ms)`);
	t.false(await serviceRunning(ctx, 'opensmtpd', daemon), 'gone, although its "status" says 0');
	t.false(await serviceRunning(ctx, 'opensmtpd', join(dir, 'never-started')));
});

// Issue 17: a day-two change (scope "change") is one unit: saved only once it converged.
const tables: Step<null> = {id: 'tables', title: 'tables', summary: '', facts: async () => null, plan: () => [file('/etc/t/users', 'alice\ncarol\n', {onChange: [{argv: ['reload-users']}]})]};
const failing: Step<null> = {id: 'failing', title: 'failing', summary: '', facts: async () => null, plan: () => [file('/etc/t/other', 'carol\n'), {kind: 'run', cmd: {argv: ['false']}, why: 'fails'}]};
const pending = {since: '2026-01-01T00:00:00.000Z', records: [], lastCheck: {at: '2026-01-01T00:00:00.000Z', ok: 1, total: 5}};

function savedSetup(root: string) {
	mkdirSync(join(root, 'etc/t'), {recursive: true});
	writeFileSync(join(root, 'etc/t/users'), 'alice\n');
	writeFileSync(join(root, 'etc/t/other'), 'old\n');
	const state = openState(join(root, 'state'), false);
	const before = answers({users: [{name: 'alice', password_hash: '{CRYPT}$y$j9T$abc$def'}]});
	state.update((d) => {
		d.answers = {...RAW, users: [{name: 'alice', password_hash: '{CRYPT}$y$j9T$abc$def'}]};
		d.wait = pending;
	});
	return {state, before};
}

test('a failed day-two change is not saved: the answers stay, every file of the change is put back and its tables reloaded from them', async (t) => {
	const root = scratchRoot();
	const {state} = savedSetup(root);
	const saved = JSON.stringify(state.data().answers);
	const exec = fakeExec([{match: (a) => a[0] === 'false', result: {exitCode: 1, stdout: '', stderr: 'broke\n'}}]);
	const {outcome, events} = await drain(
		apply({steps: [tables, failing], ctx: ctxFor(root, exec), answers: answers(), state, wait: 'once', scope: 'change', checkDns: async () => Promise.reject(new Error('unused'))}),
	);
	t.is(outcome, 'failed');
	t.is(JSON.stringify(state.data().answers), saved, 'the user added by the change is not in the saved answers');
	t.is(readFileSync(join(root, 'etc/t/users'), 'utf8'), 'alice\n', 'the earlier stage of the change is put back too');
	t.is(readFileSync(join(root, 'etc/t/other'), 'utf8'), 'old\n');
	t.deepEqual(
		exec.calls.map((c) => c.argv[0]),
		['reload-users', 'false', 'reload-users'],
		'the table is reloaded from the restored file',
	);
	t.regex((events.find((e) => e.type === 'error') as {hint: string}).hint, /restored .*The change was not saved/);
	t.deepEqual(state.data().wait, pending, "the setup's DNS wait stays");
});

test('a day-two change saves its answers once it converged and keeps the setup pending at the DNS wait; a setup run clears it', async (t) => {
	const root = scratchRoot();
	const {state} = savedSetup(root);
	const carol = answers({
		users: [
			{name: 'alice', password_hash: '{CRYPT}$y$j9T$abc$def'},
			{name: 'carol', password_hash: '{CRYPT}$y$j9T$x$y'},
		],
	});
	const {outcome} = await drain(apply({steps: [tables], ctx: ctxFor(root), answers: carol, state, wait: 'once', scope: 'change', checkDns: async () => Promise.reject(new Error('unused'))}));
	t.is(outcome, 'done');
	t.deepEqual(
		(state.data().answers!.users as Array<{name: string}>).map((u) => u.name),
		['alice', 'carol'],
	);
	t.deepEqual(state.data().wait, pending, 'a user add does not end the wait for the records');
	t.is(state.data().finishedAt, undefined, 'nor does it mark the setup finished');
	t.is(readFileSync(join(root, 'etc/t/users'), 'utf8'), 'alice\ncarol\n');
	// The setup run itself (scope setup) still ends the wait when it finishes.
	await drain(apply({steps: [tables], ctx: ctxFor(root), answers: carol, state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
	t.is(state.data().wait, undefined);
	t.truthy(state.data().finishedAt);
});

test('a day-two change that waits for its records saves its answers (it resumes) and one whose records are all seen ends the wait', async (t) => {
	const root = scratchRoot();
	const {state} = savedSetup(root);
	const rec = {kind: 'mx', type: 'MX', host: '@', name: 'second.test', zone: 'second.test', ttl: 3600, value: '10 mail.example.test.', publishable: true} as const;
	const waits: Step<null> = {id: 'w', title: 'wait', summary: '', waitsForDns: true, facts: async () => null, plan: () => [{kind: 'wait', domain: 'second.test', records: [rec], why: 'records'}]};
	const second = answers({extra_domains: ['second.test']});
	const missing = async () => ({complete: false, checks: [{record: rec, state: 'missing'}]}) as never;
	const waiting = await drain(apply({steps: [tables, waits], ctx: ctxFor(root), answers: second, state, wait: 'once', scope: 'change', checkDns: missing}));
	t.is(waiting.outcome, 'waiting');
	t.deepEqual(state.data().answers!.extra_domains, ['second.test']);
	t.truthy(state.data().wait);
	const seen = async () => ({complete: true, checks: [{record: rec, state: 'ok'}]}) as never;
	const done = await drain(apply({steps: [tables, waits], ctx: ctxFor(root), answers: second, state, wait: 'once', scope: 'change', checkDns: seen}));
	t.is(done.outcome, 'done');
	t.is(state.data().wait, undefined);
	t.is(state.data().finishedAt, undefined);
});

test('a day-two change whose DNS check fails is put back and not saved, like a failed action', async (t) => {
	const root = scratchRoot();
	const {state} = savedSetup(root);
	const saved = JSON.stringify(state.data().answers);
	const rec = {kind: 'mx', type: 'MX', host: '@', name: 'second.test', zone: 'second.test', ttl: 3600, value: '10 mail.example.test.', publishable: true} as const;
	const waits: Step<null> = {id: 'w', title: 'wait', summary: '', waitsForDns: true, facts: async () => null, plan: () => [{kind: 'wait', domain: 'second.test', records: [rec], why: 'records'}]};
	const broken = async () => Promise.reject(new Error('no resolver answers'));
	const {outcome, events} = await drain(apply({steps: [tables, waits], ctx: ctxFor(root), answers: answers({extra_domains: ['second.test']}), state, wait: 'once', scope: 'change', checkDns: broken}));
	t.is(outcome, 'failed');
	t.is(JSON.stringify(state.data().answers), saved);
	t.is(readFileSync(join(root, 'etc/t/users'), 'utf8'), 'alice\n', 'the tables stage of the change is put back');
	t.regex((events.find((e) => e.type === 'error') as {message: string; hint: string}).hint, /restored .*The change was not saved/);
});
