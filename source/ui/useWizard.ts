// The wizard's state machine: welcome → questions → review → (preview | not root | running)
// → finished. The screens (App.tsx) only render what this hook holds and call its actions.
import {useApp} from 'ink';
import {useCallback, useEffect, useState} from 'react';
import type {Answers} from '../answers.ts';
import type {Decision} from '../engine/apply.ts';
import type {StepPlan} from '../engine/plan.ts';
import type {StateData} from '../engine/state.ts';
import {exitCode, type Ending, type ExitCode} from '../exit.ts';
import type {InitSystem} from '../platform/profile.ts';
import type {Deps} from './deps.ts';
import {EMPTY_FORM, firstRunFields, fromSaved, needsPassword, type FieldId, type Form} from './form.ts';
import {useRun, type Finish} from './useRun.ts';
import {startCommand} from '../invocation.ts';

export type Phase =
	| {name: 'welcome'}
	| {name: 'questions'; fields: (f: Form) => readonly FieldId[]; title: string; back: 'welcome' | 'review'; typed?: string}
	| {name: 'review'; note?: string}
	| {name: 'notroot'}
	| {name: 'preview'; plans: StepPlan[]; init: InitSystem; index: number}
	| {name: 'running'}
	| {name: 'finished'; code: ExitCode; lines: string[]};

/** Passwords are needed only while a stage that hashes them is still to run. */
export function passwordStepsPending(steps: Deps['steps'], data: StateData): boolean {
	return steps.some((s) => s.passwords && !data.steps[s.id]?.done);
}

function editFields(id: FieldId): (f: Form) => FieldId[] {
	if (!id.startsWith('user:')) return () => [id];
	const i = Number(id.split(':')[1]);
	return (f) => {
		const u = f.users[i];
		return u && needsPassword(u, true) ? [id, `password:${i}`, `again:${i}`] : [id];
	};
}

/** A resumed run's saved DNS wait, checked again after the first frame: what it says now. */
function useRecheck(deps: Deps): string | undefined {
	const [dnsNow, setDnsNow] = useState<string | undefined>(deps.recheck ? 'Checking the DNS records now…' : undefined);
	useEffect(() => {
		if (!deps.recheck) return;
		const ac = new AbortController();
		deps.recheck(ac.signal).then(
			(r) => {
				if (ac.signal.aborted) return;
				const last = deps.data.wait?.lastCheck;
				const since = last && last.ok !== r.ok ? ` (was ${last.ok})` : '';
				setDnsNow(`DNS now: ${r.ok} of ${r.total} published${since}${r.ok === r.total ? ': Enter finishes the setup.' : '.'}`);
			},
			(error: unknown) => {
				if (!ac.signal.aborted) setDnsNow(`DNS now: the check failed (${(error as Error).message}); the wait checks again.`);
			},
		);
		return () => ac.abort();
	}, [deps]);
	return dnsNow;
}

/** Once finished: let the last frame render, then leave with the code. */
function useLeave(phase: Phase, deps: Deps): void {
	const {exit: inkExit} = useApp();
	useEffect(() => {
		if (phase.name !== 'finished') return;
		const t = setTimeout(() => {
			inkExit();
			deps.exit(phase.code);
		}, 20);
		return () => clearTimeout(t);
	}, [phase, deps, inkExit]);
}

export function useWizard(deps: Deps) {
	const [phase, setPhase] = useState<Phase>({name: 'welcome'});
	const [form, setForm] = useState<Form>(() => (deps.data.answers !== undefined ? fromSaved(deps.data.answers) : EMPTY_FORM));
	const dnsNow = useRecheck(deps);
	const finish = useCallback<Finish>((ending: Ending, lines: string[]) => setPhase({name: 'finished', code: exitCode(ending), lines}), []);
	useLeave(phase, deps);
	const run = useRun(deps, phase.name === 'running', finish);
	return {phase, form, dnsNow, ...run, ...wizardActions(deps, phase, form, {setPhase, setForm, finish, run: run.run})};
}

type Setters = {
	readonly setPhase: (p: Phase) => void;
	readonly setForm: (f: Form) => void;
	readonly finish: Finish;
	readonly run: (answers: Answers) => Promise<void>;
};

/** What the screens can do, as transitions of the state machine. */
function wizardActions(deps: Deps, phase: Phase, form: Form, {setPhase, setForm, finish, run}: Setters) {
	const toReview = (f: Form, note?: string) => {
		setForm(f);
		setPhase({name: 'review', note});
	};
	const toPreview = (r: {plans: StepPlan[]; init: InitSystem}) => setPhase({name: 'preview', plans: r.plans, init: r.init, index: 0});
	return {
		toReview,
		quit: () => finish('quit', ['Nothing was changed.']),
		/** Enter on the welcome screen: the questions, or on a resumed run the passwords still needed. */
		begin(typed?: string) {
			if (deps.data.answers === undefined) return setPhase({name: 'questions', fields: firstRunFields, title: 'mailwizard · questions', back: 'welcome', typed});
			const pw = passwordStepsPending(deps.steps, deps.data);
			const ask = form.users.flatMap((u, i) => (needsPassword(u, pw) ? ([`password:${i}`, `again:${i}`] as FieldId[]) : []));
			if (ask.length) setPhase({name: 'questions', fields: () => ask, title: 'Passwords (never saved, so asked again)', back: 'welcome'});
			else toReview(form);
		},
		edit: (id: FieldId) => setPhase({name: 'questions', fields: editFields(id), title: 'Change an answer', back: 'review'}),
		backTo: (to: 'welcome' | 'review') => (to === 'welcome' ? setPhase({name: 'welcome'}) : setPhase({name: 'review'})),
		/** Continue on the review: a dry run previews; without root, say so; else apply. */
		proceed() {
			let answers: Answers;
			try {
				answers = deps.answers(form);
			} catch (error) {
				return setPhase({name: 'review', note: (error as Error).message});
			}
			if (deps.dryRun && deps.preview) {
				// Planning takes a second or two: say so at once (issue 15.7).
				setPhase({name: 'review', note: 'Planning every stage against this machine (read-only)…'});
				return void deps.preview(answers).then(toPreview);
			}
			if (!deps.canApply) return setPhase({name: 'notroot'});
			setPhase({name: 'running'});
			void run(answers);
		},
		preview: deps.preview ? async () => toPreview(await deps.preview!(deps.answers(form))) : undefined,
		refuse: () => finish('usage', [`Nothing was changed. To set up this machine, run as root: ${startCommand({apply: true})}`]),
		/** A decision on a previewed stage: the next one, or the end of the preview. */
		previewed(d: Decision) {
			if (phase.name !== 'preview') return;
			if (d !== 'quit' && phase.index + 1 < phase.plans.length) return setPhase({...phase, index: phase.index + 1});
			finish(deps.dryRun ? 'done' : 'usage', [
				deps.dryRun
					? `Dry run: nothing was changed. To set it up, as root: ${startCommand({apply: true})}`
					: `Preview only: nothing was changed. To set up this machine, as root: ${startCommand({apply: true})}`,
			]);
		},
	};
}
