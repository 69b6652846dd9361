// SRS key rotation (issue 21): the new key signs, the previous one stays as OpenSMTPD's backup
// key for the bounce window, --finish drops it; a run stopped anywhere is continued; no key is
// ever in the state, the output or a command line.
import test from 'ava';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {publicAnswers} from '../../source/answers.ts';
import {finishSrs, startSrs} from '../../source/commands/rotate.ts';
import {fakeExec} from '../../source/engine/exec.ts';
import {planStep} from '../../source/engine/plan.ts';
import {openState} from '../../source/engine/state.ts';
import type {Ctx} from '../../source/engine/types.ts';
import {parseOptions, type Options} from '../../source/options.ts';
import {srsFinishRefusal, srsStartRefusal, srsStatusLines, type SrsRotation} from '../../source/rotate/srs.ts';
import type {Runtime} from '../../source/runtime.ts';
import {parseSrs} from '../../templates/smtpd.ts';
import {opensmtpd} from '../../steps/09-opensmtpd.ts';
import {DEBIAN12, HOST, answers, scratchRoot} from '../helpers/fixtures.ts';

const DAY = 86_400_000;
const OLD = 'old-srs-key-0123456789abcdefghijklmnop';
const SRS = 'etc/smtpd/srs.conf';

/** A server set up with one SRS key (and, if given, a backup key). */
function setUp(args: string[] = [], backup?: string) {
	const root = scratchRoot();
	mkdirSync(join(root, 'etc/smtpd'), {recursive: true});
	writeFileSync(join(root, SRS), `srs key "${OLD}"\n${backup ? `srs key backup "${backup}"\n` : ''}`, {mode: 0o600});
	const options = parseOptions(['rotate', 'srs', '--root', root, ...args]) as Options;
	const exec = fakeExec();
	const ctx: Ctx = {root, exec, profile: DEBIAN12, readOnly: false, resolvers: [], host: HOST};
	const state = openState(join(root, 'var/lib/mailwizard'), false);
	state.update((d) => {
		d.answers = publicAnswers(answers());
		d.steps.opensmtpd = {done: true, at: '2025-01-01T00:00:00.000Z'};
		d.finishedAt = '2025-01-01T00:00:00.000Z';
	});
	const lines: string[] = [];
	const rt: Runtime = {options, exec, profile: DEBIAN12, ctx, state, out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`)};
	return {rt, root, lines, exec};
}

const keys = (root: string) => parseSrs(readFileSync(join(root, SRS), 'utf8'));
const restarts = (exec: ReturnType<typeof fakeExec>) => exec.calls.filter((c) => /service opensmtpd stop;.*service opensmtpd start/.test(c.argv.join(' '))).length;
const withOptions = (rt: Runtime, finish: boolean, now: boolean): Runtime => ({...rt, options: {...rt.options, rotate: {what: 'srs', finish, now}}});

/** Nothing the rotation printed, saved or ran holds a key. */
function assertNoKeyLeaked(t: import('ava').ExecutionContext, rt: Runtime, lines: string[], exec: ReturnType<typeof fakeExec>, root: string): void {
	const {key, backup} = keys(root);
	const state = readFileSync(rt.state.file, 'utf8');
	for (const k of [key, backup, OLD].filter((x): x is string => Boolean(x))) {
		t.false(state.includes(k), 'no key in the state');
		t.false(lines.join('\n').includes(k), 'no key in the output');
		t.false(
			exec.calls.some((c) => c.argv.join(' ').includes(k) || JSON.stringify(c.env ?? {}).includes(k)),
			'no key in a command line or its environment',
		);
	}
}

test('rotate srs: a new key signs, the previous one is the backup key, smtpd restarted and checked; the state says overlap, without a key', async (t) => {
	const {rt, root, lines, exec} = setUp();
	t.is(await startSrs(rt), 0);
	const k = keys(root);
	t.is(k.backup, OLD, 'the previous key is the backup key');
	t.truthy(k.key);
	t.not(k.key, OLD);
	t.true(k.key!.length >= 40, 'a long random key');
	t.is(readFileSync(join(root, SRS), 'utf8').split('\n')[0], `srs key "${k.key}"`, 'the signing key first');
	t.is(restarts(exec), 1, 'smtpd restarted once (it has no reload)');
	t.true(
		exec.calls.some((c) => c.argv.join(' ') === 'smtpd -n'),
		'the configuration with the new keys is checked',
	);
	t.like(rt.state.data().rotation!.srs!, {phase: 'overlap'});
	t.truthy(rt.state.data().rotation!.srs!.switchedAt);
	t.regex(lines.join('\n'), /backup key.*at least 30 days run "mailwizard rotate srs --finish"/s);
	assertNoKeyLeaked(t, rt, lines, exec, root);
	// A wizard re-run keeps both keys (its opensmtpd stage reads them back).
	const plan = await planStep(opensmtpd, rt.ctx, answers(), [opensmtpd]);
	t.false(
		plan.actions.some((a) => a.kind === 'file' && a.path === '/etc/smtpd/srs.conf'),
		'the wizard leaves srs.conf as the rotation wrote it',
	);
	// A second rotation during the overlap is refused.
	await t.throwsAsync(startSrs(rt), {message: /overlap.*finish it first/});
});

test('rotate srs killed after srs.conf was written (state still "switching"): the re-run keeps the written key and restarts smtpd', async (t) => {
	const {rt, root, exec} = setUp([], 'written-before-the-kill');
	rt.state.update((d) => {
		d.rotation = {srs: {phase: 'switching', startedAt: '2026-12-01T00:00:00.000Z'}};
	});
	t.is(await startSrs(rt), 0);
	t.deepEqual(keys(root), {key: OLD, backup: 'written-before-the-kill'}, 'no third key: the new one (here OLD) was written before the kill');
	t.is(restarts(exec), 1, 'smtpd restarted although the file did not change');
	t.like(rt.state.data().rotation!.srs!, {phase: 'overlap', startedAt: '2026-12-01T00:00:00.000Z'});
});

test('rotate srs killed before srs.conf was written: the re-run makes the new key then', async (t) => {
	const {rt, root} = setUp();
	rt.state.update((d) => {
		d.rotation = {srs: {phase: 'switching', startedAt: '2026-12-01T00:00:00.000Z'}};
	});
	t.is(await startSrs(rt), 0);
	t.is(keys(root).backup, OLD);
	t.not(keys(root).key, OLD);
});

test('--finish before 30 days is refused; --now drops the backup key with a warning; after 30 days no --now is needed', async (t) => {
	const {rt, root, lines, exec} = setUp();
	t.is(await startSrs(rt), 0);
	const signing = keys(root).key;
	await t.throwsAsync(finishSrs(withOptions(rt, true, false), new Date(Date.now() + 10 * DAY)), {message: /bounce window of 30/});
	t.is(keys(root).backup, OLD, 'refused: the backup key stays');
	t.is(await finishSrs(withOptions(rt, true, true), new Date(Date.now() + 10 * DAY)), 0);
	t.deepEqual(keys(root), {key: signing, backup: undefined}, 'only the new key is left');
	t.regex(lines.join('\n'), /ERR warning: finishing before the bounce window/);
	t.is(restarts(exec), 2);
	t.like(rt.state.data().rotation!.srs!, {phase: 'done'});
	assertNoKeyLeaked(t, rt, lines, exec, root);
	await t.throwsAsync(finishSrs(withOptions(rt, true, false)), {message: /no SRS rotation to finish/});

	const b = setUp();
	t.is(await startSrs(b.rt), 0);
	t.is(await finishSrs(withOptions(b.rt, true, false), new Date(Date.now() + 31 * DAY)), 0);
	t.is(keys(b.root).backup, undefined);
});

test('refusals: no key yet, a backup key set by hand, finishing while switching', (t) => {
	const overlap: SrsRotation = {phase: 'overlap', startedAt: '2026-01-01T00:00:00Z', switchedAt: '2026-01-01T00:00:00Z'};
	t.regex(srsStartRefusal(undefined, {})!, /run mailwizard \(the setup\) first/);
	t.regex(srsStartRefusal(undefined, {key: 'a', backup: 'b'})!, /already holds a backup key/);
	t.is(srsStartRefusal({phase: 'switching', startedAt: ''}, {key: 'a', backup: 'b'}), undefined, 'a stopped switch continues');
	t.is(srsStartRefusal({phase: 'done', startedAt: ''}, {key: 'a'}), undefined);
	t.regex(srsFinishRefusal({phase: 'switching', startedAt: ''}, {key: 'a', backup: 'b'}, new Date(), true)!, /not in use yet/);
	t.regex(srsFinishRefusal(overlap, {key: 'a', backup: 'b'}, new Date('2026-01-11T00:00:00Z'), false)!, /10\.0 days/);
	t.is(srsFinishRefusal(overlap, {key: 'a', backup: 'b'}, new Date('2026-02-01T00:00:00Z'), false), undefined);
	t.is(srsFinishRefusal(undefined, {key: 'a', backup: 'b'}, new Date(), true), undefined, 'a hand-set backup key can be dropped with --now');
});

test.serial('the dry run prints the plan without a key and changes nothing', async (t) => {
	const {rt, root} = setUp(['--dry-run']);
	const written: string[] = [];
	const orig = process.stdout.write.bind(process.stdout);
	process.stdout.write = ((s: string) => written.push(s)) as never;
	try {
		const ro = {...rt, state: openState(join(root, 'var/lib/mailwizard'), true), ctx: {...rt.ctx, readOnly: true}};
		t.is(await startSrs(ro), 0);
	} finally {
		process.stdout.write = orig;
	}
	const plan = written.join('');
	t.regex(plan, /\/etc\/smtpd\/srs\.conf/);
	t.false(plan.includes(OLD), 'the old key is not shown');
	t.deepEqual(keys(root), {key: OLD, backup: undefined}, 'nothing written');
	t.is(openState(join(root, 'var/lib/mailwizard'), true).data().rotation, undefined, 'the state is not written');
});

test('status: the phase of an SRS rotation, and a reminder for a key older than a year', (t) => {
	const at = new Date('2026-12-02T00:00:00Z');
	t.regex(srsStatusLines(undefined, '2025-06-01T00:00:00Z', at).join('\n'), /Reminder: the SRS key is 549 days old: rotate it \(mailwizard rotate srs\)/);
	const lines = srsStatusLines({phase: 'overlap', startedAt: '', switchedAt: '2026-11-22T00:00:00Z'}, '2020-01-01T00:00:00Z', at);
	t.regex(lines.join('\n'), /backup key \(overlap 10\.0 of at least 30 days/);
	t.false(lines.some((l) => l.startsWith('Reminder')));
	t.regex(srsStatusLines({phase: 'switching', startedAt: 'x'}, undefined, at).join('\n'), /Run "mailwizard rotate srs" again/);
});

test('the rotate srs command line', (t) => {
	t.like(parseOptions(['rotate', 'srs']) as Options, {command: 'rotate', rotate: {what: 'srs', finish: false, now: false}});
	t.like(parseOptions(['rotate', 'srs', '--finish', '--now']) as Options, {rotate: {what: 'srs', finish: true, now: true}});
	t.throws(() => parseOptions(['rotate', 'srs', '--selector', 'x']), {message: /--selector only goes with "rotate dkim"/});
});

test('srs.conf planted as a link is never read through: the rotation stops and writes nothing', async (t) => {
	const {rt, root} = setUp();
	const {renameSync, symlinkSync} = await import('node:fs');
	renameSync(join(root, SRS), join(root, 'etc/smtpd/elsewhere'));
	symlinkSync(join(root, 'etc/smtpd/elsewhere'), join(root, SRS));
	await t.throwsAsync(startSrs(rt), {message: /symbolic link, not a regular file/});
	t.is(rt.state.data().rotation, undefined, 'no phase saved');
	t.is(readFileSync(join(root, 'etc/smtpd/elsewhere'), 'utf8'), `srs key "${OLD}"\n`, 'the file behind the link is untouched');
});

test.serial('status reminds of a key older than a year by its file date, not by the last run (which every re-run moves)', async (t) => {
	const {root, rt} = setUp();
	const {status} = await import('../../source/commands/status.ts');
	const {utimesSync} = await import('node:fs');
	mkdirSync(join(root, 'etc/rspamd/dkim'), {recursive: true});
	writeFileSync(join(root, 'etc/rspamd/dkim/example.test.mail.key'), 'x', {mode: 0o600});
	const old = new Date(Date.now() - 400 * DAY);
	utimesSync(join(root, SRS), old, old);
	rt.state.update((d) => {
		d.steps.opensmtpd = {done: true, at: new Date().toISOString()}; // a re-run today
	});
	const written: string[] = [];
	const orig = process.stdout.write.bind(process.stdout);
	process.stdout.write = ((s: string) => written.push(s)) as never;
	try {
		t.is(await status(parseOptions(['status', '--root', root]) as Options), 0);
	} finally {
		process.stdout.write = orig;
	}
	const out = written.join('');
	t.regex(out, /Reminder: the SRS key is 400 days old/);
	t.notRegex(out, /the DKIM key is \d+ days old/, 'the DKIM key was made today');
});

test('the finish screen reminds of a key older than a year (by its file date)', async (t) => {
	const {root} = setUp();
	const {utimesSync} = await import('node:fs');
	const {keyReminders} = await import('../../source/rotate/age.ts');
	const {finish} = await import('../../steps/11-finish.ts');
	t.deepEqual(await keyReminders(root, answers()), [], 'young keys (the DKIM key is absent: no date)');
	const old = new Date(Date.now() - 500 * DAY);
	utimesSync(join(root, SRS), old, old);
	const keys = await keyReminders(root, answers());
	t.deepEqual(keys, ['Reminder: the SRS key is 500 days old: rotate it (mailwizard rotate srs), as the guide advises once a year.']);
	const summary = finish.plan(answers(), {findings: [], keys}, DEBIAN12).find((a) => a.kind === 'notice' && a.level === 'summary');
	t.true(summary?.kind === 'notice' && summary.lines.includes(keys[0]!), 'on the finish screen');
});
