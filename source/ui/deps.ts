// What the wizard's screens get from outside: everything that touches the host comes in
// here, so tests drive the screens with a scripted event stream.
import type {Answers} from '../answers.ts';
import type {Decision} from '../engine/apply.ts';
import type {StepPlan} from '../engine/plan.ts';
import type {StateData} from '../engine/state.ts';
import type {ExitCode} from '../exit.ts';
import type {InitSystem} from '../platform/profile.ts';
import type {Step} from '../engine/types.ts';
import type {Started} from '../run/drive.ts';
import type {Env, Form} from './form.ts';

export type {Started};

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
	/** Signals (SIGINT, SIGTERM, SIGHUP) from outside: the wizard registers its handler. */
	readonly onSignal?: (handler: () => void) => () => void;
	/** Saves the answers (file form, no secret) to this path and the zone fragment beside it: the closing lines say where. */
	readonly save?: (answers: Answers, path: string) => Promise<string[]>;
	/** The wizard has ended with this code (the caller returns it to main()). */
	readonly exit: (code: ExitCode) => void;
	readonly now?: () => number;
};
