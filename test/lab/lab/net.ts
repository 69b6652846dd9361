// The lab's network: addresses, host names, and the namespaces with their bridge and veths.
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {must, namedNetInode, run} from './proc.ts';

export const NET = {
	prefix: '10.77.0',
	len: 24,
	dns: '10.77.0.53',
	mx: '10.77.0.25',
	remote: '10.77.0.30',
	/** A second address on the remote host, without PTR: the "client without reverse DNS". */
	remoteNoPtr: '10.77.0.31',
	/** other.test's MX points here; nothing listens. */
	other: '10.77.0.99',
	reverseZone: '0.77.10.in-addr.arpa',
} as const;

/**
 * IPv6 on the same links (issue 20): the documentation prefix, one /64. The mx and the remote
 * host have AAAA and ip6.arpa PTR records; remoteNoPtr has none, like its IPv4 twin.
 */
export const NET6 = {
	prefix: '2001:db8:77::',
	len: 64,
	dns: '2001:db8:77::53',
	mx: '2001:db8:77::25',
	remote: '2001:db8:77::30',
	remoteNoPtr: '2001:db8:77::31',
	/** 2001:0db8:0077:0000::/64, nibbles reversed. */
	reverseZone: '0.0.0.0.7.7.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
} as const;

/** The owner name of an address of NET6 in its reverse zone, relative to the zone (the 16 host nibbles). */
export function reverse6Label(address: string): string {
	const host = address.slice(NET6.prefix.length).padStart(4, '0');
	return host.padStart(16, '0').split('').reverse().join('.');
}

export type HostName = 'dns' | 'mx' | 'remote';
/** The lab's blocklist zone (served by the lab DNS): the wizard asks it instead of the public lists. */
export const LAB_DNSBL = 'bl.remote.test';

/**
 * The namespaces' names: slot 0 (the first lab on the machine) has the plain names, slot N
 * appends N (lock.ts takes a slot and calls useSlot). Every address lives inside the lab's own
 * namespaces, so two labs with different names never meet.
 */
const NETNS_BASE = {bridge: 'mwlab', dns: 'mwdns', mx: 'mwmx', remote: 'mwremote'} as const;
export const NETNS: Record<keyof typeof NETNS_BASE, string> = {...NETNS_BASE};
/** Slot N's suffix ('' for slot 0). */
export let SLOT_SUFFIX = '';

/** Names this process's lab after its slot (once, before its lab is built). */
export function useSlot(slot: number): void {
	SLOT_SUFFIX = slot ? String(slot) : '';
	for (const [k, base] of Object.entries(NETNS_BASE)) NETNS[k as keyof typeof NETNS] = `${base}${SLOT_SUFFIX}`;
}
export const HOSTS: readonly HostName[] = ['dns', 'mx', 'remote'];
export const HOSTNAMES: Record<HostName, string> = {dns: 'ns1.example.test', mx: 'mail.example.test', remote: 'mx.remote.test'};
export const ADDRS: Record<HostName, string[]> = {dns: [NET.dns], mx: [NET.mx], remote: [NET.remote, NET.remoteNoPtr]};
export const ADDRS6: Record<HostName, string[]> = {dns: [NET6.dns], mx: [NET6.mx], remote: [NET6.remote, NET6.remoteNoPtr]};

/** resolv.conf of every lab host: the lab DNS only. */
export const RESOLV_CONF = `nameserver ${NET.dns}\noptions timeout:2 attempts:2\n`;

/** The namespaces, the bridge in its own, a veth per host with its addresses; their inodes go into `netInodes`. */
export async function createNetwork(netInodes: Set<string>): Promise<void> {
	for (const ns of Object.values(NETNS)) {
		await must(['ip', 'netns', 'add', ns]);
		const i = await namedNetInode(ns);
		if (i) netInodes.add(i);
		await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
		// No IPv6 duplicate-address detection (a fresh link-local would block smtpd's bind).
		await run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
	}
	const b = NETNS.bridge;
	await must(['ip', '-n', b, 'link', 'add', 'mwbr0', 'type', 'bridge']);
	await must(['ip', '-n', b, 'link', 'set', 'mwbr0', 'up']);
	for (const h of HOSTS) {
		const ns = NETNS[h];
		await must(['ip', '-n', b, 'link', 'add', `v${h}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
		await must(['ip', '-n', b, 'link', 'set', `v${h}`, 'master', 'mwbr0', 'up']);
		for (const a of ADDRS[h]) await must(['ip', '-n', ns, 'addr', 'add', `${a}/${NET.len}`, 'dev', 'eth0']);
		// nodad: the address is usable at once (a tentative address cannot be bound).
		for (const a of ADDRS6[h]) await must(['ip', '-n', ns, '-6', 'addr', 'add', `${a}/${NET6.len}`, 'dev', 'eth0', 'nodad']);
		await must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
	}
}

/** The files the small hosts (dns, remote) see: resolv.conf and hosts, under BASE/HOST. */
export function writeSmallHostFiles(base: string): void {
	for (const h of ['dns', 'remote'] as const) {
		const d = join(base, h);
		mkdirSync(d, {recursive: true});
		writeFileSync(join(d, 'resolv.conf'), RESOLV_CONF);
		writeFileSync(join(d, 'hosts'), `127.0.0.1 localhost\n${ADDRS[h][0]} ${HOSTNAMES[h]}\n`);
	}
}
