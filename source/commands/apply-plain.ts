// An unattended run (the wizard with --answers, the day-two commands): the engine's events as
// plain lines. The first signal ends the running command and saves progress; a second leaves at once.
import type {Answers} from '../answers.ts';
import type {Outcome} from '../engine/apply.ts';
import type {Step} from '../engine/types.ts';
import type {Options} from '../options.ts';
import {plainReporter} from '../report/plain.ts';
import {drive, interruptible} from '../run/drive.ts';
import {startRun} from '../run/start.ts';
import type {Runtime} from '../runtime.ts';

/** With steps: a day-two change over those stages (saved only once it converged, rolled back on failure). */
export async function applyPlain(o: Options, rt: Runtime, answers: Answers, steps?: readonly Step<any>[]): Promise<Outcome> {
	const controller = new AbortController();
	const started = startRun(rt, answers, {signal: controller.signal, wait: o.noWait || !process.stdout.isTTY ? 'once' : 'poll', ...(steps ? {steps, scope: 'change' as const} : {})});
	const {onSignal, race} = interruptible(controller);
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	try {
		const outcome = await race(
			drive(
				started,
				plainReporter((l) => process.stdout.write(`${l}\n`), rt.profile.init, o.verbose),
			),
		);
		if (outcome === 'interrupted') process.stdout.write('Interrupted: progress is saved. Run the same command again to continue.\n');
		return outcome;
	} finally {
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
		started.release();
	}
}
