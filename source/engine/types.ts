// The vocabulary of mailwizard: a Step looks at the host (facts), describes what it
// wants (plan -> Action[]), and the engine prints or applies those actions.
import type {Answers} from '../answers.ts';
import type {Profile} from '../platform/profile.ts';
import type {Cmd, Exec} from './exec.ts';
import type {Host} from '../platform/host.ts';

export type {Cmd};
import type {ExpectedRecord} from '../dns/types.ts';

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
	/**
	 * The op runs on a running service even when none of the step's files changed: a key rotation
	 * resumed after a kill finds its file already written, and the daemon must still load it.
	 */
	readonly always?: boolean;
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
	/** Memory, host name and interfaces: the machine's facts beyond files and commands. */
	readonly host: Host;
	/**
	 * What is checked from outside the server's control at the start and the end of a real run
	 * (never a dry run): blocklists to ask, where to test outbound port 25. Absent: nothing.
	 */
	readonly reputation?: {readonly dnsbls: readonly string[]; readonly probe?: string};
	/**
	 * The options of this run that the scheduled check repeats, as the operator gave them
	 * (--resolver, --dnsbl, --probe, --state-dir): the daily check asks what this run asked.
	 */
	readonly checkArgs?: readonly string[];
};

/**
 * A Debian package a stage needs. A name alone: the release's own package. With `from`: the
 * release's own is too old (below `min`), so it comes from that release's backports suite, or
 * is fetched once from the next release and held (Debian 12: see the package stage).
 */
export type PackageNeed =
	| string
	| {
			readonly name: string;
			/** How it is called in sentences (default: the package name). */
			readonly label?: string;
			readonly min?: string;
			readonly from?: 'backports' | 'next';
			/** Only on hosts with this init (cron where there is no systemd timer). */
			readonly init?: import('../platform/profile.ts').InitSystem;
			/** Why the release's own package will not do (shown before the install). */
			readonly why?: string;
			/** debconf answers given ahead so the install asks nothing; `what` names the question. */
			readonly preseed?: {readonly selections: (a: Answers) => string; readonly what: string};
	  };

/**
 * A daemon a stage manages: its service name, the binary of its main process (the liveness probe
 * without systemd), and, when its start returns before it serves (Rspamd compiles its rules first),
 * the loopback TCP port that answers once it is ready: a start or restart waits for it (bounded).
 */
export type Daemon = {
	readonly service: string;
	/** Absent: the main process is an interpreter (fail2ban-server is Python); its init script's status is asked. */
	readonly exe?: string;
	readonly ready?: {readonly tcp: number};
};

export type Step<F = unknown> = {
	readonly id: string;
	readonly title: string;
	/** One-line description for the step list. */
	readonly summary: string;
	/** The packages this stage needs, per Debian release (profile.version): the package stage installs them. */
	readonly packages?: Readonly<Record<string, readonly PackageNeed[]>>;
	/** The stage serves only some answers (tls.acme): its packages are installed only when this holds. */
	readonly usedWhen?: (a: Answers) => boolean;
	/** The daemons whose services this stage starts and restarts. */
	readonly daemons?: readonly Daemon[];
	/** The stage hashes the users' passwords: they must be at hand while it is still to run. */
	readonly passwords?: boolean;
	/** The stage waits for the operator's DNS records: while the state says so, it is shown as waiting. */
	readonly waitsForDns?: boolean;
	/** `stages` is the whole walk (the package stage reads every stage's declarations). */
	facts(ctx: Ctx, answers: Answers, stages: readonly Step<any>[]): Promise<F>;
	plan(answers: Answers, facts: F, profile: Profile): Action[];
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
