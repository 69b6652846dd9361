// Starting a run: lock the state directory, start apply() with this runtime. The unattended
// run (commands/wizard.ts) and the Ink wizard (app.tsx) both start here and drive the
// events with drive.ts; the exit code of the outcome comes from exit.ts.
import type {Answers} from '../answers.ts';
import {apply, type Decision} from '../engine/apply.ts';
import type {StepPlan} from '../engine/plan.ts';
import {checkRecords} from '../dns/check.ts';
import {lock} from './lock.ts';
import {stateDirOf} from '../options.ts';
import type {Step} from '../engine/types.ts';
import type {Runtime} from '../runtime.ts';
import {STEPS} from '../../steps/index.ts';
import type {Started} from './drive.ts';

export type StartOptions = {
	readonly signal: AbortSignal;
	/** Asked before each stage runs (the wizard's plan review); without it every stage runs. */
	readonly confirm?: (plan: StepPlan) => Promise<Decision>;
	/** "once": save progress and end as "waiting" when records are missing; "poll": wait for them. */
	readonly wait: 'once' | 'poll';
	/** The stages to converge (a day-two command runs only the ones its change affects); default: all. */
	readonly steps?: readonly Step<any>[];
	/** "change": a day-two command (see ApplyOptions.scope); default "setup". */
	readonly scope?: 'setup' | 'change';
};

/** Takes the state directory's lock and starts apply() with a writable runtime. */
export function startRun(rt: Runtime, answers: Answers, o: StartOptions): Started {
	const release = lock(stateDirOf(rt.options));
	const events = apply({
		steps: o.steps ?? STEPS,
		ctx: rt.ctx,
		answers,
		state: rt.state,
		wait: o.wait,
		pollMs: rt.options.pollSeconds * 1000,
		signal: o.signal,
		confirm: o.confirm,
		scope: o.scope,
		checkDns: (records, signal) => checkRecords(records, {resolvers: rt.ctx.resolvers, signal}),
	});
	return {events, init: rt.profile.init, release};
}
