// What the wizard says when a run ends, and how it ended (its exit code comes from exit.ts).
import type {Outcome} from '../engine/apply.ts';
import type {Progress} from './progress.ts';
import {startCommand} from '../invocation.ts';

const RESUME = `run \`${startCommand()}\` again to continue`;

/** How the screen's own actions (q at the wait, Ctrl-C) change apply()'s outcome. */
export type How = {readonly quitAtWait: boolean; readonly interrupted: boolean};

function endingOf(outcome: Outcome, how: How): Outcome {
	if (how.quitAtWait || outcome === 'waiting') return 'waiting';
	if (how.interrupted || outcome === 'interrupted') return 'interrupted';
	return outcome;
}

function finishLine(ending: Outcome, p: Progress): string {
	switch (ending) {
		case 'waiting': {
			const pending = p.waitingPending ?? (p.wait ? p.wait.report.checks.filter((c) => c.record.publishable && c.state !== 'ok').length : undefined);
			return `Waiting for ${pending ?? 'the'} DNS record${pending === 1 ? '' : 's'}. Progress is saved: publish them ("${startCommand({sub: 'dns --zone'})}"), then ${RESUME}.`;
		}
		case 'interrupted':
			return `Interrupted: progress is saved. ${RESUME[0]!.toUpperCase()}${RESUME.slice(1)}.`;
		case 'done':
			if (p.done && p.done.changed > 0) return `Finished: ${p.done.changed} change${p.done.changed === 1 ? '' : 's'} applied. Your mail server is ready.`;
			// A resumed run that only saw the DNS wait through: the setup is complete, not "unchanged".
			if (p.waitPassed) return 'Finished: the DNS records are published and every stage is done. Your mail server is ready.';
			return 'Finished: nothing needed to change; the system already matches the answers.';
		case 'quit':
			return `Stopped before "${p.step?.title ?? 'the next stage'}": nothing of it ran. Progress is saved: ${RESUME}.`;
		case 'failed':
			return `A stage failed; the stages before it are kept. Fix the cause shown above, then ${RESUME}.`;
	}
}

/** How the run ended, and the line that says so. */
export function outcomeLines(outcome: Outcome, p: Progress, how: How): {ending: Outcome; lines: string[]} {
	const ending = endingOf(outcome, how);
	return {ending, lines: [finishLine(ending, p)]};
}

/** After a second Ctrl-C while a run is stopping. */
export const LEFT_NOW = `Interrupted: progress is saved. ${RESUME}.`;
