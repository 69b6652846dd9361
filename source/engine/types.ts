// The vocabulary of mailwizard: a Step looks at the host (facts), describes what it
// wants (plan -> Action[]), and the engine prints or applies those actions.
import type {Answers} from '../answers.ts';
import type {Profile} from '../platform/profile.ts';
import type {Exec} from './exec.ts';
import type {ExpectedRecord} from '../dns/types.ts';

/** A command: argv only (never a shell string), optional stdin. */
export type Cmd = {
	readonly argv: readonly string[];
	/** Text fed on stdin. Use for passwords: never in argv or env. */
	readonly stdin?: string;
	/** Substrings to mask wherever this command or its output is shown. */
	readonly secrets?: readonly string[];
	readonly env?: Readonly<Record<string, string>>;
	readonly cwd?: string;
	/** Run detached from any controlling terminal (doveadm pw reads the tty otherwise). */
	readonly setsid?: boolean;
	/**
	 * The command starts a daemon that may keep the output pipes open (init scripts):
	 * its output goes to a file, read when the command exits, so nothing waits on the daemon.
	 */
	readonly daemon?: boolean;
	/** Exit codes that count as success (default [0]). */
	readonly okCodes?: readonly number[];
};

/** How to generate content that must not exist before apply (private keys). */
export type Generated = {readonly generate: 'rsa-2048-pkcs8'};

export type SecretEntries = 'colon' | 'word' | 'quote' | 'whole';

export type FileAction = {
	readonly kind: 'file';
	readonly path: string;
	readonly content: string | Generated;
	readonly mode: number;
	readonly owner?: string;
	readonly group?: string;
	readonly why: string;
	/** Substrings of content to mask in every printed form (dry run, diffs, logs). */
	readonly secrets?: readonly string[];
	/**
	 * The file holds secrets (hashes, keys): the plan never shows its lines, old or new, only
	 * the names of the entries that change. An entry is named by the text before the first ':'
	 * (Dovecot users), its first word (smtpd tables), the text before the first '"' (srs key
	 * lines); 'whole': the file is one secret (a private key). A file with secrets and no
	 * sensitive is treated as 'whole'.
	 */
	readonly sensitive?: SecretEntries;
	/** Checks the temp file before it replaces the real one; %s is the temp path. */
	readonly validate?: readonly string[];
	/** Checks run after the rename; a failure restores the previous file. */
	readonly verify?: readonly Cmd[];
	/** After writing, reload instead of restart (e.g. smtpctl update table). */
	readonly onChange?: readonly Cmd[];
	/** Service to restart when this file changes (deduplicated per step). */
	readonly restarts?: string;
};

export type RunAction = {
	readonly kind: 'run';
	readonly cmd: Cmd;
	readonly why: string;
};

export type DirAction = {
	readonly kind: 'dir';
	readonly path: string;
	readonly mode: number;
	readonly owner?: string;
	readonly group?: string;
	readonly why: string;
};

export type ServiceOp = 'start' | 'restart' | 'reload' | 'stop';
export type ServiceAction = {
	readonly kind: 'service';
	readonly name: string;
	readonly op: ServiceOp;
	readonly why: string;
	/** Checks run after the op; a failure fails the step. */
	readonly verify?: readonly Cmd[];
};

/** Shows something to the operator (DNS records to publish, warnings, a summary). */
export type NoticeAction = {
	readonly kind: 'notice';
	readonly level: 'info' | 'warn' | 'records' | 'summary';
	readonly title: string;
	readonly lines: readonly string[];
	readonly records?: readonly ExpectedRecord[];
};

/** Wait until the authoritative DNS servers publish these records. */
export type WaitAction = {
	readonly kind: 'wait';
	readonly domain: string;
	readonly records: readonly ExpectedRecord[];
	readonly why: string;
};

export type Action = FileAction | RunAction | DirAction | ServiceAction | NoticeAction | WaitAction;

/** What a step refuses outright (wrong distro, bad certificate): nothing is applied. */
export class StepError extends Error {
	constructor(
		message: string,
		readonly hint?: string,
	) {
		super(message);
		this.name = 'StepError';
	}
}

/** Read-only view of the host that facts() may use. */
export type Ctx = {
	readonly root: string;
	readonly exec: Exec;
	readonly profile: Profile;
	/** True when nothing may change (dry run): facts must not write either. */
	readonly readOnly: boolean;
	readonly resolvers: readonly string[];
	/**
	 * What is checked from outside the server's control at the start and the end of a real run
	 * (never a dry run): blocklists to ask, where to test outbound port 25. Absent: nothing.
	 */
	readonly reputation?: {readonly dnsbls: readonly string[]; readonly probe?: string};
};

export type Step<F = unknown> = {
	readonly id: string;
	readonly title: string;
	/** One-line description for the step list. */
	readonly summary: string;
	facts(ctx: Ctx, answers: Answers): Promise<F>;
	plan(answers: Answers, facts: F, profile: Profile): Action[];
	/** Answer keys this step depends on, for the input hash (default: all). */
	readonly inputs?: (answers: Answers) => unknown;
};

export type PlannedStep = {
	readonly step: Step<any>;
	readonly actions: readonly Action[];
	/** Actions that change something (everything but notices). */
	readonly changes: number;
	readonly inputHash: string;
};

export type ActionResult = 'changed' | 'unchanged' | 'skipped';

export type Event =
	| {type: 'step'; id: string; title: string; index: number; total: number}
	| {type: 'plan'; id: string; actions: readonly Action[]}
	| {type: 'action'; id: string; action: Action; status: 'start' | 'done' | 'failed'; detail?: string}
	| {type: 'output'; id: string; line: string}
	| {type: 'notice'; id: string; notice: NoticeAction}
	| {type: 'wait'; id: string; report: import('../dns/types.ts').CheckReport; nextPollIn: number}
	| {type: 'step-done'; id: string; changed: number}
	| {type: 'done'; changed: number}
	| {type: 'waiting'; id: string; pending: number}
	| {type: 'error'; id: string; message: string; hint?: string; command?: string; exitCode?: number; tail?: string};
