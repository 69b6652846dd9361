// The only code that changes the system. An async generator of events: the plain
// reporter, the JSON reporter and the Ink screens all render the same stream.
import type {Answers} from '../answers.ts';
import {publicAnswers} from '../answers.ts';
import type {CheckReport, ExpectedRecord} from '../dns/types.ts';
import {showCmd} from './exec.ts';
import {ensureDir, FileError, restore, writeFileAction} from './files.ts';
import {planStep, type Resolved, type StepPlan} from './plan.ts';
import {serviceCmd} from './services.ts';
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

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		const t = setTimeout(resolve, ms);
		signal?.addEventListener('abort', () => {
			clearTimeout(t);
			resolve();
		});
	});
}

/** Applies every step in order. The return value is the outcome; the events say the rest. */
export async function* apply(o: ApplyOptions): AsyncGenerator<Event, Outcome> {
	const {ctx, state} = o;
	const stamp = new Date().toISOString().replace(/[:.]/g, '-');
	state.update((d) => {
		d.answers = publicAnswers(o.answers);
	});
	let changedTotal = 0;
	for (const [index, step] of o.steps.entries()) {
		if (o.signal?.aborted) return 'interrupted';
		yield {type: 'step', id: step.id, title: step.title, index, total: o.steps.length};
		let plan: StepPlan;
		try {
			plan = await planStep(step, ctx, o.answers);
		} catch (error) {
			yield errorEvent(step.id, error);
			return 'failed';
		}
		yield {type: 'plan', id: step.id, actions: plan.actions};
		if (plan.changes > 0 && o.confirm) {
			const decision = await o.confirm(plan);
			if (decision === 'quit') return 'quit';
			if (decision === 'skip') continue;
		}
		const written: Array<{path: string; backup?: string}> = [];
		const touched: string[] = [];
		let changed = 0;
		try {
			for (const a of plan.actions) {
				if (o.signal?.aborted) return 'interrupted';
				if (a.kind === 'notice') {
					yield {type: 'notice', id: step.id, notice: a};
					continue;
				}
				if (a.kind === 'wait') {
					const outcome = yield* waitFor(o, step.id, a.records);
					if (outcome !== 'done') return outcome;
					continue;
				}
				yield {type: 'action', id: step.id, action: a, status: 'start'};
				const lines: string[] = [];
				const onLine = (line: string) => {
					lines.push(line);
				};
				if (a.kind === 'file') {
					const backup = await writeFileAction(ctx.root, ctx.exec, a, stamp).catch((error: unknown) => {
						if (error instanceof FileError) throw new ActionFailure(error.message, error.command, error.exitCode, error.tail);
						throw error;
					});
					written.push({path: a.path, backup});
					for (const cmd of a.onChange ?? []) await runOrFail(ctx, cmd, onLine, undefined, o.signal);
				} else if (a.kind === 'dir') {
					await ensureDir(ctx.root, a.path, a.mode, a.owner, a.group);
				} else if (a.kind === 'run') {
					// Output is streamed to the UI line by line while the command runs.
					const pending: string[] = [];
					let wake: (() => void) | undefined;
					let finished = false;
					let failure: unknown;
					const run = runOrFail(
						ctx,
						a.cmd,
						(line) => {
							lines.push(line);
							pending.push(line);
							wake?.();
						},
						undefined,
						o.signal,
					)
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
						while (pending.length > 0) yield {type: 'output', id: step.id, line: pending.shift()!};
					}
					await run;
					if (failure) throw failure;
				} else if (a.kind === 'service') {
					const cmd = serviceCmd(ctx.profile.init, a.name, a.op);
					touched.push(a.name);
					const log = ctx.profile.init === 'systemd' ? `journalctl -u ${a.name}` : 'the system log (/var/log/syslog or /var/log/mail.log)';
					try {
						await runOrFail(ctx, cmd, onLine, `${a.name} did not ${a.op}`, o.signal);
						for (const v of a.verify ?? []) await runOrFail(ctx, v, onLine, `${a.name} ${a.op}ed, but the check after it failed`, o.signal);
					} catch (error) {
						if (error instanceof ActionFailure) throw new ActionFailure(error.message, error.command, error.exitCode, error.tail, `Why ${a.name} failed is in ${log}.`);
						throw error;
					}
				}
				changed++;
				yield {type: 'action', id: step.id, action: a, status: 'done'};
			}
		} catch (error) {
			if (error instanceof Interrupted) return 'interrupted';
			await restore(ctx.root, written).catch(() => undefined);
			// A service restarted on the new files goes back to the restored ones.
			if (written.length > 0) for (const name of touched) await ctx.exec.run(serviceCmd(ctx.profile.init, name, 'restart')).catch(() => undefined);
			yield errorEvent(
				step.id,
				error,
				written.length > 0
					? `The files this step wrote were restored${touched.length ? ` and ${touched.join(', ')} restarted on them` : ''} (backups under /var/backups/mailwizard/${stamp}). Progress is kept: fix the cause and run mailwizard again.`
					: undefined,
			);
			return 'failed';
		}
		changedTotal += changed;
		state.update((d) => {
			d.steps[step.id] = {done: true, inputHash: plan.inputHash, at: new Date().toISOString(), changed};
		});
		yield {type: 'step-done', id: step.id, changed};
	}
	state.update((d) => {
		d.finishedAt = new Date().toISOString();
		delete d.wait;
	});
	yield {type: 'done', changed: changedTotal};
	return 'done';
}

