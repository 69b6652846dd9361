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

export const antivirus: Step<null> = {
	id: 'antivirus',
	title: 'Antivirus: ClamAV scans what arrives',
	summary: 'a throwaway stage of the stage-file test',
	packages: {'12': ['clamav-daemon'], '13': ['clamav-daemon']},
	daemons: [{service: 'clamav-daemon', exe: '/usr/sbin/clamd'}],
	async facts() {
		return null;
	},
	plan() {
		return [
			{kind: 'file', path: '/etc/clamav/clamd.conf', content: 'LocalSocket /run/clamav/clamd.ctl\\n', mode: 0o644, restarts: 'clamav-daemon', why: 'clamd on its socket'},
			{kind: 'service', name: 'clamav-daemon', op: 'restart', why: 'load the configuration'},
		];
	},
};
`;

/** A copy of steps/ beside the real one (its imports of ../source resolve the same), plus the throwaway stage. */
function stepsWithThrowaway(): string {
	const dir = mkdtempSync(join(REPO, '.stages-'));
	cpSync(join(REPO, 'steps'), dir, {recursive: true});
	writeFileSync(join(dir, '13b-antivirus.ts'), THROWAWAY);
	const index = readFileSync(join(dir, 'index.ts'), 'utf8');
	const withEntry = index
		.replace("import {dnsWait} from './10-dns-wait.ts';", "import {antivirus} from './13b-antivirus.ts';\nimport {dnsWait} from './10-dns-wait.ts';")
		.replace('bans, dnsWait', 'bans, antivirus, dnsWait');
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
	t.deepEqual(ids, [...REAL.map((s) => s.id).slice(0, ids.indexOf('antivirus')), 'antivirus', ...REAL.map((s) => s.id).slice(ids.indexOf('antivirus'))]);
	t.is(ids.indexOf('antivirus'), ids.indexOf('bans') + 1, 'right after the stage it follows in the registry');
	t.regex(text, new RegExp(`^## ${ids.indexOf('antivirus') + 1}/${STEPS.length} Antivirus: ClamAV scans what arrives — 2 changes$`, 'm'));

	const install = plans.find((p) => p.step.id === 'packages')!.actions.flatMap((a) => (a.kind === 'run' && a.cmd.argv.includes('install') ? [a.cmd.argv] : []));
	t.is(install.length, 1);
	// After the packages of the stages before it; only a later stage's (the daily check's cron, without systemd) may follow.
	const list = install[0]!;
	t.true(list.includes('clamav-daemon'), 'the package stage installs it');
	t.deepEqual(
		list.slice(list.indexOf('clamav-daemon') + 1, list.indexOf('-o')).filter((p) => p !== 'cron'),
		[],
		'after the packages of the stages before it',
	);

	const av = plans.find((p) => p.step.id === 'antivirus')!;
	t.deepEqual(
		av.actions.map((a) => a.kind),
		['file', 'service'],
	);
	t.regex(text, /^\$ service clamav-daemon start$/m, 'not running yet (sysv): started');

	const {text: text12} = await dryRun(STEPS, DEBIAN12);
	t.regex(text12, /apt-get install -y --no-install-recommends dovecot-core dovecot-imapd dovecot-lmtpd dovecot-sieve rspamd ca-certificates redis-server fail2ban nftables rsyslog clamav-daemon/);
});

test('a restart of a declared daemon waits for its binary (sysv)', async (t) => {
	const dir = stepsWithThrowaway();
	t.teardown(() => rmSync(dir, {recursive: true, force: true}));
	const {STEPS} = (await import(join(dir, 'index.ts'))) as {STEPS: readonly Step<any>[]};
	const av = STEPS.find((s) => s.id === 'antivirus')!;
	// Every liveness probe says "running": the changed file makes it a restart.
	const exec = fakeExec([{match: (a) => a[0] === 'sh' && /; alive \S+$/.test(a[2] ?? ''), result: {exitCode: 0, stdout: '', stderr: ''}}]);
	const ctx = {root: scratchRoot(), exec, profile: DEBIAN12, readOnly: true, resolvers: [], host: HOST};
	const plan = await planStep(av, ctx, answers(), STEPS);
	t.true(
		exec.calls.some((c) => c.argv[2]?.endsWith('alive /usr/sbin/clamd')),
		'probed through its binary',
	);
	t.regex(printPlan([plan], 'sysv'), /service clamav-daemon stop; .*while alive \/usr\/sbin\/clamd .*; service clamav-daemon start/);
});
