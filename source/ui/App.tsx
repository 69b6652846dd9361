// The wizard: welcome, questions, review, then apply()'s events on screen.
// Everything that touches the host comes in through Deps, so tests drive the
// screens with a scripted event stream.
import {Box, Text, useApp, useInput, useStdout} from 'ink';
import {useCallback, useEffect, useRef, useState} from 'react';
import type {Answers} from '../answers.ts';
import type {Decision, Outcome} from '../engine/apply.ts';
import type {StepPlan} from '../engine/plan.ts';
import type {StateData} from '../engine/state.ts';
import type {Event, Step} from '../engine/types.ts';
import type {InitSystem} from '../platform/profile.ts';
import {EMPTY_FORM, firstRunFields, fromSaved, needsPassword, toAnswers, type Env, type FieldId, type Form} from './form.ts';
import {PlanReview} from './PlanReview.tsx';
import {initialProgress, reduce, skipped, type Progress} from './progress.ts';
import {Questions} from './Questions.tsx';
import {Review} from './Review.tsx';
import {Running} from './Running.tsx';
import {stagesFrom} from './StepList.tsx';
import {tone} from './theme.ts';
import {isEnter} from './keys.ts';
import {Welcome} from './Welcome.tsx';

export const CODE = {ok: 0, failed: 1, usage: 2, waiting: 75, interrupted: 130} as const;

export type Started = {
	readonly events: AsyncGenerator<Event, Outcome>;
	readonly init: InitSystem;
	/** Releases the lock on the state directory. */
	readonly release: () => void;
};

export type Deps = {
	readonly steps: ReadonlyArray<Pick<Step, 'id' | 'title' | 'waitsForDns' | 'passwords'>>;
	readonly data: StateData;
	readonly stateFile: string;
	readonly env: Env;
	/** Applying needs root (or a test --root). */
	readonly canApply: boolean;
	/** --dry-run: answer, then preview every stage's plan; nothing is ever applied. */
	readonly dryRun?: boolean;
	/** The form as Answers (reads password files when it can). Throws AnswersError. */
	readonly answers: (form: Form) => Answers;
	readonly start: (answers: Answers, confirm: (plan: StepPlan) => Promise<Decision>, signal: AbortSignal) => Promise<Started>;
	/** The saved DNS wait's records, checked again now (a resumed run's welcome says what changed). */
	readonly recheck?: (signal: AbortSignal) => Promise<{ok: number; total: number}>;
	/** Read-only plans of every stage (for a preview without root). */
	readonly preview?: (answers: Answers) => Promise<{plans: StepPlan[]; init: InitSystem}>;
	/** Ends the commands still running (a Ctrl-C in raw mode reaches nobody else). */
	/** Signals (SIGINT, SIGTERM, SIGHUP) from outside: the App registers its handler. */
	readonly onSignal?: (handler: () => void) => () => void;
	readonly exit: (code: number) => void;
	readonly now?: () => number;
};

type Phase =
	| {name: 'welcome'}
	| {name: 'questions'; fields: (f: Form) => readonly FieldId[]; title: string; back: 'welcome' | 'review'}
	| {name: 'review'; note?: string}
	| {name: 'notroot'}
	| {name: 'preview'; plans: StepPlan[]; init: InitSystem; index: number}
	| {name: 'running'}
	| {name: 'finished'; code: number; lines: string[]};

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

const RESUME = 'run `npx mailwizard` again to continue';

export function outcomeLines(outcome: Outcome, p: Progress, how: {quitAtWait: boolean; interrupted: boolean}): {code: number; lines: string[]} {
	if (how.quitAtWait || outcome === 'waiting') {
		const pending = p.waitingPending ?? (p.wait ? p.wait.report.checks.filter((c) => c.record.publishable && c.state !== 'ok').length : undefined);
		return {code: CODE.waiting, lines: [`Waiting for ${pending ?? 'the'} DNS record${pending === 1 ? '' : 's'}. Progress is saved: publish them ("mailwizard dns --zone"), then ${RESUME}.`]};
	}
	if (how.interrupted || outcome === 'interrupted') return {code: CODE.interrupted, lines: [`Interrupted: progress is saved. ${RESUME[0]!.toUpperCase()}${RESUME.slice(1)}.`]};
	switch (outcome) {
		case 'done':
			if (p.done && p.done.changed > 0) return {code: CODE.ok, lines: [`Finished: ${p.done.changed} change${p.done.changed === 1 ? '' : 's'} applied. Your mail server is ready.`]};
			// A resumed run that only saw the DNS wait through: the setup is complete, not "unchanged".
			if (p.waitPassed) return {code: CODE.ok, lines: ['Finished: the DNS records are published and every stage is done. Your mail server is ready.']};
			return {code: CODE.ok, lines: ['Finished: nothing needed to change; the system already matches the answers.']};
		case 'quit':
			return {code: CODE.ok, lines: [`Stopped before "${p.step?.title ?? 'the next stage'}": nothing of it ran. Progress is saved: ${RESUME}.`]};
		case 'failed':
			return {code: CODE.failed, lines: [`A stage failed; the stages before it are kept. Fix the cause shown above, then ${RESUME}.`]};
		default:
			return {code: CODE.interrupted, lines: [`Interrupted: progress is saved. ${RESUME}.`]};
	}
}

