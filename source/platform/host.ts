import {networkInterfaces} from 'node:os';
import {isSpecialAddress} from './addresses.ts';

/** The host's public IPv4 address, else its first non-loopback one. */
export function defaultIpv4(): string | undefined {
	const all = Object.values(networkInterfaces())
		.flat()
		.filter((i) => i && i.family === 'IPv4' && !i.internal)
		.map((i) => i!.address);
	return all.find((a) => !isSpecialAddress(a)) ?? all[0];
}
