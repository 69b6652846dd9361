// What this server cannot fix itself, as rows: reverse DNS, blocklists, outbound port 25.
// The findings come from platform/reputation.ts; a list that refuses or does not answer is
// unknown (no verdict), never ok; a DNS failure is named as one.
import {checkDnsbl, checkPtr, probePort25, resolverFor, type Finding} from '../platform/reputation.ts';
import type {Row} from './row.ts';

const NO_VERDICT = /^(not usable from here|no verdict|the list refused)/;

export function ptrRow(ip: string, f: Finding): Row {
	const id = `ptr:${ip}`;
	if (f.ok) return {id, area: 'reputation', status: 'ok', detail: f.detail};
	if (/lookup failed/.test(f.detail)) return {id, area: 'reputation', status: 'unknown', detail: `DNS failure: ${f.detail}`, fix: 'check the resolvers (--resolver)', who: 'admin'};
	return {id, area: 'reputation', status: 'fail', detail: `${f.what}: ${f.detail}`, fix: f.fix, who: /^publish/.test(f.fix ?? '') ? 'dns' : 'provider'};
}

export function dnsblRow(ip: string, zone: string, f: Finding): Row {
	const id = `dnsbl:${zone}:${ip}`;
	if (!f.ok) return {id, area: 'reputation', status: 'fail', detail: f.detail, fix: f.fix, who: 'list'};
	if (NO_VERDICT.test(f.detail)) return {id, area: 'reputation', status: 'unknown', detail: f.detail, fix: `ask ${zone} from another network, or leave it out (--dnsbl)`, who: 'admin'};
	return {id, area: 'reputation', status: 'ok', detail: f.detail};
}

export function port25Row(f: Finding): Row {
	if (f.ok) return {id: 'port25-out', area: 'reputation', status: 'ok', detail: `${f.what}: ${f.detail}`};
	return {id: 'port25-out', area: 'reputation', status: 'fail', detail: `${f.what}: ${f.detail}`, fix: f.fix ?? 'check the probe target (--probe)', who: 'provider'};
}

export type OutsideTargets = {readonly hostname: string; readonly ips: readonly string[]; readonly dnsbls: readonly string[]; readonly probe?: string};

export async function outsideRows(resolvers: readonly string[], t: OutsideTargets, timeoutMs = 2000): Promise<Row[]> {
	const r = resolverFor(resolvers, timeoutMs, 1);
	const probe = t.probe ? /^(.*?)(?::(\d+))?$/.exec(t.probe) : null;
	return Promise.all([
		...t.ips.map(async (ip) => ptrRow(ip, await checkPtr(r, ip, t.hostname))),
		...t.ips.flatMap((ip) => t.dnsbls.map(async (zone) => dnsblRow(ip, zone, await checkDnsbl(r, ip, zone)))),
		...(probe ? [probePort25(probe[1]!, Number(probe[2] ?? 25), 5000).then(port25Row)] : []),
	]);
}
