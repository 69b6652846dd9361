// Address sanity: private, shared or documentation ranges get a warning, never a refusal.
import {BlockList} from 'node:net';
import type {Answers} from '../answers/types.ts';

const special = new BlockList();
for (const [net, bits] of [
	['10.0.0.0', 8],
	['172.16.0.0', 12],
	['192.168.0.0', 16],
	['100.64.0.0', 10],
	['127.0.0.0', 8],
	['169.254.0.0', 16],
	['192.0.2.0', 24],
	['198.51.100.0', 24],
	['203.0.113.0', 24],
	['198.18.0.0', 15],
] as const)
	special.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
	['fc00::', 7],
	['fe80::', 10],
	['2001:db8::', 32],
	['::1', 128],
] as const)
	special.addSubnet(net, bits, 'ipv6');

export function isSpecialAddress(ip: string): boolean {
	return special.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4');
}

/** Public IPv6 addresses among the interfaces' (not loopback, link-local, ULA or documentation). */
export function publicIpv6(interfaces: Readonly<Record<string, readonly {readonly address: string}[]>>): string[] {
	const all = Object.values(interfaces).flatMap((list) => list.map((i) => i.address));
	return [...new Set(all.filter((ip) => ip.includes(':') && !isSpecialAddress(ip)))];
}

/**
 * A server that holds a public IPv6 address nobody answered: OpenSMTPD may deliver from it,
 * and neither SPF ("mx" knows no AAAA) nor a PTR covers it — big receivers refuse such mail.
 */
export function unansweredIpv6(a: Answers, held: readonly string[]): string[] {
	if (a.ipv6 || held.length === 0) return [];
	return [
		`This server holds the public IPv6 address ${held.join(', ')}, but no ipv6 is answered: mail it sends may leave over IPv6, where SPF and reverse DNS do not cover it, and receivers such as Gmail refuse it. Answer "ipv6: ${held[0]}" (an AAAA record is then published) and set its PTR to ${a.hostname}.`,
	];
}

export function addressWarnings(a: Answers): string[] {
	const out: string[] = [];
	for (const ip of [a.ipv4, a.ipv6]) {
		if (ip && isSpecialAddress(ip)) out.push(`${ip} is a private, shared or documentation address: other mail servers cannot reach it (fine for a lab).`);
	}
	return out;
}
