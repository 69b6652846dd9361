// DNS rows: each record as every authoritative server serves it (the DNS wait's check).
// The DKIM row compares DNS with the key on disk, the key Rspamd signs with.
import {checkRecords} from '../dns/check.ts';
import type {CheckReport, ExpectedRecord, RecordCheck} from '../dns/types.ts';
import type {Row, Status} from './row.ts';

const STATUS: Record<RecordCheck['state'], Status> = {ok: 'ok', missing: 'fail', wrong: 'fail', unreachable: 'unknown'};

function recordRow(c: RecordCheck): Row {
	const r = c.record;
	const id = `dns:${r.kind}:${r.name}`;
	const bad = c.results.filter((s) => s.state !== 'ok');
	if (c.state === 'ok') return {id, area: 'dns', status: 'ok', detail: `${r.type} ${r.name} on ${c.results.length} authoritative server(s)${r.kind === 'dkim' ? ': the key Rspamd signs with' : ''}`};
	const what = bad.map((s) => `${s.server}: ${s.state}${s.detail ? ` (${s.detail})` : ''}`).join('; ');
	if (c.state === 'unreachable') return {id, area: 'dns', status: 'unknown', detail: `DNS failure, no verdict: ${what}`, fix: 'check that the authoritative servers answer from here', who: 'dns'};
	const fix = r.kind === 'dkim' ? `publish ${r.name} TXT with the key Rspamd signs with (mailwizard dns shows it)` : `publish ${r.type} ${r.name} as "mailwizard dns" shows`;
	return {id, area: 'dns', status: STATUS[c.state], detail: what, fix, who: 'dns'};
}

export function reportRows(report: CheckReport): Row[] {
	return [
		...report.checks.map(recordRow),
		...report.problems.map((p, i): Row => ({id: `dns:zone:${i + 1}`, area: 'dns', status: 'warn', detail: p, fix: "have the zone's servers agree", who: 'dns'})),
	];
}

/** records: the publishable ones; dkimKnown false when the key on disk could not be read. */
export async function dnsRows(records: readonly ExpectedRecord[], resolvers: readonly string[], dkimKnown: boolean, authPort?: number): Promise<Row[]> {
	const checked = dkimKnown ? records : records.filter((r) => r.kind !== 'dkim');
	const rows = reportRows(await checkRecords(checked, {resolvers, authPort}));
	if (!dkimKnown) rows.push({id: 'dns:dkim', area: 'dns', status: 'unknown', detail: 'the DKIM key Rspamd signs with cannot be read here', fix: 'run check as root on the server', who: 'admin'});
	return rows;
}
