// The records shown to the operator: a table, a zone-file fragment, or JSON. Pure.
import type {ExpectedRecord} from './types.ts';

function zonesOf(records: readonly ExpectedRecord[]): string[] {
	return [...new Set(records.map((r) => r.zone))];
}

function fqdn(name: string): string {
	return `${name}.`;
}

function columns(rows: readonly (readonly string[])[], indent: string): string[] {
	const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
	// The last column (the value) is never padded: long TXT values stay whole, on one line.
	return rows.map(
		(r) =>
			indent +
			r
				.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
				.join('  ')
				.trimEnd(),
	);
}

/**
 * A table per zone: type, host relative to the zone, FQDN with its trailing dot, TTL,
 * value (whole). Records for someone else (PTR) come last, under "Ask your provider".
 */
export function formatTable(records: readonly ExpectedRecord[]): string {
	const out: string[] = [];
	const own = records.filter((r) => r.publishable);
	const header = ['TYPE', 'HOST', 'FQDN', 'TTL', 'VALUE'];
	for (const zone of zonesOf(own)) {
		const inZone = own.filter((r) => r.zone === zone);
		if (out.length > 0) out.push('');
		out.push(`Zone ${zone}`);
		const lines = columns([header, ...inZone.map((r) => [r.type, r.host, fqdn(r.name), String(r.ttl), r.value])], '  ');
		out.push(lines[0]!);
		inZone.forEach((r, i) => {
			out.push(lines[i + 1]!);
			if (r.note) out.push(`      note: ${r.note}`);
			if (r.pending) out.push(`      pending: ${r.pending}; the value above is a placeholder`);
		});
	}
	const others = records.filter((r) => !r.publishable);
	if (others.length > 0) {
		if (out.length > 0) out.push('');
		out.push('Ask your provider');
		const lines = columns([['TYPE', 'FQDN', 'TTL', 'VALUE'], ...others.map((r) => [r.type, fqdn(r.name), String(r.ttl), r.value])], '  ');
		out.push(lines[0]!);
		others.forEach((r, i) => {
			out.push(lines[i + 1]!);
			if (r.note) out.push(`      ${r.note}`);
		});
	}
	return out.join('\n');
}

/** A character-string in zone-file syntax (RFC 1035 5.1): quoted, with \" \\ and \DDD escapes. */
export function quoteTxt(s: string): string {
	let out = '"';
	for (const byte of Buffer.from(s, 'utf8')) {
		if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
		else if (byte < 0x20 || byte > 0x7e) out += `\\${String(byte).padStart(3, '0')}`;
		else out += String.fromCharCode(byte);
	}
	return `${out}"`;
}

function rdata(r: ExpectedRecord): string {
	if (r.type !== 'TXT') return r.value;
	const strings = (r.strings ?? [r.value]).map(quoteTxt);
	return strings.length === 1 ? strings[0]! : `( ${strings.join('\n\t  ')} )`;
}

function zoneLine(r: ExpectedRecord): string {
	return `${fqdn(r.name)}\t${r.ttl}\tIN\t${r.type}\t${rdata(r)}`;
}

/**
 * A zone-file fragment: absolute owner names, TXT values as quoted <=255-byte strings.
 * Appended to a zone file with $TTL and SOA, NSD and BIND load it as it is. Only the
 * publishable records of `zone` (every zone, each under a comment, when not given);
 * a pending record (no DKIM key yet) is commented out.
 */
export function formatZone(records: readonly ExpectedRecord[], zone?: string): string {
	const own = records.filter((r) => r.publishable && (zone === undefined || r.zone === zone));
	const out: string[] = [];
	for (const z of zonesOf(own)) {
		out.push(`; zone ${z}: records for the mail server (mailwizard)`);
		for (const r of own.filter((x) => x.zone === z)) {
			if (r.note) out.push(`; ${r.note}`);
			if (r.pending) {
				out.push(`; pending: ${r.pending}`);
				out.push(
					...zoneLine(r)
						.split('\n')
						.map((l) => `; ${l}`),
				);
			} else out.push(zoneLine(r));
		}
	}
	return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** The records as JSON (the fields of ExpectedRecord, TXT strings included). */
export function formatJson(records: readonly ExpectedRecord[]): string {
	return JSON.stringify(records, null, 2);
}
