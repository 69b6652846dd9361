// The only code that changes the system. An async generator of events: the plain
// reporter, the JSON reporter and the Ink screens all render the same stream.
import type {Answers} from '../answers.ts';
import {publicAnswers} from '../answers.ts';
import type {CheckReport, ExpectedRecord} from '../dns/types.ts';
import {pollRecords} from '../dns/wait.ts';
import {showCmd} from './exec.ts';
import {ensureDir, FileError, writeFileAction} from './files.ts';
import {planStep, type Resolved, type StepPlan} from './plan.ts';
import {putBack, restoredHint, type Undo} from './rollback.ts';
import {daemonLogCmd, exeOf, READY_SECONDS, readyCmd, serviceCmd} from './services.ts';
import {printable} from '../text/safe.ts';
import type {State} from './state.ts';
import {StepError, type Cmd, type Ctx, type Event, type Step} from './types.ts';

export type Decision = 'run' | 'skip' | 'quit';

export type ApplyOptions = {
	readonly steps: readonly Step<any>[];
	readonly ctx: Ctx;
	readonly answers: Answers;
	readonly state: State;
	/** poll: wait until the records are published; once: check, and stop with 'waiting' if not. */
	readonly wait: 'poll' | 'once';
	readonly checkDns: (records: readonly ExpectedRecord[], signal?: AbortSignal) => Promise<CheckReport>;
	readonly pollMs?: number;
	readonly signal?: AbortSignal;
	/** Asked before each step that changes something (the TUI's plan review). */
	readonly confirm?: (plan: StepPlan) => Promise<Decision>;
	/**
	 * setup (default): the wizard's run; the answers are saved first so a stopped run resumes them,
	 * and finishing clears the DNS wait. change: a day-two command over some stages; the answers are
	 * saved only once the change converged (done, or waiting for its records), a failure puts back
	 * every file the run wrote, and the setup's pending DNS wait and finish time stay as they were.
	 */
	readonly scope?: 'setup' | 'change';
};

export type Outcome = 'done' | 'waiting' | 'failed' | 'interrupted' | 'quit';

class Interrupted extends Error {}

class ActionFailure extends Error {
	constructor(
		message: string,
		readonly command?: string,
		readonly exitCode?: number,
		readonly tail?: string,
		readonly hint?: string,
	) {
		super(message);
	}
}

function tailOf(text: string, n = 15): string {
	return text.trim().split('\n').slice(-n).join('\n');
}

/** The command's own error line (apt's "E: …", dpkg's "dpkg: error …", "error: …"): the first, the most specific. */
export function ownError(text: string): string | undefined {
	const lines = text.split('\n').map((l) => printable(l).trim());
	return lines.find((l) => /^(E|error|fatal): \S|^dpkg: error/i.test(l));
}

/** Applies every step in order. The return value is the outcome; the events say the rest. */
export async function* apply(o: ApplyOptions): AsyncGenerator<Event, Outcome> {
	const stamp = new Date().toISOString().replace(/[:.]/g, '-');
	const change = o.scope === 'change';
	const saveAnswers = () =>
		o.state.update((d) => {
			d.answers = publicAnswers(o.answers);
		});
	if (!change) saveAnswers();
	// A change is one unit: its undo spans all its stages; the setup's is per stage (progress kept).
	const runUndo: Undo | undefined = change ? {written: [], touched: [], waited: false} : undefined;
	let changedTotal = 0;
	for (const [index, step] of o.steps.entries()) {
		if (o.signal?.aborted) return 'interrupted';
		yield {type: 'step', id: step.id, title: step.title, index, total: o.steps.length};
		let plan: StepPlan;
		try {
			plan = await planStep(step, o.ctx, o.answers, o.steps);
		} catch (error) {
			const restored = runUndo ? await putBack(o.ctx, runUndo) : undefined;
			yield errorEvent(step.id, error, restored ? restoredHint(o.ctx, true, restored, stamp) : undefined);
			return 'failed';
		}
		yield {type: 'plan', id: step.id, actions: plan.actions};
		if (plan.changes > 0 && o.confirm) {
			const decision = await o.confirm(plan);
			if (decision === 'quit') return 'quit';
			if (decision === 'skip') continue;
		}
		const result = yield* applyStep(o, plan, stamp, runUndo);
		if (result === 'waiting' && change) saveAnswers();
		if (result !== 'done') return result;
		const changed = plan.changes;
		changedTotal += changed;
		o.state.update((d) => {
			d.steps[step.id] = {done: true, at: new Date().toISOString(), changed};
		});
		yield {type: 'step-done', id: step.id, changed};
	}
	if (change) saveAnswers();
	o.state.update((d) => {
		if (!change) d.finishedAt = new Date().toISOString();
		// A change that waited for the records and saw them all has satisfied any pending wait; else it stays.
		if (!change || runUndo!.waited) delete d.wait;
	});
	yield {type: 'done', changed: changedTotal};
	return 'done';
}

