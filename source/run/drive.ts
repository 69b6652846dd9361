// The one driver of a run: apply()'s events into a sink (the plain reporter, or the
// wizard's screen model) until it ends; the state's lock is released however it ends.
// Imports nothing: the Ink screens use it without loading the engine.
import type {Outcome} from '../engine/apply.ts';
import type {Event} from '../engine/types.ts';
import type {InitSystem} from '../platform/profile.ts';

export type Started = {
	readonly events: AsyncGenerator<Event, Outcome>;
	readonly init: InitSystem;
	/** Releases the lock on the state directory (safe to call more than once). */
	readonly release: () => void;
};

/** Where a run's events go. */
export type Sink = (event: Event) => void;

/** Feeds every event into the sink until apply() ends and gives its outcome. */
export async function drive(started: Started, sink: Sink): Promise<Outcome> {
	try {
		for (;;) {
			const next = await started.events.next();
			if (next.done) return next.value;
			sink(next.value);
		}
	} finally {
		started.release();
	}
}

/**
 * Signals during a run without a screen: the first aborts (the running command ends and
 * progress is saved); the second ends the drive at once as "interrupted".
 */
export function interruptible(controller: AbortController): {readonly onSignal: () => void; readonly race: (driving: Promise<Outcome>) => Promise<Outcome>} {
	let interrupts = 0;
	let leaveNow!: () => void;
	const left = new Promise<Outcome>((resolve) => (leaveNow = () => resolve('interrupted')));
	return {
		onSignal() {
			controller.abort();
			if (++interrupts > 1) leaveNow();
		},
		race: (driving) => Promise.race([driving, left]),
	};
}
