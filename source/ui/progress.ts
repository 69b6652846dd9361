// The running screen's model: apply()'s events folded into what is on screen.
// Pure, so the screen's rules are tested without a terminal.
import type {CheckReport, ExpectedRecord} from '../dns/types.ts';
import {showCmd} from '../engine/exec.ts';
import type {Action, Event, NoticeAction} from '../engine/types.ts';
import type {StageState} from './StepList.tsx';
import type {Tone} from './theme.ts';

/** A finished line for <Static>: printed once, never re-rendered. */
export type LogItem = {
	readonly key: number;
	readonly text: string;
	readonly tone?: Tone;
	readonly bold?: boolean;
	/** Wrapped under this indent instead of cut at the edge (the finish summary: client settings must be read whole). */
	readonly indent?: number;
};

export type Current = {readonly label: string; readonly startedAt: number; readonly kind: Action['kind']};

export type ErrorEvent = Extract<Event, {type: 'error'}>;

export type Progress = {
	readonly log: readonly LogItem[];
	/** Records notices, printed raw (long TXT values stay one line for copying). */
	readonly records: ReadonlyArray<{readonly title: string; readonly records: readonly ExpectedRecord[]}>;
	readonly step?: {readonly id: string; readonly title: string; readonly index: number; readonly total: number};
	readonly current?: Current;
	/** The last lines of the running command's output. */
	readonly output: readonly string[];
	readonly wait?: {readonly report: CheckReport; readonly nextPollAt: number};
	readonly waitingPending?: number;
	readonly error?: ErrorEvent;
	readonly summary?: NoticeAction;
	readonly done?: {readonly changed: number};
	/** This run saw the DNS wait through: every record on every authoritative server. */
	readonly waitPassed?: boolean;
	readonly stages: Readonly<Record<string, StageState>>;
};

export const OUTPUT_LINES = 6;

export function initialProgress(stages: Readonly<Record<string, StageState>> = {}): Progress {
	return {log: [], records: [], output: [], stages};
}

export function actionLabel(a: Action): string {
	switch (a.kind) {
		case 'run':
			return `$ ${showCmd(a.cmd)}`;
		case 'file':
			return `write ${a.path}`;
		case 'dir':
			return `directory ${a.path}`;
		case 'service':
			return `${a.op} ${a.name}`;
		case 'notice':
			return a.title;
		case 'wait':
			return `wait for ${a.records.length} DNS records`;
	}
}

function push(p: Progress, ...items: Array<Omit<LogItem, 'key'>>): readonly LogItem[] {
	return [...p.log, ...items.map((it, i) => ({...it, key: p.log.length + i}))];
}

export function reduce(p: Progress, e: Event, now: number): Progress {
	switch (e.type) {
		case 'step':
			return {
				...p,
				step: {id: e.id, title: e.title, index: e.index, total: e.total},
				current: undefined,
				output: [],
				log: push(p, {text: `[${e.index + 1}/${e.total}] ${e.title}`, bold: true}),
				stages: {...p.stages, [e.id]: 'running'},
			};
		case 'plan': {
			const changes = e.actions.filter((a) => a.kind !== 'notice' && a.kind !== 'wait').length;
			if (changes === 0 && !e.actions.some((a) => a.kind === 'wait' || a.kind === 'notice')) return {...p, log: push(p, {text: '  nothing to change', tone: 'dim'})};
			return p;
		}
		case 'action':
			if (e.status === 'start') return {...p, current: {label: actionLabel(e.action), startedAt: now, kind: e.action.kind}, output: []};
			return {...p, current: undefined, output: [], log: push(p, {text: `  ${e.status === 'done' ? '✓' : '✗'} ${actionLabel(e.action)}`, tone: e.status === 'done' ? 'ok' : 'bad'})};
		case 'output':
			return {...p, output: [...p.output, e.line].slice(-OUTPUT_LINES)};
		case 'notice': {
			const n = e.notice;
			if (n.level === 'records' && n.records) return {...p, records: [...p.records, {title: n.title, records: n.records}]};
			if (n.level === 'summary')
				return {...p, summary: n, log: push(p, {text: ''}, {text: n.title, bold: true, tone: 'ok'}, ...n.lines.map((l) => ({text: l.trimStart(), indent: 2 + l.length - l.trimStart().length})))};
			const warn = n.level === 'warn';
			return {
				...p,
				// Wrapped, never cut: a warning and what to do about it must be read whole.
				log: push(
					p,
					{text: `  ${warn ? '! ' : ''}${n.title}`, tone: warn ? 'warn' : undefined},
					...n.lines.map((l) => ({text: l.trimStart(), indent: 4 + l.length - l.trimStart().length, tone: warn ? ('warn' as const) : ('dim' as const)})),
				),
			};
		}
		case 'wait':
			return {...p, wait: {report: e.report, nextPollAt: now + e.nextPollIn}, stages: {...p.stages, [e.id]: 'waiting'}};
		case 'waiting':
			return {...p, waitingPending: e.pending};
		case 'step-done': {
			// The wait panel goes away with its stage: a line in the log says how it ended.
			const passed = p.step?.id === e.id && p.wait?.report.complete ? p.wait.report : undefined;
			const n = passed?.checks.filter((c) => c.record.publishable).length ?? 0;
			const log = passed
				? push(p, {text: `  ✓ DNS: all ${n} records on every authoritative server of ${passed.zone} (${passed.servers.length} server${passed.servers.length === 1 ? '' : 's'})`, tone: 'ok'})
				: p.log;
			const q = {...p, log};
			return {
				...q,
				waitPassed: p.waitPassed || passed !== undefined,
				wait: p.step?.id === e.id ? undefined : p.wait,
				current: undefined,
				output: [],
				stages: {...p.stages, [e.id]: 'done'},
				log: e.changed > 0 ? push(q, {text: `  done: ${e.changed} change${e.changed === 1 ? '' : 's'}`, tone: 'ok'}) : q.log,
			};
		}
		case 'done':
			return {...p, done: {changed: e.changed}, current: undefined};
		case 'error':
			return {...p, error: e, current: undefined, stages: {...p.stages, [e.id]: 'failed'}};
	}
}

/** A stage the operator chose to skip at the plan review. */
export function skipped(p: Progress, id: string): Progress {
	return {...p, stages: {...p.stages, [id]: 'skipped'}, log: push(p, {text: '  skipped (nothing was changed; it is offered again on the next run)', tone: 'warn'})};
}

/** True for commands that may take minutes (package installs): they get a spinner and a clock. */
export function isLong(label: string): boolean {
	return /\b(apt-get|apt|dpkg|rspamadm|openssl|doveadm)\b/.test(label);
}

export function elapsed(ms: number): string {
	const s = Math.floor(ms / 1000);
	return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
