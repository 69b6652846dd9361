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
