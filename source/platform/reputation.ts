// What the operator cannot fix from this server, told plainly: reverse DNS (PTR),
// outbound port 25, and blocklists. Every target is configurable (tests use the lab).
import {Resolver} from 'node:dns/promises';
import {connect} from 'node:net';
import {printable} from '../text/safe.ts';

export function resolverFor(servers: readonly string[], timeoutMs = 2000, tries = 2): Resolver {
	const r = new Resolver({timeout: timeoutMs, tries});
	if (servers.length) r.setServers(servers.map((s) => s));
	return r;
}

/** ok: not a problem; unknown: could not be checked (said as such, never as "ok"). */
export type Finding = {readonly ok: boolean; readonly unknown?: boolean; readonly what: string; readonly detail: string; readonly fix?: string};

/** The word printed in front of a finding. */
export function findingLabel(f: Finding): 'ok' | 'unknown' | 'PROBLEM' {
	if (f.unknown) return 'unknown';
	return f.ok ? 'ok' : 'PROBLEM';
}

export async function checkPtr(r: Resolver, ip: string, hostname: string): Promise<Finding> {
	let names: string[] = [];
	try {
		// resolvePtr, not reverse(): reverse() says ENOTFOUND even when no DNS server answers.
		const arpa = ip.includes(':') ? `${reversed(ip)}.ip6.arpa` : `${reversed(ip)}.in-addr.arpa`;
		names = (await r.resolvePtr(arpa)).map((n) => printable(n.toLowerCase().replace(/\.$/, '')));
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		return {
			ok: false,
			what: `reverse DNS of ${ip}`,
			detail: code === 'ENOTFOUND' || code === 'ENODATA' ? 'no PTR record' : `lookup failed (${code}): no DNS server answered`,
			fix: `ask the provider of ${ip} to set its reverse DNS (PTR) to ${hostname}. Many servers refuse mail from an address without it.`,
		};
	}
	if (!names.includes(hostname))
		return {ok: false, what: `reverse DNS of ${ip}`, detail: `points at ${names.join(', ')}, not ${hostname}`, fix: `ask the provider of ${ip} to change its PTR to ${hostname}`};
	let forward: string[] = [];
	try {
		forward = ip.includes(':') ? await r.resolve6(hostname) : await r.resolve4(hostname);
	} catch {}
	if (!forward.includes(ip))
		return {
			ok: false,
			what: `forward-confirmed reverse DNS of ${ip}`,
			detail: `${hostname} does not resolve back to ${ip} (${forward.join(', ') || 'no address'})`,
			fix: `publish ${hostname} ${ip.includes(':') ? 'AAAA' : 'A'} ${ip}`,
		};
	return {ok: true, what: `reverse DNS of ${ip}`, detail: `${hostname}, and ${hostname} resolves back to ${ip}`};
}

function reversed(ip: string): string {
	if (!ip.includes(':')) return ip.split('.').reverse().join('.');
	const full = ip.split('::');
	const head = full[0] ? full[0].split(':') : [];
	const tail = full[1] ? full[1].split(':') : [];
	const groups = [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail].map((g) => g.padStart(4, '0'));
	return groups.join('').split('').reverse().join('.');
}

/** Queries a DNSBL: the test entry first (127.0.0.2 must be listed), then the address. */
export async function checkDnsbl(r: Resolver, ip: string, zone: string): Promise<Finding> {
	const what = `${zone} for ${ip}`;
	try {
		const test = await r.resolve4(`2.0.0.127.${zone}`);
		if (test.some((a) => a.startsWith('127.255.255.')))
			return {ok: true, unknown: true, what, detail: `not usable from here: the list refused the query (${test.join(', ')}); public resolvers are often refused — check from another network`};
		if (!test.some((a) => a.startsWith('127.'))) return {ok: true, unknown: true, what, detail: 'not usable from here: its test entry is not listed'};
	} catch {
		return {ok: true, unknown: true, what, detail: 'not usable from here: its test entry does not answer'};
	}
	try {
		const answer = await r.resolve4(`${reversed(ip)}.${zone}`);
		if (answer.some((a) => a.startsWith('127.255.255.'))) return {ok: true, unknown: true, what, detail: `the list refused the query (${answer.join(', ')}): no verdict`};
		let reason = '';
		try {
			// The list's words, shown on the terminal: control characters made visible.
			reason = printable((await r.resolveTxt(`${reversed(ip)}.${zone}`)).map((t) => t.join('')).join(' '));
		} catch {}
		return {
			ok: false,
			what,
			detail: `LISTED (${answer.join(', ')})${reason ? `: ${reason}` : ''}`,
			fix: `request removal at the list's web site; mail from ${ip} is refused by servers that use ${zone}`,
		};
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOTFOUND' || code === 'ENODATA') return {ok: true, what, detail: 'not listed'};
		return {ok: true, unknown: true, what, detail: `no verdict (${code})`};
	}
}

