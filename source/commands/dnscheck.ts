// Checks records zone by zone (all zones and servers in parallel) and merges the reports.
import {checkRecords} from '../dns/check.ts';
import type {CheckReport, ExpectedRecord} from '../dns/types.ts';

export async function checkAllZones(records: readonly ExpectedRecord[], resolvers: readonly string[], authPort?: number): Promise<CheckReport> {
	const started = Date.now();
	const byZone = new Map<string, ExpectedRecord[]>();
	for (const r of records) byZone.set(r.zone, [...(byZone.get(r.zone) ?? []), r]);
	const reports = await Promise.all([...byZone.values()].map((rs) => checkRecords(rs, {resolvers, authPort})));
	if (reports.length === 1) return reports[0]!;
	return {
		zone: reports.map((r) => r.zone).join(', '),
		servers: [...new Set(reports.flatMap((r) => r.servers))],
		checks: reports.flatMap((r) => r.checks),
		complete: reports.every((r) => r.complete),
		negativeTtl: Math.max(0, ...reports.map((r) => r.negativeTtl ?? 0)),
		problems: reports.flatMap((r) => r.problems),
		durationMs: Date.now() - started,
	};
}
