// The doctor's row: one thing checked, its verdict, the one-line fix and who can apply it.
// The --json schema (documented in the README) is {version: 1, rows: Row[], summary}.
import {EXIT, type ExitCode} from '../exit.ts';

export type Status = 'ok' | 'warn' | 'fail' | 'unknown';
/** Who can fix it: this server's admin, the DNS zone's admin, the address's provider, a list's operator. */
export type Who = 'admin' | 'dns' | 'provider' | 'list';

export type Row = {
	/** Stable across runs: the scheduled run compares rows by id. */
	readonly id: string;
	readonly area: 'daemons' | 'ports' | 'tls' | 'dns' | 'reputation' | 'queue' | 'disk' | 'selftest';
	readonly status: Status;
	readonly detail: string;
	readonly fix?: string;
	readonly who?: Who;
};

export const JSON_VERSION = 1;

/** 0 all ok, 1 any fail, 3 only warn or unknown besides ok. */
export function rowsExit(rows: readonly Row[]): ExitCode {
	if (rows.some((r) => r.status === 'fail')) return EXIT.failed;
	return rows.some((r) => r.status !== 'ok') ? EXIT.warn : EXIT.ok;
}

export function summary(rows: readonly Row[]): Record<Status, number> {
	const s: Record<Status, number> = {ok: 0, warn: 0, fail: 0, unknown: 0};
	for (const r of rows) s[r.status]++;
	return s;
}

export function rowsJson(rows: readonly Row[]): string {
	return `${JSON.stringify({version: JSON_VERSION, rows, summary: summary(rows)}, null, 2)}\n`;
}

const LABEL: Record<Status, string> = {ok: 'ok', warn: 'WARN', fail: 'FAIL', unknown: 'UNKNOWN'};

/** The plain table: status, id, detail; under a row that is not ok, its fix and who can apply it. */
export function rowsTable(rows: readonly Row[]): string[] {
	const width = Math.max(0, ...rows.map((r) => r.id.length));
	const lines = rows.flatMap((r) => [
		`${LABEL[r.status].padEnd(7)} ${r.id.padEnd(width)}  ${r.detail}`,
		...(r.status !== 'ok' && r.fix ? [`${' '.repeat(8 + width)}  -> ${r.fix}${r.who ? ` (${r.who})` : ''}`] : []),
	]);
	const s = summary(rows);
	return [...lines, `${s.ok} ok, ${s.warn} warn, ${s.fail} fail, ${s.unknown} unknown`];
}

/** A check that throws or overruns its time becomes an unknown row instead of hanging or crashing check. */
export async function bounded(id: string, area: Row['area'], ms: number, run: () => Promise<Row[]>): Promise<Row[]> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<Row[]>((resolve) => {
		timer = setTimeout(() => resolve([{id, area, status: 'unknown', detail: `no result within ${ms / 1000} s`}]), ms);
	});
	try {
		return await Promise.race([run().catch((error: unknown) => [{id, area, status: 'unknown' as const, detail: `the check failed: ${(error as Error).message}`}]), late]);
	} finally {
		clearTimeout(timer);
	}
}
