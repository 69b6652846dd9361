// The one driver of a run: events into a sink, the lock released however it ends, and
// the second signal of an unattended run ending it at once (exit code from exit.ts).
import test from 'ava';
import type {Outcome} from '../../source/engine/apply.ts';
import type {Event} from '../../source/engine/types.ts';
import {exitCode, EXIT} from '../../source/exit.ts';
import {drive, interruptible, type Started} from '../../source/run/drive.ts';

const STEP: Event = {type: 'step', id: 'packages', title: 'Packages', index: 0, total: 1};

function started(events: AsyncGenerator<Event, Outcome>): Started & {released: number} {
	const s = {events, init: 'systemd' as const, released: 0, release: () => s.released++};
	return s;
}

test("every event reaches the sink in order, the outcome is apply()'s, and the lock is released", async (t) => {
	const s = started(
		(async function* () {
			yield STEP;
			yield {type: 'done', changed: 0} as Event;
			return 'done' as Outcome;
		})(),
	);
	const seen: string[] = [];
	t.is(await drive(s, (e) => seen.push(e.type)), 'done');
	t.deepEqual(seen, ['step', 'done']);
	t.is(s.released, 1);
});

test('a run that throws still releases the lock', async (t) => {
	const s = started(
		(async function* () {
			yield STEP;
			throw new Error('boom');
		})(),
	);
	await t.throwsAsync(
		drive(s, () => undefined),
		{message: 'boom'},
	);
	t.is(s.released, 1);
});

test('the first signal aborts the run; the second ends it at once as interrupted (exit 130)', async (t) => {
	const controller = new AbortController();
	const {onSignal, race} = interruptible(controller);
	// A command that ignores the abort: only the second signal gets us out.
	const s = started(
		(async function* () {
			yield STEP;
			await new Promise(() => undefined);
			return 'done' as Outcome;
		})(),
	);
	const driving = race(drive(s, () => undefined));
	onSignal();
	t.true(controller.signal.aborted);
	const first = await Promise.race([driving, new Promise((r) => setTimeout(() => r('still running'), 50))]);
	t.is(first, 'still running', 'one signal waits for the command to end');
	onSignal();
	const outcome = await driving;
	t.is(outcome, 'interrupted');
	t.is(exitCode(outcome), EXIT.interrupted);
});

test('each outcome has one exit code', (t) => {
	t.deepEqual(
		(['done', 'quit', 'waiting', 'failed', 'interrupted', 'usage'] as const).map((o) => exitCode(o)),
		[0, 0, 75, 1, 130, 2],
	);
});
