// The DNS records a mail server needs (the guide's "DNS records" section and its extras:
// MX, A/AAAA, SPF, DKIM, DMARC, PTR, MTA-STS, TLSRPT), built from the answers. Pure.
import {createPublicKey} from 'node:crypto';
import {defaultMaxAge, mtaStsPolicyId, mtaStsPolicyText} from '../../templates/mta-sts.ts';
import type {Answers} from '../answers.ts';
import type {ExpectedRecord, RecordKind} from './types.ts';

export const DEFAULT_TTL = 3600;
/** A TXT character-string holds at most 255 bytes (RFC 1035 3.3). */
export const TXT_STRING_MAX = 255;
export const DKIM_PENDING = 'generated at apply time: the DKIM key does not exist yet';
const DKIM_PLACEHOLDER = '<public key, generated at apply time>';

/** also: the other selectors of a rotation whose records stay published (their public halves). */
export type DkimInput = {readonly publicKeyDer?: Buffer; readonly also?: ReadonlyArray<{readonly selector: string; readonly publicKeyDer?: Buffer}>};
export type BuildOptions = {readonly ttl?: number};

/** Splits a TXT value into character-strings of at most 255 bytes, never inside a UTF-8 character. */
export function splitTxt(value: string, max = TXT_STRING_MAX): string[] {
	const out: string[] = [];
	let current = '';
	let bytes = 0;
	for (const ch of value) {
		const n = Buffer.byteLength(ch);
		if (bytes + n > max) {
			out.push(current);
			current = '';
			bytes = 0;
		}
		current += ch;
		bytes += n;
	}
	if (current !== '' || out.length === 0) out.push(current);
	return out;
}

/** The DKIM key's type and its p= value: base64 of the SPKI DER for RSA, of the raw key for Ed25519 (RFC 8463). */
export function dkimKeyTag(publicKeyDer: Buffer): {k: 'rsa' | 'ed25519'; p: string} {
	let type: string | undefined;
	try {
		type = createPublicKey({key: publicKeyDer, format: 'der', type: 'spki'}).asymmetricKeyType;
	} catch {
		throw new Error('the DKIM public key is not a DER-encoded SubjectPublicKeyInfo');
	}
	if (type === 'ed25519') return {k: 'ed25519', p: publicKeyDer.subarray(-32).toString('base64')};
	if (type !== 'rsa') throw new Error(`DKIM needs an RSA or Ed25519 key, got ${type ?? 'an unknown key type'}`);
	return {k: 'rsa', p: publicKeyDer.toString('base64')};
}

/** The guide's DKIM record: strict (t=s), SHA-256 only. */
export function dkimTxtValue(publicKeyDer: Buffer): string {
	const {k, p} = dkimKeyTag(publicKeyDer);
	return dkimValue(k, p);
}

function dkimValue(k: string, p: string): string {
	return `v=DKIM1; k=${k}; t=s; h=sha256; p=${p}`;
}

/** The guide's strict DMARC policy, with report addresses when given. */
export function dmarcTxtValue(dmarc: Answers['dmarc']): string {
	const tags = [`v=DMARC1`, `p=${dmarc.policy}`, `sp=${dmarc.policy}`, 'pct=100', 'aspf=s', 'adkim=s', 'fo=1'];
	if (dmarc.rua) tags.push(`rua=mailto:${dmarc.rua}`);
	if (dmarc.ruf) tags.push(`ruf=mailto:${dmarc.ruf}`);
	return tags.join('; ');
}

export const SPF_VALUE = 'v=spf1 mx -all';

/** The MTA-STS policy file (RFC 8461 3.2), served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt. CRLF line ends. */
export function mtaStsPolicy(answers: Answers): string {
	const mode = answers.mtaSts?.mode ?? 'testing';
	return mtaStsPolicyText({mode, mx: [answers.hostname], maxAge: defaultMaxAge(mode)});
}

/** The policy's id: a hash of its content, so it changes exactly when the policy does ([A-Za-z0-9]{1,32}). */
export const mtaStsId = mtaStsPolicyId;

