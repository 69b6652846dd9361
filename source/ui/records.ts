// The records to publish, as text made for copying: one record per block, the
// relative host and the FQDN, the whole value on one line, and TXT values longer
// than 255 bytes also as the quoted strings a zone file or DNS panel wants.
import type {ExpectedRecord} from '../dns/types.ts';

export function quotedStrings(r: ExpectedRecord): string {
	return (r.strings ?? [r.value]).map((s) => `"${s.replace(/(["\\])/g, '\\$1')}"`).join(' ');
}

export function recordLines(records: readonly ExpectedRecord[]): string[] {
	const out: string[] = [];
	const mine = records.filter((r) => r.publishable);
	const others = records.filter((r) => !r.publishable);
	for (const r of mine) {
		out.push(`${r.type.padEnd(5)} host ${r.host}   (FQDN ${r.name}.)   TTL ${r.ttl}`);
		out.push(`      ${r.value}`);
		if (r.type === 'TXT' && (r.strings?.length ?? 1) > 1) out.push(`      as ${r.strings!.length} strings: ${quotedStrings(r)}`);
		out.push('');
	}
	if (others.length) {
		out.push('Ask for these elsewhere (not in your zone):');
		for (const r of others) {
			out.push(`${r.type.padEnd(5)} ${r.name}.  ->  ${r.value}`);
			if (r.note) out.push(`      ${r.note}`);
		}
		out.push('');
	}
	return out;
}
