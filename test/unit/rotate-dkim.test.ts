// DKIM rotation (issue 21): the phases, their plans, the refusals, and a wizard re-run after a rotation.
import test from 'ava';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {generateKeyPairSync} from 'node:crypto';
import {join} from 'node:path';
import {publicAnswers} from '../../source/answers.ts';
import {finishDkim, startDkim} from '../../source/commands/rotate.ts';
import type {CheckReport, ExpectedRecord} from '../../source/dns/types.ts';
import {fakeExec} from '../../source/engine/exec.ts';
import {planStep} from '../../source/engine/plan.ts';
import {openState} from '../../source/engine/state.ts';
import type {Ctx} from '../../source/engine/types.ts';
import {readDkimKey, recordsFor} from '../../source/mail/dkim.ts';
import {parseOptions, type Options} from '../../source/options.ts';
import {defaultSelector, dkimStatusLines, finishRefusal, startRefusal, withDkimRotation, type DkimRotation} from '../../source/rotate/dkim.ts';
import {loadAnswers, type Runtime} from '../../source/runtime.ts';
import {dkim} from '../../steps/04-dkim.ts';
import {rspamd} from '../../steps/08-rspamd.ts';
import {DEBIAN12, HOST, answers, scratchRoot} from '../helpers/fixtures.ts';

const DAY = 86_400_000;