async function runOrFail(ctx: Ctx, cmd: Cmd, onLine: (line: string) => void, what?: string, signal?: AbortSignal): Promise<void> {
	const r = await ctx.exec.run(cmd, onLine, signal);
	if (signal?.aborted) throw new Interrupted();
	if (!(cmd.okCodes ?? [0]).includes(r.exitCode)) {
		throw new ActionFailure(what ?? `command failed with exit code ${r.exitCode}`, showCmd(cmd), r.exitCode, tailOf(`${r.stdout}\n${r.stderr}`));
	}
}

async function* waitFor(o: ApplyOptions, id: string, records: readonly ExpectedRecord[]): AsyncGenerator<Event, Outcome> {
	const pollMs = o.pollMs ?? 30_000;
	o.state.update((d) => {
		d.wait = {since: d.wait?.since ?? new Date().toISOString(), records};
	});
	for (;;) {
		let report: CheckReport;
		try {
			report = await o.checkDns(records, o.signal);
		} catch (error) {
			yield errorEvent(id, error);
			return 'failed';
		}
		const total = report.checks.filter((c) => c.record.publishable).length;
		const ok = report.checks.filter((c) => c.record.publishable && c.state === 'ok').length;
		o.state.update((d) => {
			d.wait = {since: d.wait?.since ?? new Date().toISOString(), records, lastCheck: {at: new Date().toISOString(), ok, total}};
		});
		const again = report.complete || o.wait === 'once' ? 0 : pollMs;
		yield {type: 'wait', id, report, nextPollIn: again};
		if (report.complete) return 'done';
		if (o.wait === 'once') {
			yield {type: 'waiting', id, pending: total - ok};
			return 'waiting';
		}
		await sleep(pollMs, o.signal);
		if (o.signal?.aborted) {
			yield {type: 'waiting', id, pending: total - ok};
			return 'interrupted';
		}
	}
}

function errorEvent(id: string, error: unknown, extraHint?: string): Event {
	if (error instanceof ActionFailure)
		return {type: 'error', id, message: error.message, command: error.command, exitCode: error.exitCode, tail: error.tail, hint: [error.hint, extraHint].filter(Boolean).join(' ') || undefined};
	if (error instanceof StepError) return {type: 'error', id, message: error.message, hint: error.hint};
	return {type: 'error', id, message: error instanceof Error ? error.message : String(error), hint: extraHint};
}

export type {Resolved};