/** Runs one step's actions; on a failure, puts back the files it wrote and restarts its services on them. */
async function* applyStep(o: ApplyOptions, plan: StepPlan, stamp: string, runUndo?: Undo): AsyncGenerator<Event, Outcome> {
	const {step} = plan;
	const undo: Undo = runUndo ?? {written: [], touched: [], waited: false};
	try {
		for (const a of plan.actions) {
			if (o.signal?.aborted) return 'interrupted';
			if (a.kind === 'notice') {
				yield {type: 'notice', id: step.id, notice: a};
				continue;
			}
			if (a.kind === 'wait') {
				// A change whose check fails puts its files back, as a failed action does.
				const rollback =
					o.scope === 'change'
						? async () => {
								const restored = await putBack(o.ctx, undo);
								return restored ? restoredHint(o.ctx, true, restored, stamp) : undefined;
							}
						: undefined;
				const outcome = yield* waitFor(o, step.id, a.records, rollback);
				if (outcome !== 'done') return outcome;
				undo.waited = true;
				continue;
			}
			yield {type: 'action', id: step.id, action: a, status: 'start'};
			yield* runAction(o, step, a, stamp, undo);
			yield {type: 'action', id: step.id, action: a, status: 'done'};
		}
		return 'done';
	} catch (error) {
		if (error instanceof Interrupted) return 'interrupted';
		const restored = await putBack(o.ctx, undo);
		yield errorEvent(step.id, error, restored ? restoredHint(o.ctx, o.scope === 'change', restored, stamp) : o.scope === 'change' ? 'Nothing was changed and the change was not saved.' : undefined);
		return 'failed';
	}
}

type Change = Exclude<Resolved, {kind: 'notice'} | {kind: 'wait'}>;

/** One action that changes the system; throws ActionFailure (or Interrupted). */
async function* runAction(o: ApplyOptions, step: Step<any>, a: Change, stamp: string, undo: Undo): AsyncGenerator<Event, void> {
	const {ctx} = o;
	const ignore = () => undefined;
	if (a.kind === 'file') {
		const backup = await writeFileAction(ctx.root, ctx.exec, a, stamp).catch((error: unknown) => {
			if (error instanceof FileError) throw new ActionFailure(error.message, error.command, error.exitCode, error.tail);
			throw error;
		});
		undo.written.push({path: a.path, backup, onChange: a.onChange});
		for (const cmd of a.onChange ?? []) await runOrFail(ctx, cmd, ignore, undefined, o.signal);
	} else if (a.kind === 'dir') {
		await ensureDir(ctx.root, a.path, a.mode, a.owner, a.group);
	} else if (a.kind === 'run') {
		yield* streamRun(o, step.id, a.cmd);
	} else {
		const exe = exeOf(step, a.name);
		const ready = a.op === 'stop' ? undefined : readyCmd(step, a.name);
		// A daemon stopped on purpose stays stopped; one (re)started on the new files comes back on the old.
		if (a.op !== 'stop') undo.touched.push({name: a.name, exe, checks: [...(ready ? [ready] : []), ...(a.verify ?? [])]});
		await serviceOp(o, a, exe, ready);
	}
}

/** Runs a command, its output streamed to the UI line by line while it runs. */
async function* streamRun(o: ApplyOptions, id: string, cmd: Cmd): AsyncGenerator<Event, void> {
	const pending: string[] = [];
	let wake: (() => void) | undefined;
	let finished = false;
	let failure: unknown;
	const onLine = (line: string) => {
		pending.push(line);
		wake?.();
	};
	const run = runOrFail(o.ctx, cmd, onLine, undefined, o.signal)
		.catch((error: unknown) => {
			failure = error;
		})
		.finally(() => {
			finished = true;
			wake?.();
		});
	while (!finished || pending.length > 0) {
		if (pending.length === 0) await new Promise<void>((r) => (wake = r));
		wake = undefined;
		while (pending.length > 0) yield {type: 'output', id, line: pending.shift()!};
	}
	await run;
	if (failure) throw failure;
}

