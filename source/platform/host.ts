import {hostname as osHostname, networkInterfaces, totalmem} from 'node:os';
import {isSpecialAddress, publicIpv6} from './addresses.ts';

/** The host's public IPv4 address, else its first non-loopback one. */
export function defaultIpv4(): string | undefined {
	const all = Object.values(networkInterfaces())
		.flat()
		.filter((i) => i && i.family === 'IPv4' && !i.internal)
		.map((i) => i!.address);
	return all.find((a) => !isSpecialAddress(a)) ?? all[0];
}

/** The host's public IPv6 address, if it has one (none: nothing suggested; IPv6 stays optional). */
export function defaultIpv6(): string | undefined {
	return publicIpv6(thisHost().interfaces)[0];
}

/** What stages learn about the machine beyond its files and commands (ctx.host). */
export type Host = {
	readonly memBytes: number;
	readonly hostname: string;
	/** The addresses of each network interface. */
	readonly interfaces: Readonly<Record<string, readonly {readonly address: string}[]>>;
};

/** The machine mailwizard runs on. */
export function thisHost(): Host {
	const interfaces: Record<string, {address: string}[]> = {};
	for (const [name, list] of Object.entries(networkInterfaces())) interfaces[name] = (list ?? []).map((i) => ({address: i.address}));
	return {memBytes: totalmem(), hostname: osHostname(), interfaces};
}
