// The engine behind the day-two commands (user, alias, domain): change the saved answers,
// validate them as an answers file is validated, plan only the stages the change affects,
// and converge through the same apply() as the wizard (files, tables reloaded, rollback).
import {defaultIpv4} from '../platform/host.ts';
import {publicAnswers, storedForm, validateAnswers, type Answers} from '../answers.ts';
import type {Form, Edit} from '../answers/edit.ts';
import {planStep, type StepPlan} from '../engine/plan.ts';
import {printPlan} from '../engine/print.ts';
import type {Step} from '../engine/types.ts';
import {exitCode, UsageError, type ExitCode} from '../exit.ts';
import {stateDirOf, type Options} from '../options.ts';
import {refuseIfLocked} from '../run/lock.ts';
import {applyPlain} from './apply-plain.ts';
import {makeRuntime, writable, type Runtime} from '../runtime.ts';
import {STEPS} from '../../steps/index.ts';
import {confirmOnTerminal} from './confirm.ts';

/** What each kind of change touches: the stages that write those files. Never the outside-world ones (packages, preflight). */
export const STAGES = {
	/** users file, passwds, recipients, virtuals, sendas: tables reloaded in place, no restart. */
	mailbox: ['dovecot', 'opensmtpd'],
	/** plus the DKIM signing table, the records to publish and the wait for them. */
	domain: ['dkim', 'dns-records', 'rspamd', 'dovecot', 'opensmtpd', 'dns-wait'],
} as const;

export type Change = {
	readonly edit: (form: Form) => Edit;
	readonly stages: readonly string[];
	/** The new password of one user, asked after validation, only for a real run that changes the answers. */
	readonly password?: {readonly user: string; readonly ask: () => Promise<string>};
	/** Asked before the change (user remove --purge): false ends with nothing changed. */
	readonly precheck?: (rt: Runtime, answers: Answers) => Promise<void>;
	/** Runs after the stages converged (the mailbox purge). */
	readonly after?: (rt: Runtime) => Promise<void>;
};

export function savedForm(rt: Runtime): Form {
	const saved = rt.state.data().answers;
	if (!saved) throw new UsageError(`nothing is set up yet (no saved progress in ${rt.state.file}). Run "mailwizard" to set up this server first.`);
	return storedForm(saved);
}

export function stagesOf(ids: readonly string[]): Step<any>[] {
	return STEPS.filter((s) => ids.includes(s.id));
}

async function planStages(rt: Runtime, answers: Answers, steps: readonly Step<any>[]): Promise<StepPlan[]> {
	const plans: StepPlan[] = [];
	for (const step of steps) plans.push(await planStep(step, rt.ctx, answers, STEPS));
	return plans;
}

/** The change applied to the answers: the edit, validated, with the new password in memory only. */
async function changedAnswers(o: Options, rt: Runtime, c: Change): Promise<{edit: Edit; answers: Answers}> {
	const edit = c.edit(savedForm(rt));
	let answers = validateAnswers(edit.form, {defaultIpv4, passwordOptional: true});
	if (c.password && edit.changed && !o.dryRun) {
		const password = await c.password.ask();
		answers = {...answers, users: answers.users.map((u) => (u.name === c.password!.user ? {...u, password} : u))};
	}
	return {edit, answers};
}

export async function converge(o: Options, c: Change): Promise<ExitCode> {
	if (!o.dryRun && o.root === '/' && process.getuid?.() !== 0) throw new UsageError('this changes the mail system and must run as root (sudo). To preview without root: --dry-run');
	if (!o.dryRun) refuseIfLocked(stateDirOf(o));
	const probe = await makeRuntime(o, true);
	const {edit, answers} = await changedAnswers(o, probe, c);
	const steps = stagesOf(c.stages);
	const plans = await planStages(probe, answers, steps);
	const changes = plans.reduce((n, p) => n + p.changes, 0);
	if (o.dryRun) {
		process.stdout.write(`# mailwizard dry run: ${edit.what} — nothing is changed\n\n${printPlan(plans, probe.profile.init)}`);
		return exitCode('done');
	}
	const sameAnswers = JSON.stringify(publicAnswers(answers)) === JSON.stringify(publicAnswers(validateAnswers(savedForm(probe), {defaultIpv4, passwordOptional: true})));
	if (changes === 0 && sameAnswers && !plans.some((p) => p.actions.some((a) => a.kind === 'wait'))) {
		process.stdout.write(`Nothing to change: ${edit.changed ? `the mail system already does this (${edit.what})` : edit.what}.\n`);
		return exitCode('done');
	}
	await c.precheck?.(probe, answers);
	if (!o.yes) {
		if (!process.stdin.isTTY || !process.stdout.isTTY) throw new UsageError('no terminal to confirm on: add --yes to apply the change unattended');
		process.stdout.write(printPlan(plans, probe.profile.init));
		if (!(await confirmOnTerminal(`${edit.what}: apply? [y/N] `))) return exitCode('quit');
	}
	return run(o, writable(probe), answers, steps, c);
}

async function run(o: Options, rt: Runtime, answers: Answers, steps: readonly Step<any>[], c: Change): Promise<ExitCode> {
	const outcome = await applyPlain(o, rt, answers, steps);
	if (outcome === 'done') await c.after?.(rt);
	return exitCode(outcome);
}