/** Starts, restarts or reloads a service, then runs its checks; a failure says where its log is. */
async function serviceOp(o: ApplyOptions, a: Change & {kind: 'service'}, exe: string | undefined, ready: Cmd | undefined): Promise<void> {
	const {ctx} = o;
	const ignore = () => undefined;
	const log = ctx.profile.init === 'systemd' ? `journalctl -u ${a.name}` : 'the system log (/var/log/syslog or /var/log/mail.log)';
	try {
		await runOrFail(ctx, serviceCmd(ctx.profile.init, a.name, a.op, exe), ignore, `${a.name} did not ${a.op}`, o.signal);
		if (ready) await runOrFail(ctx, ready, ignore, `${a.name} ${a.op}ed, but does not answer after ${READY_SECONDS} s`, o.signal);
		for (const v of a.verify ?? []) await runOrFail(ctx, v, ignore, `${a.name} ${a.op}ed, but the check after it failed`, o.signal);
	} catch (error) {
		if (!(error instanceof ActionFailure)) throw error;
		const own = await daemonLog(ctx, a.name, exe);
		const why = [...own].reverse().find((l) => SAYS_WHY.test(l)) ?? own.at(-1);
		const message = why ? `${error.message}: ${why.slice(0, 300)}` : error.message;
		const tail = own.length ? `${error.tail ?? ''}\n${a.name}'s log:\n${own.join('\n')}`.trim() : error.tail;
		throw new ActionFailure(message, error.command, error.exitCode, tail, `Why ${a.name} failed is in ${log}.`);
	}
}

/** A log line that gives a reason (the last one wins: "bind: Address already in use", not the "Exiting" after it). */
const SAYS_WHY = /\b(fatal|error|failed|cannot|can't|unable|denied|refused|in use|no such|not found|invalid|permission)\b/i;

/** The daemon's own last log lines (printable), or none. */
async function daemonLog(ctx: Ctx, name: string, exe: string | undefined): Promise<string[]> {
	const r = await ctx.exec.run(daemonLogCmd(ctx.profile.init, name, exe)).catch(() => undefined);
	return (r?.stdout ?? '')
		.split('\n')
		.map((l) => printable(l).trim())
		.filter(Boolean);
}

async function runOrFail(ctx: Ctx, cmd: Cmd, onLine: (line: string) => void, what?: string, signal?: AbortSignal): Promise<void> {
	const r = await ctx.exec.run(cmd, onLine, signal);
	if (signal?.aborted) throw new Interrupted();
	if (!(cmd.okCodes ?? [0]).includes(r.exitCode)) {
		const output = `${r.stdout}\n${r.stderr}`;
		const own = ownError(output);
		const message = what ?? `command failed with exit code ${r.exitCode}${own ? `: ${own}` : ''}`;
		throw new ActionFailure(message, showCmd(cmd), r.exitCode, tailOf(output), cmd.failHint);
	}
}

/** The DNS wait: dns/wait.ts polls; the state keeps when it began and the last round's count. */
async function* waitFor(o: ApplyOptions, id: string, records: readonly ExpectedRecord[], rollback?: () => Promise<string | undefined>): AsyncGenerator<Event, Outcome> {
	o.state.update((d) => {
		d.wait = {since: d.wait?.since ?? new Date().toISOString(), records};
	});
	let last: CheckReport | undefined;
	try {
		for await (const {report, nextPollIn} of pollRecords(records, o.checkDns, {intervalMs: o.pollMs ?? 30_000, signal: o.signal, once: o.wait === 'once'})) {
			last = report;
			const {ok, total} = counts(report);
			o.state.update((d) => {
				d.wait = {since: d.wait?.since ?? new Date().toISOString(), records, lastCheck: {at: new Date().toISOString(), ok, total}};
			});
			yield {type: 'wait', id, report, nextPollIn};
		}
	} catch (error) {
		yield errorEvent(id, error, await rollback?.());
		return 'failed';
	}
	if (last?.complete) return 'done';
	const {ok, total} = last ? counts(last) : {ok: 0, total: records.length};
	yield {type: 'waiting', id, pending: total - ok};
	return o.signal?.aborted ? 'interrupted' : 'waiting';
}

function counts(report: CheckReport): {ok: number; total: number} {
	const publishable = report.checks.filter((c) => c.record.publishable);
	return {ok: publishable.filter((c) => c.state === 'ok').length, total: publishable.length};
}

function errorEvent(id: string, error: unknown, extraHint?: string): Event {
	if (error instanceof ActionFailure)
		return {type: 'error', id, message: error.message, command: error.command, exitCode: error.exitCode, tail: error.tail, hint: [error.hint, extraHint].filter(Boolean).join(' ') || undefined};
	if (error instanceof StepError) return {type: 'error', id, message: error.message, hint: error.hint};
	return {type: 'error', id, message: error instanceof Error ? error.message : String(error), hint: extraHint};
}

export type {Resolved};
