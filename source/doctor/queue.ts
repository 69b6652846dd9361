// Queue rows: what OpenSMTPD has not delivered. `smtpctl show queue` prints one envelope a
// line: id|src|agent|flags|sender|rcpt|dest|creation|expiry|lasttry|retry|runstate|n|error.
import type {Ctx} from '../engine/types.ts';
import {printable} from '../text/safe.ts';
import type {Row} from './row.ts';

export type Envelope = {readonly id: string; readonly dest: string; readonly created: number; readonly retries: number; readonly error: string};

export function parseQueue(text: string): Envelope[] {
	return text
		.split('\n')
		.map((l) => l.split('|'))
		.filter((f) => f.length >= 13 && /^[0-9a-f]{16}$/.test(f[0]!))
		.map((f) => ({id: f[0]!, dest: (f[6]!.split('@').pop() ?? '').toLowerCase(), created: Number(f[7]), retries: Number(f[10]), error: printable(f.slice(13).join('|').trim())}));
}

const HOUR = 3600;

/** One row for the queue, one per destination with mail older than an hour or deferred. */
export function queueRows(envelopes: readonly Envelope[], now = Date.now() / 1000): Row[] {
	const stuck = envelopes.filter((e) => e.retries > 0 || now - e.created > HOUR);
	const byDest = new Map<string, Envelope[]>();
	for (const e of stuck) byDest.set(e.dest, [...(byDest.get(e.dest) ?? []), e]);
	const rows: Row[] = [...byDest].sort().map(([dest, list]) => {
		const oldest = Math.max(...list.map((e) => now - e.created));
		const last = list.find((e) => e.error)?.error;
		return {
			id: `queue:${dest}`,
			area: 'queue',
			status: oldest > 24 * HOUR ? 'fail' : 'warn',
			detail: `${list.length} message(s) to ${dest} not delivered, oldest ${Math.floor(oldest / HOUR)} h, ${list.filter((e) => e.retries > 0).length} deferred${last ? `; last error: ${last}` : ''}`,
			fix: `read the error; smtpctl show queue lists them, smtpctl schedule all retries now`,
			who: 'admin',
		};
	});
	const head: Row = {id: 'queue', area: 'queue', status: 'ok', detail: `${envelopes.length} message(s) queued, ${stuck.length} older than an hour or deferred`};
	return [head, ...rows];
}

export async function smtpdQueueRows(ctx: Pick<Ctx, 'exec'>): Promise<Row[]> {
	const r = await ctx.exec.run({argv: ['smtpctl', 'show', 'queue']});
	if (r.exitCode !== 0)
		return [
			{
				id: 'queue',
				area: 'queue',
				status: 'unknown',
				detail: `smtpctl show queue: ${printable((r.stderr || r.stdout).trim().split('\n')[0] ?? `exit ${r.exitCode}`)}`,
				fix: 'run check as root with OpenSMTPD running',
				who: 'admin',
			},
		];
	return queueRows(parseQueue(r.stdout));
}