export function App({deps}: {readonly deps: Deps}) {
	const {exit: inkExit} = useApp();
	const {stdout} = useStdout();
	const rows = stdout.rows || 24;
	const width = stdout.columns || 80;
	const now = deps.now ?? Date.now;
	const resumed = deps.data.answers !== undefined;
	const [phase, setPhase] = useState<Phase>({name: 'welcome'});
	const [form, setForm] = useState<Form>(() => (resumed ? fromSaved(deps.data.answers) : EMPTY_FORM));
	const [progress, setProgress] = useState<Progress>(initialProgress());
	const [confirm, setConfirm] = useState<{plan: StepPlan; index: number; total: number; resolve: (d: Decision) => void} | undefined>();
	const [stopping, setStopping] = useState<string | undefined>();
	const [init, setInit] = useState<InitSystem>('systemd');
	const controller = useRef<AbortController | undefined>(undefined);
	const how = useRef({quitAtWait: false, interrupted: false, presses: 0});
	const release = useRef<() => void>(() => undefined);
	const confirmRef = useRef<((d: Decision) => void) | undefined>(undefined);
	const progressRef = useRef(progress);
	progressRef.current = progress;

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

	const finish = useCallback((code: number, lines: string[]) => setPhase({name: 'finished', code, lines}), []);

	useEffect(() => {
		if (phase.name !== 'finished') return;
		// Let the last frame render, then leave.
		const t = setTimeout(() => {
			inkExit();
			deps.exit(phase.code);
		}, 20);
		return () => clearTimeout(t);
	}, [phase, deps, inkExit]);

	const interrupt = useCallback(() => {
		how.current.presses++;
		if (!controller.current) {
			finish(CODE.interrupted, ['Interrupted: nothing was changed.']);
			return;
		}
		if (how.current.presses > 1) {
			release.current();
			finish(CODE.interrupted, [`Interrupted: progress is saved. ${RESUME}.`]);
			return;
		}
		how.current.interrupted = true;
		setStopping('Stopping: ending the running command; progress is saved. (Ctrl-C again to leave now.)');
		controller.current.abort();
		confirmRef.current?.('quit');
	}, [deps, finish]);

	useEffect(() => deps.onSignal?.(interrupt), [deps, interrupt]);

	useInput((input, key) => {
		if (key.ctrl && input === 'c') interrupt();
		else if (input === 'q' && phase.name === 'running' && progressRef.current.wait && !progressRef.current.wait.report.complete && controller.current && !confirm) {
			how.current.quitAtWait = true;
			setStopping('Leaving the DNS wait: progress is saved.');
			controller.current.abort();
		}
	});

	const startApply = async (answers: Answers) => {
		const ac = new AbortController();
		controller.current = ac;
		setPhase({name: 'running'});
		let started: Started;
		try {
			started = await deps.start(
				answers,
				(plan) =>
					new Promise<Decision>((resolve) => {
						const step = progressRef.current.step;
						const done = (d: Decision) => {
							confirmRef.current = undefined;
							setConfirm(undefined);
							if (d === 'skip') setProgress((p) => skipped(p, plan.step.id));
							resolve(d);
						};
						confirmRef.current = done;
						setConfirm({plan, index: step?.index ?? 0, total: step?.total ?? deps.steps.length, resolve: done});
					}),
				ac.signal,
			);
		} catch (error) {
			controller.current = undefined;
			finish(CODE.usage, [`mailwizard: ${(error as Error).message}`, 'Nothing was changed.']);
			return;
		}
		release.current = started.release;
		setInit(started.init);
		let outcome: Outcome;
		try {
			for (;;) {
				const next = await started.events.next();
				if (next.done) {
					outcome = next.value;
					break;
				}
				const p = reduce(progressRef.current, next.value, now());
				progressRef.current = p;
				setProgress(p);
			}
		} catch (error) {
			started.release();
			finish(CODE.failed, [`mailwizard: ${(error as Error).stack ?? String(error)}`]);
			return;
		}
		started.release();
		const r = outcomeLines(outcome, progressRef.current, how.current);
		finish(r.code, r.lines);
	};

	const toReview = (f: Form, note?: string) => {
		setForm(f);
		setPhase({name: 'review', note});
	};

	const onContinue = () => {
		let answers: Answers;
		try {
			answers = deps.answers(form);
		} catch (error) {
			setPhase({name: 'review', note: (error as Error).message});
			return;
		}
		if (deps.dryRun && deps.preview) {
			void deps.preview(answers).then((r) => setPhase({name: 'preview', plans: r.plans, init: r.init, index: 0}));
			return;
		}
		if (!deps.canApply) {
			setPhase({name: 'notroot'});
			return;
		}
		void startApply(answers);
	};

	switch (phase.name) {
		case 'welcome':
			return (
				<Box flexDirection="column">
					<Welcome
						stages={stagesFrom(deps.steps, deps.data)}
						data={deps.data}
						stateFile={deps.stateFile}
						dnsNow={dnsNow}
						onQuit={() => finish(CODE.ok, ['Nothing was changed.'])}
						onStart={() => {
							if (!resumed) {
								setPhase({name: 'questions', fields: firstRunFields, title: 'mailwizard · questions', back: 'welcome'});
								return;
							}
							const pw = passwordStepsPending(deps.steps, deps.data);
							const ask = form.users.flatMap((u, i) => (needsPassword(u, pw) ? ([`password:${i}`, `again:${i}`] as FieldId[]) : []));
							if (ask.length) setPhase({name: 'questions', fields: () => ask, title: 'Passwords (never saved, so asked again)', back: 'welcome'});
							else toReview(form);
						}}
					/>
					{deps.dryRun ? (
						<Text color={tone('warn')}>Dry run: answer, then preview each stage's plan; nothing is changed.</Text>
					) : deps.canApply ? null : (
						<Text color={tone('warn')}>Not root: you can answer and preview; applying needs `sudo npx mailwizard`.</Text>
					)}
				</Box>
			);
		case 'questions':
			return (
				<Questions
					key={`${phase.title}-${phase.fields(form).join(',')}`}
					form={form}
					fields={phase.fields}
					env={deps.env}
					title={phase.title}
					onDone={(f) => toReview(f)}
					onBack={() => (phase.back === 'welcome' ? setPhase({name: 'welcome'}) : toReview(form))}
				/>
			);
		case 'review':
			return (
				<Review
					form={form}
					note={phase.note}
					onQuit={() => finish(CODE.ok, ['Nothing was changed.'])}
					onContinue={onContinue}
					onEdit={(id) => setPhase({name: 'questions', fields: editFields(id), title: 'Change an answer', back: 'review'})}
				/>
			);
		case 'notroot':
			return (
				<NotRoot
					onPreview={
						deps.preview
							? async () => {
									const r = await deps.preview!(deps.answers(form));
									setPhase({name: 'preview', plans: r.plans, init: r.init, index: 0});
								}
							: undefined
					}
					onBack={() => setPhase({name: 'review'})}
					onQuit={() => finish(CODE.usage, ['Nothing was changed. To set up this machine, run as root: sudo npx mailwizard'])}
				/>
			);
		case 'preview': {
			const plan = phase.plans[phase.index]!;
			return (
				<PlanReview
					key={phase.index}
					plan={plan}
					init={phase.init}
					index={phase.index}
					total={phase.plans.length}
					height={rows - 6}
					preview
					onDecision={(d) => {
						if (d === 'quit' || phase.index + 1 >= phase.plans.length)
							finish(deps.dryRun ? CODE.ok : CODE.usage, [
								deps.dryRun ? 'Dry run: nothing was changed. To set it up: sudo npx mailwizard' : 'Preview only: nothing was changed. To set up this machine: sudo npx mailwizard',
							]);
						else setPhase({...phase, index: phase.index + 1});
					}}
				/>
			);
		}
		case 'running':
		case 'finished':
			return (
				<Box flexDirection="column">
					<Running progress={progress} width={width} stopping={phase.name === 'running' ? stopping : undefined} />
					{confirm && phase.name === 'running' ? (
						<PlanReview key={confirm.plan.step.id} plan={confirm.plan} init={init} index={confirm.index} total={confirm.total} height={Math.max(5, rows - 7)} onDecision={confirm.resolve} />
					) : null}
					{phase.name === 'finished'
						? phase.lines.map((l) => (
								<Text key={l} bold color={tone(phase.code === CODE.ok ? 'ok' : phase.code === CODE.failed ? 'bad' : 'warn')}>
									{l}
								</Text>
							))
						: null}
				</Box>
			);
	}
}

