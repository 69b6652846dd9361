// The running part of the wizard's state machine: start apply() through deps.start, fold
// its events into the screen's Progress (run/drive.ts), the plan review's decisions,
// Ctrl-C and signals, q at the DNS wait.
import {useInput} from 'ink';
import {useCallback, useEffect, useRef, useState} from 'react';
import type {Answers} from '../answers.ts';
import type {Decision, Outcome} from '../engine/apply.ts';
import type {StepPlan} from '../engine/plan.ts';
import type {Ending} from '../exit.ts';
import type {InitSystem} from '../platform/profile.ts';
import {drive, type Started} from '../run/drive.ts';
import type {Deps} from './deps.ts';
import {LEFT_NOW, outcomeLines} from './outcome.ts';
import {initialProgress, reduce, skipped, type Progress} from './progress.ts';

export type Confirming = {readonly plan: StepPlan; readonly index: number; readonly total: number; readonly resolve: (d: Decision) => void};
export type Finish = (ending: Ending, lines: string[]) => void;

/** Ctrl-C (a key in raw mode) or a signal: before a run, leave; in a run, stop it and save; twice, leave now. */
function useInterrupt(deps: Deps, finish: Finish, controller: {current?: AbortController}, release: {current: () => void}, confirmRef: {current?: (d: Decision) => void}) {
	const how = useRef({quitAtWait: false, interrupted: false, presses: 0});
	const [stopping, setStopping] = useState<string | undefined>();
	const interrupt = useCallback(() => {
		how.current.presses++;
		if (!controller.current) return finish('interrupted', ['Interrupted: nothing was changed.']);
		if (how.current.presses > 1) {
			release.current();
			return finish('interrupted', [LEFT_NOW]);
		}
		how.current.interrupted = true;
		setStopping('Stopping: ending the running command; progress is saved. (Ctrl-C again to leave now.)');
		controller.current.abort();
		confirmRef.current?.('quit');
	}, [deps, finish]);
	useEffect(() => deps.onSignal?.(interrupt), [deps, interrupt]);
	const quitAtWait = () => {
		how.current.quitAtWait = true;
		setStopping('Leaving the DNS wait: progress is saved.');
		controller.current?.abort();
	};
	return {how, stopping, interrupt, quitAtWait};
}

export function useRun(deps: Deps, running: boolean, finish: Finish) {
	const now = deps.now ?? Date.now;
	const [progress, setProgress] = useState<Progress>(initialProgress());
	const [confirm, setConfirm] = useState<Confirming | undefined>();
	const [init, setInit] = useState<InitSystem>('systemd');
	const controller = useRef<AbortController | undefined>(undefined);
	const release = useRef<() => void>(() => undefined);
	const confirmRef = useRef<((d: Decision) => void) | undefined>(undefined);
	const progressRef = useRef(progress);
	progressRef.current = progress;
	const {how, stopping, interrupt, quitAtWait} = useInterrupt(deps, finish, controller, release, confirmRef);

	useInput((input, key) => {
		if (key.ctrl && input === 'c') interrupt();
		else if (input === 'q' && running && progressRef.current.wait && !progressRef.current.wait.report.complete && controller.current && !confirm) quitAtWait();
	});

	const ask = (plan: StepPlan) =>
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
		});

	const sink = (event: Parameters<typeof reduce>[1]) => {
		const p = reduce(progressRef.current, event, now());
		progressRef.current = p;
		setProgress(p);
	};

	/** Runs apply() to its end; the lock is released however it ends. */
	const run = async (answers: Answers) => {
		const ac = new AbortController();
		controller.current = ac;
		let started: Started;
		try {
			started = await deps.start(answers, ask, ac.signal);
		} catch (error) {
			controller.current = undefined;
			return finish('usage', [`mailwizard: ${(error as Error).message}`, 'Nothing was changed.']);
		}
		release.current = started.release;
		setInit(started.init);
		let outcome: Outcome;
		try {
			outcome = await drive(started, sink);
		} catch (error) {
			return finish('failed', [`mailwizard: ${(error as Error).stack ?? String(error)}`]);
		}
		const r = outcomeLines(outcome, progressRef.current, how.current);
		finish(r.ending, r.lines);
	};
	return {progress, confirm, init, stopping, run};
}