/** Outbound port 25: many providers block it. Reads the remote banner. */
export function probePort25(host: string, port = 25, timeoutMs = 5000): Promise<Finding> {
	const what = `outbound SMTP to ${host}:${port}`;
	return new Promise((resolve) => {
		const socket = connect({host, port});
		let banner = '';
		const done = (f: Finding) => {
			socket.destroy();
			resolve(f);
		};
		socket.setTimeout(timeoutMs, () =>
			done({
				ok: false,
				what,
				detail: `no answer in ${timeoutMs / 1000} s`,
				fix: 'your provider probably blocks outbound port 25: ask them to open it (often a form in their panel), or relay through a smarthost',
			}),
		);
		socket.on('data', (d) => {
			banner += d.toString();
			if (banner.includes('\n')) done({ok: /^220/.test(banner), what, detail: `banner: ${printable(banner.split('\n')[0]!.trim())}`});
		});
		socket.on('error', (e: NodeJS.ErrnoException) => done(connectError(what, host, e)));
	});
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ENODATA', 'ESERVFAIL']);

/** A name that cannot be looked up says nothing about port 25: the real cause is told. */
export function connectError(what: string, host: string, e: NodeJS.ErrnoException): Finding {
	const code = e.code ?? e.message;
	if (DNS_CODES.has(code))
		return {
			ok: false,
			unknown: true,
			what,
			detail: `not checked: the name ${host} could not be looked up (${code})`,
			fix: 'this server cannot resolve host names: check /etc/resolv.conf and that its DNS servers answer; outbound mail needs them too',
		};
	if (code === 'ECONNREFUSED') return {ok: false, what, detail: `${code}: ${host} refused the connection`};
	return {ok: false, what, detail: code, fix: "check the network and your provider's port 25 policy"};
}

export const DEFAULT_DNSBLS = ['zen.spamhaus.org', 'bl.spamcop.net', 'b.barracudacentral.org'] as const;
export const DEFAULT_PROBE = 'gmail-smtp-in.l.google.com:25';

/**
 * Everything this server cannot fix itself, checked in parallel: the PTR of each address,
 * each blocklist for each address, outbound port 25 (PROBE "host:port"; undefined skips it).
 */
export async function outsideFindings(
	resolvers: readonly string[],
	target: {readonly hostname: string; readonly ips: readonly string[]},
	checks: {readonly dnsbls: readonly string[]; readonly probe?: string; readonly probeTimeoutMs?: number; readonly dnsTimeoutMs?: number},
): Promise<Finding[]> {
	// Bounded: at most two questions one after the other per check, each given dnsTimeoutMs once.
	const resolver = checks.dnsTimeoutMs ? resolverFor(resolvers, checks.dnsTimeoutMs, 1) : resolverFor(resolvers);
	const probe = checks.probe ? /^(.*?)(?::(\d+))?$/.exec(checks.probe) : null;
	return Promise.all([
		...target.ips.map((ip) => checkPtr(resolver, ip, target.hostname)),
		...target.ips.flatMap((ip) => checks.dnsbls.map((zone) => checkDnsbl(resolver, ip, zone))),
		...(probe ? [probePort25(probe[1]!, Number(probe[2] ?? 25), checks.probeTimeoutMs)] : []),
	]);
}

/**
 * The checks of a real run (preflight and finish), bounded (about 3 s when nothing answers)
 * so that a re-run with nothing to do still ends in seconds. undefined: a dry run, or no checks.
 */
export function runFindings(
	ctx: {readonly readOnly: boolean; readonly resolvers: readonly string[]; readonly reputation?: {readonly dnsbls: readonly string[]; readonly probe?: string}},
	a: {readonly hostname: string; readonly ipv4?: string; readonly ipv6?: string},
): Promise<Finding[]> | undefined {
	if (ctx.readOnly || !ctx.reputation) return undefined;
	const ips = [a.ipv4, a.ipv6].filter((x): x is string => Boolean(x));
	return outsideFindings(ctx.resolvers, {hostname: a.hostname, ips}, {...ctx.reputation, probeTimeoutMs: 3000, dnsTimeoutMs: 1500});
}

/** Each problem and, under it, who can fix it and how: what the operator reads. */
export function problemLines(findings: readonly Finding[]): string[] {
	return findings.filter((f) => !f.ok).flatMap((f) => [`${f.what}: ${f.detail}`, ...(f.fix ? [`  -> ${f.fix}`] : [])]);
}

/** The --dnsbl and --probe options as checks ("none" turns either off). */
export function reputationOptions(o: {readonly dnsbls?: readonly string[]; readonly probe?: string}): {dnsbls: readonly string[]; probe?: string} {
	return {dnsbls: o.dnsbls ?? DEFAULT_DNSBLS, probe: o.probe === 'none' ? undefined : (o.probe ?? DEFAULT_PROBE)};
}
