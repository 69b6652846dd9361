// Proof that a stage is one file: a copy of steps/ gets one new stage file and its line in
// the registry, nothing else, and the real planning code shows it in its place, its package
// installed by the package stage and its daemon restarted with the binary it declares.
import test from 'ava';
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {fakeExec} from '../../source/engine/exec.ts';
import {planStep, type StepPlan} from '../../source/engine/plan.ts';
import {printPlan} from '../../source/engine/print.ts';
import {StepError, type Step} from '../../source/engine/types.ts';
import {DEBIAN12, DEBIAN13, HOST, answers, scratchRoot} from '../helpers/fixtures.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

// A stage as the next issues will add them: its package, its daemon, its file, its restart.
const THROWAWAY = `import type {Step} from '../source/engine/types.ts';

export const jail: Step<null> = {
	id: 'jail',
	title: 'Jail: ban addresses that guess passwords',
	summary: 'a throwaway stage of the stage-file test',
	packages: {'12': ['fail2ban'], '13': ['fail2ban']},
	daemons: [{service: 'fail2ban', exe: '/usr/bin/fail2ban-server'}],
	async facts() {
		return null;
	},
	plan() {
		return [
			{kind: 'file', path: '/etc/fail2ban/jail.d/mailwizard.local', content: '[dovecot]\\nenabled = true\\n', mode: 0o644, restarts: 'fail2ban', why: 'watch the IMAP logins'},
			{kind: 'service', name: 'fail2ban', op: 'restart', why: 'load the jail'},
		];
	},
};
`;

/** A copy of steps/ beside the real one (its imports of ../source resolve the same), plus the throwaway stage. */
function stepsWithThrowaway(): string {
	const dir = mkdtempSync(join(REPO, '.stages-'));
	cpSync(join(REPO, 'steps'), dir, {recursive: true});
	writeFileSync(join(dir, '09b-jail.ts'), THROWAWAY);
	const index = readFileSync(join(dir, 'index.ts'), 'utf8');
	const withEntry = index
		.replace("import {dnsWait} from './10-dns-wait.ts';", "import {jail} from './09b-jail.ts';\nimport {dnsWait} from './10-dns-wait.ts';")
		.replace('opensmtpd, dnsWait', 'opensmtpd, jail, dnsWait');
	if (withEntry === index) throw new Error('the registry no longer has the shape this test edits');
	writeFileSync(join(dir, 'index.ts'), withEntry);
	return dir;
}

/** The dry run's planning, as commands/ does it: every stage in walk order; a refusal is shown, not fatal. */
async function dryRun(steps: readonly Step<any>[], profile = DEBIAN13): Promise<{plans: StepPlan[]; text: string}> {
	// No daemon runs yet: every liveness probe (sysv: `...; alive EXE`) says so.
	const exec = fakeExec([{match: (a) => a[0] === 'sh' && /; alive \S+$/.test(a[2] ?? ''), result: {exitCode: 1, stdout: '', stderr: ''}}]);
	const ctx = {root: scratchRoot(), exec, profile, readOnly: true, resolvers: [], host: HOST};
	const plans: StepPlan[] = [];
	for (const step of steps) {
		try {
			plans.push(await planStep(step, ctx, answers(), steps));
		} catch (error) {
			if (!(error instanceof StepError)) throw error;
			plans.push({step, actions: [], changes: 0});
		}
	}
	return {plans, text: printPlan(plans, profile.init)};
}

test('a stage is one file: added to a copy of steps/ and its registry, the dry run plans it in place with its package and its service', async (t) => {
	const dir = stepsWithThrowaway();
	t.teardown(() => rmSync(dir, {recursive: true, force: true}));
	const {STEPS} = (await import(join(dir, 'index.ts'))) as {STEPS: readonly Step<any>[]};
	const {STEPS: REAL} = await import('../../steps/index.ts');
	t.is(STEPS.length, REAL.length + 1);

	const {plans, text} = await dryRun(STEPS);
	const ids = plans.map((p) => p.step.id);
	t.deepEqual(ids, [...REAL.map((s) => s.id).slice(0, ids.indexOf('jail')), 'jail', ...REAL.map((s) => s.id).slice(ids.indexOf('jail'))]);
	t.is(ids.indexOf('jail'), ids.indexOf('opensmtpd') + 1, 'right after the stage it follows in the registry');
	t.regex(text, new RegExp(`^## ${ids.indexOf('jail') + 1}/${STEPS.length} Jail: ban addresses that guess passwords — 2 changes$`, 'm'));

	const install = plans.find((p) => p.step.id === 'packages')!.actions.flatMap((a) => (a.kind === 'run' && a.cmd.argv.includes('install') ? [a.cmd.argv] : []));
	t.is(install.length, 1);
	// After the packages of the stages before it; only a later stage's (the daily check's cron, without systemd) may follow.
	const list = install[0]!;
	t.true(list.includes('fail2ban'), 'the package stage installs it');
	t.deepEqual(
		list.slice(list.indexOf('fail2ban') + 1, list.indexOf('-o')).filter((p) => p !== 'cron'),
		[],
		'after the packages of the stages before it',
	);

	const jail = plans.find((p) => p.step.id === 'jail')!;
	t.deepEqual(
		jail.actions.map((a) => a.kind),
		['file', 'service'],
	);
	t.regex(text, /^\$ service fail2ban start$/m, 'not running yet (sysv): started');

	const {text: text12} = await dryRun(STEPS, DEBIAN12);
	t.regex(text12, /apt-get install -y --no-install-recommends dovecot-core dovecot-imapd dovecot-lmtpd rspamd ca-certificates fail2ban/);
});

test('a restart of a declared daemon waits for its binary (sysv)', async (t) => {
	const dir = stepsWithThrowaway();
	t.teardown(() => rmSync(dir, {recursive: true, force: true}));
	const {STEPS} = (await import(join(dir, 'index.ts'))) as {STEPS: readonly Step<any>[]};
	const jail = STEPS.find((s) => s.id === 'jail')!;
	// Every liveness probe says "running": the changed file makes it a restart.
	const exec = fakeExec([{match: (a) => a[0] === 'sh' && /; alive \S+$/.test(a[2] ?? ''), result: {exitCode: 0, stdout: '', stderr: ''}}]);
	const ctx = {root: scratchRoot(), exec, profile: DEBIAN12, readOnly: true, resolvers: [], host: HOST};
	const plan = await planStep(jail, ctx, answers(), STEPS);
	t.true(
		exec.calls.some((c) => c.argv[2]?.endsWith('alive /usr/bin/fail2ban-server')),
		'probed through its binary',
	);
	t.regex(printPlan([plan], 'sysv'), /service fail2ban stop; .*while alive \/usr\/bin\/fail2ban-server .*; service fail2ban start/);
});