/** d.c.b.a.in-addr.arpa for IPv4, the 32 reversed nibbles under ip6.arpa for IPv6. */
export function reverseName(ip: string): string {
	if (ip.includes(':')) return `${[...ipv6Hex(ip)].reverse().join('.')}.ip6.arpa`;
	return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

/** The 32 hex digits of an IPv6 address (expands "::", accepts an embedded IPv4 tail). */
export function ipv6Hex(ip: string): string {
	let s = ip.toLowerCase();
	const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
	if (v4) {
		const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
		s = `${s.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
	}
	const invalid = new Error(`"${ip}" is not an IPv6 address`);
	const halves = s.split('::');
	if (halves.length > 2) throw invalid;
	const [head = '', tail] = halves;
	const h = head === '' ? [] : head.split(':');
	const t = tail === undefined || tail === '' ? [] : tail.split(':');
	const zeros = 8 - h.length - t.length;
	if (tail !== undefined && zeros < 1) throw invalid;
	const groups = tail === undefined ? h : [...h, ...Array<string>(zeros).fill('0'), ...t];
	if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) throw invalid;
	return groups.map((g) => g.padStart(4, '0')).join('');
}

export function relativeName(name: string, zone: string): string {
	if (name === zone) return '@';
	if (!name.endsWith(`.${zone}`)) throw new Error(`${name} is not inside the zone ${zone}`);
	return name.slice(0, -(zone.length + 1));
}

function inZone(name: string, zone: string): boolean {
	return name === zone || name.endsWith(`.${zone}`);
}

type Spec = {kind: RecordKind; type: ExpectedRecord['type']; name: string; zone: string; value: string; publishable?: boolean; note?: string; pending?: string};

function record(s: Spec, ttl: number): ExpectedRecord {
	const r: ExpectedRecord = {
		kind: s.kind,
		type: s.type,
		name: s.name,
		host: relativeName(s.name, s.zone),
		zone: s.zone,
		ttl,
		value: s.value,
		...(s.type === 'TXT' ? {strings: splitTxt(s.value)} : {}),
		publishable: s.publishable ?? true,
		...(s.note === undefined ? {} : {note: s.note}),
		...(s.pending === undefined ? {} : {pending: s.pending}),
	};
	return r;
}

/** The zone that holds the host name: the (longest) mail domain it is inside, else its parent. */
export function hostZone(answers: Answers): {zone: string; inside: boolean} {
	const own = [answers.domain, ...answers.extraDomains].filter((d) => inZone(answers.hostname, d)).sort((a, b) => b.length - a.length);
	if (own[0]) return {zone: own[0], inside: true};
	return {zone: answers.hostname.split('.').slice(1).join('.'), inside: false};
}

/** A and AAAA records for the server's addresses (the mail host, or the MTA-STS policy host). */
function addressSpecs(name: string, zone: string, answers: Answers, mtaStsHost: boolean, note?: string): Spec[] {
	const out: Spec[] = [];
	if (answers.ipv4) out.push({kind: mtaStsHost ? 'mta-sts-host' : 'a', type: 'A', name, zone, value: answers.ipv4, note});
	if (answers.ipv6) out.push({kind: mtaStsHost ? 'mta-sts-host' : 'aaaa', type: 'AAAA', name, zone, value: answers.ipv6, note});
	return out;
}

function domainSpecs(domain: string, answers: Answers, dkim: DkimInput): Spec[] {
	const specs: Spec[] = [
		{kind: 'mx', type: 'MX', name: domain, zone: domain, value: `10 ${answers.hostname}.`},
		{kind: 'spf', type: 'TXT', name: domain, zone: domain, value: SPF_VALUE},
	];
	const dkimName = `${answers.dkim.selector}._domainkey.${domain}`;
	if (dkim.publicKeyDer) specs.push({kind: 'dkim', type: 'TXT', name: dkimName, zone: domain, value: dkimTxtValue(dkim.publicKeyDer)});
	else specs.push({kind: 'dkim', type: 'TXT', name: dkimName, zone: domain, value: dkimValue('rsa', DKIM_PLACEHOLDER), pending: DKIM_PENDING});
	for (const o of dkim.also ?? []) if (o.publicKeyDer) specs.push({kind: 'dkim', type: 'TXT', name: `${o.selector}._domainkey.${domain}`, zone: domain, value: dkimTxtValue(o.publicKeyDer)});
	specs.push({kind: 'dmarc', type: 'TXT', name: `_dmarc.${domain}`, zone: domain, value: dmarcTxtValue(answers.dmarc)});
	if (answers.mtaSts) {
		specs.push({kind: 'mta-sts', type: 'TXT', name: `_mta-sts.${domain}`, zone: domain, value: `v=STSv1; id=${mtaStsId(mtaStsPolicy(answers))}`});
		specs.push(...addressSpecs(`mta-sts.${domain}`, domain, answers, true, `serves the policy at https://mta-sts.${domain}/.well-known/mta-sts.txt (needs a certificate for that name)`));
	}
	if (answers.tlsrpt) specs.push({kind: 'tlsrpt', type: 'TXT', name: `_smtp._tls.${domain}`, zone: domain, value: `v=TLSRPTv1; rua=mailto:${answers.tlsrpt.rua}`});
	return specs;
}

function ptrSpecs(answers: Answers): Spec[] {
	return [answers.ipv4, answers.ipv6]
		.filter((ip): ip is string => ip !== undefined)
		.map((ip) => {
			const name = reverseName(ip);
			return {
				kind: 'ptr',
				type: 'PTR',
				name,
				zone: name,
				value: `${answers.hostname}.`,
				publishable: false,
				note: `ask the provider of ${ip} to set the reverse DNS (PTR) of ${ip} to ${answers.hostname}`,
			};
		});
}

/**
 * Every record the server needs: the host name's addresses, then per mail domain MX, SPF,
 * DKIM, DMARC (and MTA-STS, TLSRPT when asked for), then the PTRs to ask the provider for.
 * Without a DKIM key yet, the DKIM record carries a placeholder and `pending`.
 */
export function buildRecords(answers: Answers, dkim: DkimInput, options: BuildOptions = {}): ExpectedRecord[] {
	const ttl = options.ttl ?? DEFAULT_TTL;
	const host = hostZone(answers);
	const hostNote = host.inside ? undefined : `publish in the zone that holds ${answers.hostname} (${host.zone}), not in ${answers.domain}`;
	const specs = [
		...addressSpecs(answers.hostname, host.zone, answers, false, hostNote),
		...[answers.domain, ...answers.extraDomains].flatMap((d) => domainSpecs(d, answers, dkim)),
		...ptrSpecs(answers),
	];
	return specs.map((s) => record(s, ttl));
}
