// check --notify: mail postmaster only when a row changes state since the last run (the last
// statuses are kept in the state directory), with each changed row, its fix, and what to run.
import {mkdir, readFile, writeFile, rename} from 'node:fs/promises';
import {dirname} from 'node:path';
import type {Exec} from '../engine/exec.ts';
import type {Row, Status} from './row.ts';

export type LastStatuses = Readonly<Record<string, Status>>;
export type Change = {readonly row: Row; readonly was: Status | 'new'};

/** Rows whose status differs from the last run's; the first run compares with "all ok". */
export function changes(last: LastStatuses | undefined, rows: readonly Row[]): Change[] {
	return rows.flatMap((row): Change[] => {
		const was = last ? (last[row.id] ?? 'new') : 'ok';
		if (was === row.status || (was === 'new' && row.status === 'ok')) return [];
		return [{row, was}];
	});
}

export function statuses(rows: readonly Row[]): LastStatuses {
	return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}

/** The whole message (headers and body) for sendmail -t. */
export function notifyMail(hostname: string, to: string, list: readonly Change[]): string {
	const bad = list.filter((c) => c.row.status !== 'ok').length;
	const subject = `mailwizard check on ${hostname}: ${list.length} check(s) changed${bad ? `, ${bad} need attention` : ', all back to ok'}`;
	const body = list.flatMap((c) => [
		`${c.row.id}: ${c.was} -> ${c.row.status}`,
		`  ${c.row.detail}`,
		...(c.row.fix && c.row.status !== 'ok' ? [`  fix: ${c.row.fix}${c.row.who ? ` (${c.row.who})` : ''}`] : []),
		'',
	]);
	return [`To: ${to}`, `Subject: ${subject}`, 'Auto-Submitted: auto-generated', 'Content-Type: text/plain; charset=utf-8', '', ...body, 'See every check: mailwizard check', ''].join('\n');
}

export async function readLast(file: string): Promise<LastStatuses | undefined> {
	try {
		return JSON.parse(await readFile(file, 'utf8')) as LastStatuses;
	} catch {
		return undefined;
	}
}

export async function saveLast(file: string, rows: readonly Row[]): Promise<void> {
	await mkdir(dirname(file), {recursive: true, mode: 0o700});
	await writeFile(`${file}.tmp`, `${JSON.stringify(statuses(rows), null, 2)}\n`, {mode: 0o600});
	await rename(`${file}.tmp`, file);
}

/** Mails the changes through the local sendmail (OpenSMTPD's); the statuses are saved only once it is sent. */
export async function notify(exec: Exec, file: string, hostname: string, to: string, rows: readonly Row[]): Promise<{sent: number; error?: string}> {
	const list = changes(await readLast(file), rows);
	if (list.length) {
		const r = await exec.run({argv: ['sendmail', '-t'], stdin: notifyMail(hostname, to, list)});
		if (r.exitCode !== 0) return {sent: 0, error: `sendmail: exit ${r.exitCode} ${r.stderr.trim()}`};
	}
	await saveLast(file, rows);
	return {sent: list.length};
}