/** A server set up with selector "mail": saved answers and the key on disk. */
function setUp(args: string[] = []): {rt: Runtime; root: string; lines: string[]; exec: ReturnType<typeof fakeExec>} {
	const root = scratchRoot();
	mkdirSync(join(root, 'etc/rspamd/dkim'), {recursive: true, mode: 0o750});
	mkdirSync(join(root, 'etc/rspamd/local.d'), {recursive: true});
	const pem = generateKeyPairSync('rsa', {modulusLength: 1024}).privateKey.export({type: 'pkcs8', format: 'pem'}) as string;
	writeFileSync(join(root, 'etc/rspamd/dkim/example.test.mail.key'), pem, {mode: 0o640});
	const options = parseOptions(['rotate', 'dkim', '--no-wait', '--root', root, ...args]) as Options;
	// Every daemon answers "running": a changed configuration is reloaded, not started.
	const exec = fakeExec([{match: (a) => a[0] === 'sh' && /; alive \S+$/.test(a[2] ?? ''), result: {exitCode: 0, stdout: '', stderr: ''}}]);
	const ctx: Ctx = {root, exec, profile: DEBIAN12, readOnly: false, resolvers: [], host: HOST};
	const state = openState(join(root, 'var/lib/mailwizard'), false);
	state.update((d) => {
		d.answers = publicAnswers(answers());
		d.steps.dkim = {done: true, at: '2025-01-01T00:00:00.000Z'};
		d.finishedAt = '2025-01-01T00:00:00.000Z';
	});
	const lines: string[] = [];
	const rt: Runtime = {options, exec, profile: DEBIAN12, ctx, state, out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`)};
	return {rt, root, lines, exec};
}

/** The authoritative servers: serving every record, or none. */
const dnsServes =
	(complete: boolean, asked: ExpectedRecord[][] = []) =>
	async (records: readonly ExpectedRecord[]): Promise<CheckReport> => {
		asked.push([...records]);
		return {zone: 'example.test', servers: ['192.0.2.53'], checks: records.map((record) => ({record, state: complete ? 'ok' : 'missing', results: []})), complete, problems: [], durationMs: 1};
	};

const signingConf = (root: string) => readFileSync(join(root, 'etc/rspamd/local.d/dkim_signing.conf'), 'utf8');

test('a dated default selector, a letter for a second rotation in the month', (t) => {
	const at = new Date('2026-12-02T10:00:00Z');
	t.is(defaultSelector(at, ['mail']), 'mw202612');
	t.is(defaultSelector(at, ['mw202612']), 'mw202612b');
});

test('rotate dkim before the new record is served: the new key exists, the old selector still signs, exit 75; the re-run switches with a reload', async (t) => {
	const {rt, root, lines, exec} = setUp(['--selector', 'new1']);
	const asked: ExpectedRecord[][] = [];
	t.is(await startDkim(rt, dnsServes(false, asked)), 75);
	t.true(existsSync(join(root, 'etc/rspamd/dkim/example.test.new1.key')), 'the new key is made');
	t.true(existsSync(join(root, 'etc/rspamd/dkim/example.test.mail.key')), 'the old key is kept');
	t.false(existsSync(join(root, 'etc/rspamd/local.d/dkim_signing.conf')), 'signing is not switched');
	t.deepEqual(
		asked[0]!.map((r) => r.name),
		['new1._domainkey.example.test'],
		'only the new DKIM record is awaited',
	);
	const r = rt.state.data().rotation!.dkim!;
	t.like(r, {phase: 'publishing', selector: 'mail', next: 'new1'});
	t.is(loadAnswers(rt, false).dkim.selector, 'mail', 'answers: the old selector signs while waiting');
	t.regex(lines.join('\n'), /new1\._domainkey\.example\.test/, 'the new record is printed');

	// The re-run (without --selector) continues the same rotation.
	const again = {...rt, options: {...rt.options, rotate: {what: 'dkim' as const, finish: false, now: false}}};
	t.is(await startDkim(again, dnsServes(true)), 0);
	t.regex(signingConf(root), /selector = "new1";/);
	t.regex(signingConf(root), /path = "\/etc\/rspamd\/dkim\/example\.test\.new1\.key";/);
	const ops = exec.calls.map((c) => c.argv.join(' ')).filter((c) => /rspamd (reload|restart|stop)/.test(c));
	t.true(ops.some((c) => /reload/.test(c)) && !ops.some((c) => /restart|stop/.test(c)), `reloaded, never restarted: ${ops.join(' | ')}`);
	t.like(rt.state.data().rotation!.dkim!, {phase: 'overlap', selector: 'new1', previous: 'mail'});
	t.is(rt.state.data().finishedAt, '2025-01-01T00:00:00.000Z', "the wizard's finish time is kept");
});

test('during the overlap both records are listed; a wizard re-run with the old answers keeps the new selector', async (t) => {
	const {rt, root} = setUp(['--selector', 'new1']);
	t.is(await startDkim(rt, dnsServes(true)), 0);
	const a = loadAnswers({...rt, options: {...rt.options, answers: undefined}}, false);
	t.deepEqual(a.dkim, {selector: 'new1', also: ['mail']});
	const key = await readDkimKey(rt.ctx, a);
	t.deepEqual(
		recordsFor(a, key)
			.filter((r) => r.kind === 'dkim')
			.map((r) => [r.name, r.pending === undefined]),
		[
			['new1._domainkey.example.test', true],
			['mail._domainkey.example.test', true],
		],
	);
	// The stages of a re-run, with answers whose file still says "mail": nothing to change.
	const rerun = withDkimRotation(answers(), rt.state.data().rotation!.dkim);
	t.is((await planStep(rspamd, rt.ctx, rerun, [rspamd])).changes, 0, 'Rspamd keeps signing with new1');
	t.is((await planStep(dkim, rt.ctx, rerun, [dkim])).changes, 0, 'no key is made or replaced');
	t.regex(signingConf(root), /selector = "new1";/);
});

test('--finish before 7 days is refused; --now retires the old selector, deletes its key, says which record can go', async (t) => {
	const {rt, root, lines} = setUp(['--selector', 'new1']);
	t.is(await startDkim(rt, dnsServes(true)), 0);
	const finish = {...rt, options: {...rt.options, rotate: {what: 'dkim' as const, finish: true, now: false}}};
	await t.throwsAsync(finishDkim(finish, new Date(Date.now() + 2 * DAY)), {message: /minimum overlap of 7/});
	t.true(existsSync(join(root, 'etc/rspamd/dkim/example.test.mail.key')), 'refused: the old key is still there');
	const now = {...finish, options: {...finish.options, rotate: {what: 'dkim' as const, finish: true, now: true}}};
	t.is(await finishDkim(now, new Date(Date.now() + 2 * DAY)), 0);
	t.false(existsSync(join(root, 'etc/rspamd/dkim/example.test.mail.key')), 'the old key is deleted');
	t.true(existsSync(join(root, 'etc/rspamd/dkim/example.test.new1.key')));
	const out = lines.join('\n');
	t.regex(out, /ERR warning: finishing before the minimum overlap/);
	t.regex(out, /mail\._domainkey\.example\.test TXT/, 'the record that can be deleted');
	t.like(rt.state.data().rotation!.dkim!, {phase: 'done', selector: 'new1'});
	t.deepEqual(loadAnswers(rt, false).dkim, {selector: 'new1', also: []});
	await t.throwsAsync(finishDkim(now), {message: /no DKIM rotation to finish/});
});

test('--finish after 7 days needs no --now', async (t) => {
	const {rt} = setUp(['--selector', 'new1']);
	t.is(await startDkim(rt, dnsServes(true)), 0);
	const finish = {...rt, options: {...rt.options, rotate: {what: 'dkim' as const, finish: true, now: false}}};
	t.is(await finishDkim(finish, new Date(Date.now() + 8 * DAY)), 0);
});

test('refusals: a second rotation during the overlap, the signing selector, finishing while waiting', (t) => {
	const overlap: DkimRotation = {phase: 'overlap', selector: 'b', previous: 'a', startedAt: '2026-01-01T00:00:00Z', switchedAt: '2026-01-02T00:00:00Z'};
	t.regex(startRefusal(overlap, 'b', 'c')!, /finish it first/);
	t.regex(startRefusal(undefined, 'mail', 'mail')!, /signs now/);
	t.regex(startRefusal({phase: 'publishing', selector: 'a', next: 'b', startedAt: ''}, 'a', 'c')!, /rotation to "b" is under way/);
	t.is(startRefusal({phase: 'done', selector: 'b', startedAt: ''}, 'b', 'c'), undefined);
	t.regex(finishRefusal({phase: 'publishing', selector: 'a', next: 'b', startedAt: ''}, new Date(), true)!, /does not sign yet/);
	t.regex(finishRefusal(overlap, new Date('2026-01-05T00:00:00Z'), false)!, /3\.0 days/);
	t.is(finishRefusal(overlap, new Date('2026-01-05T00:00:00Z'), true), undefined);
	t.is(finishRefusal(overlap, new Date('2026-01-10T00:00:00Z'), false), undefined);
});

test('the dry run prints the phase plan and changes nothing', async (t) => {
	const {rt, root} = setUp(['--selector', 'new1', '--dry-run']);
	const written: string[] = [];
	const orig = process.stdout.write.bind(process.stdout);
	process.stdout.write = ((s: string) => written.push(s)) as never;
	try {
		const ro = {...rt, state: openState(join(root, 'var/lib/mailwizard'), true), ctx: {...rt.ctx, readOnly: true}};
		t.is(await startDkim(ro, dnsServes(false)), 0);
	} finally {
		process.stdout.write = orig;
	}
	const plan = written.join('');
	t.regex(plan, /example\.test\.new1\.key/);
	t.regex(plan, /selector = "new1"/);
	t.false(existsSync(join(root, 'etc/rspamd/dkim/example.test.new1.key')));
	t.is(openState(join(root, 'var/lib/mailwizard'), true).data().rotation, undefined, 'the state is not written');
});

test('status: the phase, and a reminder for a key older than a year', (t) => {
	const at = new Date('2026-12-02T00:00:00Z');
	t.regex(dkimStatusLines(undefined, '2025-06-01T00:00:00Z', at).join('\n'), /Reminder: the DKIM key is 549 days old/);
	t.deepEqual(dkimStatusLines(undefined, '2026-06-01T00:00:00Z', at), []);
	const lines = dkimStatusLines({phase: 'overlap', selector: 'b', previous: 'a', startedAt: '', switchedAt: '2026-11-30T00:00:00Z'}, '2020-01-01T00:00:00Z', at);
	t.regex(lines.join('\n'), /"b" signs since .*"a" stays published \(overlap 2\.0 of at least 7 days/);
	t.false(
		lines.some((l) => l.startsWith('Reminder')),
		'the rotated key is young',
	);
});

test('the rotate command line: subcommand, --selector, --finish, --now', (t) => {
	t.like(parseOptions(['rotate', 'dkim', '--selector', 'Mw2']) as Options, {command: 'rotate', rotate: {what: 'dkim', selector: 'mw2', finish: false, now: false}});
	t.like(parseOptions(['rotate', 'dkim', '--finish', '--now']) as Options, {rotate: {what: 'dkim', finish: true, now: true}});
	t.throws(() => parseOptions(['rotate']), {message: /rotate what/});
	t.throws(() => parseOptions(['rotate', 'dkim', '--now']), {message: /--now only goes with --finish/});
	t.throws(() => parseOptions(['rotate', 'dkim', '--selector', 'bad_sel']), {message: /not a valid selector/});
	t.throws(() => parseOptions(['rotate', 'dkim', 'extra']), {message: /unexpected argument "extra"/});
	t.throws(() => parseOptions(['status', '--finish']), {message: /are for "mailwizard rotate"/});
});
