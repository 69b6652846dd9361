// The exit codes and the one mapping from how a run ended to its code. Everything that
// ends the program returns one of these to main(); only bin.ts calls process.exit.
// Kept dependency-free: --help and --version load it.
import type {Outcome} from './engine/apply.ts';

/** warn: check found only warnings or unknowns (no failure). */
export const EXIT = {ok: 0, failed: 1, usage: 2, warn: 3, waiting: 75, interrupted: 130} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** How a command ended: apply()'s outcomes, plus "usage" (bad usage or input: nothing was changed). */
export type Ending = Outcome | 'usage';

/** Bad usage or input: exit 2, nothing was changed. */
export class UsageError extends Error {}

/** The only outcome → exit code mapping. */
export function exitCode(ending: Ending): ExitCode {
	switch (ending) {
		case 'done':
		case 'quit':
			return EXIT.ok;
		case 'waiting':
			return EXIT.waiting;
		case 'interrupted':
			return EXIT.interrupted;
		case 'failed':
			return EXIT.failed;
		case 'usage':
			return EXIT.usage;
	}
}

/** An error that reached main(): bad input (exit 2, nothing changed) or a failure (exit 1). */
export function errorEnding(error: unknown): Ending {
	return error instanceof UsageError || ['AnswersError', 'StateDirError'].includes((error as Error | undefined)?.name ?? '') ? 'usage' : 'failed';
}