function NotRoot({onPreview, onBack, onQuit}: {readonly onPreview?: () => Promise<void>; readonly onBack: () => void; readonly onQuit: () => void}) {
	const [busy, setBusy] = useState<string | undefined>();
	useInput((input, key) => {
		if (busy) return;
		if (input === 'p' && onPreview) {
			setBusy('Planning every stage against this machine (read-only)…');
			onPreview().catch((error: unknown) => setBusy(`The preview failed: ${(error as Error).message}`));
		} else if (key.escape || input === 'b') onBack();
		else if (input === 'q' || isEnter(input, key)) onQuit();
	});
	return (
		<Box flexDirection="column">
			<Text bold color={tone('warn')}>
				Applying needs root.
			</Text>
			<Text>mailwizard installs packages and writes /etc. To apply, run it as root:</Text>
			<Text bold>{'  '}sudo npx mailwizard</Text>
			<Text>Nothing was changed, and these answers are not saved.</Text>
			<Box marginTop={1}>
				<Text>
					{onPreview ? (
						<>
							<Text bold>p</Text> preview every stage's plan (nothing runs) ·{' '}
						</>
					) : null}
					<Text bold>b</Text> back · <Text bold>q</Text> quit
				</Text>
			</Box>
			{busy ? <Text color={tone('accent')}>{busy}</Text> : null}
		</Box>
	);
}
