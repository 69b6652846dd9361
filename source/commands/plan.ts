// Every stage's plan against this machine (or --target), read-only: the dry run and the wizard's preview.
import type {Answers} from '../answers.ts';
import {planStep, type StepPlan} from '../engine/plan.ts';
import {StepError} from '../engine/types.ts';
import type {Runtime} from '../runtime.ts';
import {STEPS} from '../../steps/index.ts';

export type Refused = {readonly id: string; readonly error: StepError};

/** Plans every step; a step that would stop shows why in its place. Writes nothing. */
export async function planAll(rt: Runtime, answers: Answers): Promise<{plans: StepPlan[]; refused: Refused[]}> {
	const plans: StepPlan[] = [];
	const refused: Refused[] = [];
	for (const step of STEPS) {
		try {
			plans.push(await planStep(step, rt.ctx, answers, STEPS));
		} catch (error) {
			if (!(error instanceof StepError)) throw error;
			refused.push({id: step.id, error});
			plans.push({
				step,
				actions: [{kind: 'notice', level: 'warn', title: `This step would stop here: ${error.message}`, lines: error.hint ? [error.hint] : []}],
				changes: 0,
			});
		}
	}
	return {plans, refused};
}
