// From a step's wanted state to the actions that change something: facts, plan,
// then drop what already holds (a file with the same content, a running service).
import type {Answers} from '../answers.ts';
import {dirDiffers, fileDiffers} from './files.ts';
import {exeOf, serviceRunning} from './services.ts';
import type {Action, Ctx, FileAction, ServiceAction, Step} from './types.ts';

/** An action with what the engine learned while resolving it. */
export type Resolved = (FileAction & {readonly old?: string; readonly metaOnly: boolean; readonly unreadable?: boolean}) | Exclude<Action, FileAction>;

export type StepPlan = {
	readonly step: Step<any>;
	readonly actions: readonly Resolved[];
	/** Number of actions that change the system. */
	readonly changes: number;
};

export function changes(actions: readonly Action[]): number {
	return actions.filter((a) => a.kind !== 'notice' && a.kind !== 'wait').length;
}

/** Keeps the actions whose wanted state does not hold yet. */
export async function resolve(ctx: Ctx, actions: readonly Action[], daemons: Pick<Step, 'daemons'> = {}): Promise<Resolved[]> {
	const out: Resolved[] = [];
	const changedServices = new Set<string>();
	for (const a of actions) {
		if (a.kind === 'file') {
			const d = await fileDiffers(ctx.root, a);
			if (!d.content && !d.meta) continue;
			if (d.content && a.restarts && !a.onChange) changedServices.add(a.restarts);
			out.push({...a, old: d.old, metaOnly: !d.content, unreadable: d.unreadable});
		} else if (a.kind === 'dir') {
			if (await dirDiffers(ctx.root, a.path, a.mode, a.owner, a.group)) out.push(a);
		} else {
			out.push(a);
		}
	}
	// Services: restart when one of their files changed, start when not running, else nothing.
	const result: Resolved[] = [];
	const seen = new Set<string>();
	for (const a of out) {
		if (a.kind !== 'service') {
			result.push(a);
			continue;
		}
		if (seen.has(a.name)) continue;
		seen.add(a.name);
		const running = await serviceRunning(ctx, a.name, exeOf(daemons, a.name));
		let op: ServiceAction['op'] | undefined;
		if (!running) op = 'start';
		else if (changedServices.has(a.name) || a.always) op = a.op;
		if (op) result.push({...a, op});
	}
	// A file whose service will restart anyway needs no reload command.
	return result.map((a) => (a.kind === 'file' && a.onChange && result.some((s) => s.kind === 'service' && s.name === a.restarts) ? {...a, onChange: undefined} : a));
}

/** `stages`: the whole walk, which the package stage reads (see Step.facts). */
export async function planStep(step: Step<any>, ctx: Ctx, answers: Answers, stages: readonly Step<any>[]): Promise<StepPlan> {
	const facts = await step.facts(ctx, answers, stages);
	const wanted = step.plan(answers, facts, ctx.profile);
	const actions = await resolve(ctx, wanted, step);
	return {step, actions, changes: changes(actions)};
}
