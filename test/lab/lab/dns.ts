// The lab's DNS: the zones NSD serves (test., example.test, remote.test, other.test and the
// reverse zone) and NSD's configuration.
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {NET, NET6, reverse6Label} from './net.ts';

const SOA = (serial: number) => `$TTL 60
@ IN SOA ns1.example.test. hostmaster.example.test. ( ${serial} 60 30 3600 30 )
`;

export function zones(serial: number): Record<string, string> {
	return {
		test: `$ORIGIN test.
${SOA(serial)}@ IN NS ns1.example.test.
example IN NS ns1.example.test.
remote IN NS ns1.example.test.
other IN NS ns1.example.test.
ns1.example IN A ${NET.dns}
ns1.example IN AAAA ${NET6.dns}
`,
		'example.test': `$ORIGIN example.test.
${SOA(serial)}@ IN NS ns1.example.test.
ns1 IN A ${NET.dns}
mail IN A ${NET.mx}
`,
		'remote.test': `$ORIGIN remote.test.
${SOA(serial)}@ IN NS ns1.example.test.
@ IN MX 10 mx.remote.test.
@ IN TXT "v=spf1 ip4:${NET.remote} ip6:${NET6.remote} -all"
mx IN A ${NET.remote}
mx IN AAAA ${NET6.remote}
; six.remote.test: its MX has only an IPv6 address (delivery to it must go over IPv6)
six IN MX 10 mx6.remote.test.
mx6 IN AAAA ${NET6.remote}
; a blocklist in the lab (its test entry listed, as real DNSBLs do; the mx is not listed)
2.0.0.127.bl IN A 127.0.0.2
`,
		'other.test': `$ORIGIN other.test.
${SOA(serial)}@ IN NS ns1.example.test.
@ IN MX 10 mx.other.test.
mx IN A ${NET.other}
`,
		[NET.reverseZone]: `$ORIGIN ${NET.reverseZone}.
${SOA(serial)}@ IN NS ns1.example.test.
${NET.dns.split('.')[3]} IN PTR ns1.example.test.
${NET.mx.split('.')[3]} IN PTR mail.example.test.
${NET.remote.split('.')[3]} IN PTR mx.remote.test.
`,
		[NET6.reverseZone]: `$ORIGIN ${NET6.reverseZone}.
${SOA(serial)}@ IN NS ns1.example.test.
${reverse6Label(NET6.dns)} IN PTR ns1.example.test.
${reverse6Label(NET6.mx)} IN PTR mail.example.test.
${reverse6Label(NET6.remote)} IN PTR mx.remote.test.
`,
	};
}

export function nsdConf(dir: string): string {
	return `server:
	ip-address: ${NET.dns}
	port: 53
	username: ""
	chroot: ""
	zonesdir: "${dir}"
	pidfile: "${dir}/nsd.pid"
	database: ""
	zonelistfile: "${dir}/zone.list"
	xfrdfile: "${dir}/xfrd.state"
	xfrdir: "${dir}"
	logfile: "${dir}/nsd.log"
	verbosity: 2
	server-count: 1
	do-ip6: no
	hide-version: yes
remote-control:
	control-enable: yes
	control-interface: "${dir}/control.sock"
${Object.keys(zones(1))
	.map((z) => `zone:\n\tname: "${z}."\n\tzonefile: "${z}.zone"\n`)
	.join('')}`;
}

// ---------------------------------------------------------------- the sink

/** Writes every zone file with this serial; the fragments (the wizard's records) go into example.test. */
export async function writeZones(dir: string, serial: number, fragments: readonly string[]): Promise<void> {
	for (const [name, text] of Object.entries(zones(serial))) {
		const extra = name === 'example.test' && fragments.length ? `\n; ---- appended by the lab\n$ORIGIN example.test.\n${fragments.join('\n')}\n` : '';
		await writeFile(join(dir, `${name}.zone`), text + extra);
	}
}
