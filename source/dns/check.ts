// Live checks: is every record published, on every authoritative server of its zone?
// The zone apex and its NS addresses come from the resolvers; then every authoritative
// server is asked directly (RD=0) for every record, all questions at once. Answers are
// compared by meaning (SPF terms, DKIM key bytes, DMARC tags), not as strings.
import {createHash, createPublicKey} from 'node:crypto';
import type {Answer, RecordType} from 'dns-packet';
import {dataString, formatServer, normName, parseServer, query, QueryError, ttlOf, txtJoined, type DnsResponse, type QueryOptions, type Server} from './client.ts';
import {ipv6Hex} from './records.ts';
import {printable} from '../text/safe.ts';
import type {CheckOptions, CheckReport, ExpectedRecord, RecordCheck, RecordState, ServerResult} from './types.ts';

// ---------------------------------------------------------------------------------------
// Semantic comparison (pure)

export type Verdict = {readonly state: 'ok' | 'missing' | 'wrong'; readonly detail?: string};

const OK: Verdict = {state: 'ok'};

function quoted(values: readonly string[]): string {
	return values.map((v) => `"${v.length > 120 ? `${v.slice(0, 117)}...` : v}"`).join(' and ');
}

function count(n: number): string {
	return ['no', 'one', 'two', 'three'][n] ?? String(n);
}

/** "k=v; k=v" tag lists (DKIM, DMARC, MTA-STS, TLSRPT); undefined when a part is not a tag. */
export function parseTags(value: string): Map<string, string> | undefined {
	const tags = new Map<string, string>();
	for (const part of value.split(';')) {
		if (part.trim() === '') continue;
		const i = part.indexOf('=');
		if (i <= 0) return undefined;
		const key = part.slice(0, i).trim().toLowerCase();
		if (!/^[a-z][a-z0-9_]*$/.test(key)) return undefined;
		tags.set(key, part.slice(i + 1).trim());
	}
	return tags;
}

function startsWithVersion(value: string, version: string): boolean {
	const tags = parseTags(value);
	return tags !== undefined && [...tags.keys()][0] === 'v' && tags.get('v')!.toLowerCase() === version.toLowerCase();
}

/** One SPF term, normalised: "+mx" and "MX" are the same mechanism. */
function spfTerm(term: string): string {
	const t = term.toLowerCase();
	if (/^[a-z][a-z0-9_.-]*=/.test(t)) return t; // a modifier (redirect=, exp=)
	return /^[+\-~?]/.test(t) ? t : `+${t}`;
}

const SPF_LOOKUP = /^[+\-~?]?(include|a|mx|ptr|exists)(?=$|[:/])|^redirect=/;

/** The terms after v=spf1, normalised. */
export function spfTerms(value: string): string[] {
	return value.trim().split(/\s+/).slice(1).map(spfTerm);
}

/** DNS lookups the record itself costs (RFC 7208 4.6.4: include, a, mx, ptr, exists, redirect). */
export function spfLookupCount(value: string): number {
	return spfTerms(value).filter((t) => SPF_LOOKUP.test(t)).length;
}

export function compareSpf(expected: string, found: readonly string[]): Verdict {
	const spf = found.filter((v) => /^v=spf1(\s|$)/i.test(v));
	if (spf.length === 0) return {state: 'missing', detail: found.length > 0 ? `no v=spf1 record among ${quoted(found)}` : undefined};
	if (spf.length > 1) return {state: 'wrong', detail: `${count(spf.length)} SPF records: ${quoted(spf)}; receivers treat that as an error (permerror): merge them into one`};
	const want = new Set(spfTerms(expected));
	const have = new Set(spfTerms(spf[0]!));
	const problems: string[] = [];
	const missing = [...want].filter((t) => !have.has(t));
	const extra = [...have].filter((t) => !want.has(t));
	if (missing.length > 0) problems.push(`lacks ${missing.join(' ')}`);
	if (extra.length > 0) problems.push(`has ${extra.join(' ')} too`);
	const lookups = spfLookupCount(spf[0]!);
	if (lookups > 10) problems.push(`needs ${lookups} DNS lookups (SPF allows 10)`);
	return problems.length === 0 ? OK : {state: 'wrong', detail: `"${spf[0]}" ${problems.join('; ')}`};
}

function keyBytes(p: string): Buffer {
	return Buffer.from(p.replace(/\s+/g, ''), 'base64');
}

function fingerprint(key: Buffer): string {
	return `sha256:${createHash('sha256').update(key).digest('base64').slice(0, 16)}`;
}

function isPublicKey(key: Buffer, k: string): boolean {
	if (k === 'ed25519') return key.length === 32;
	try {
		createPublicKey({key, format: 'der', type: 'spki'});
		return true;
	} catch {
		return false;
	}
}

function flagSet(v: string | undefined): string {
	return (v ?? '')
		.toLowerCase()
		.split(':')
		.map((x) => x.trim())
		.filter(Boolean)
		.sort()
		.join(':');
}

/** DKIM: the key bytes must be the expected key's; k, t and h must match too. */
export function compareDkim(expected: string, found: readonly string[], pending = false): Verdict {
	const want = parseTags(expected)!;
	const dkim = found.filter((v) => {
		const t = parseTags(v);
		return t !== undefined && t.has('p') && (!t.has('v') || startsWithVersion(v, 'DKIM1'));
	});
	const others = found.filter((v) => !dkim.includes(v));
	const also = others.length > 0 ? `; other TXT records there: ${quoted(others)} (a key split into separate TXT records instead of strings of one record?)` : '';
	if (dkim.length === 0) return {state: 'missing', detail: others.length > 0 ? `no DKIM record (v=DKIM1 ... p=)${also}` : undefined};
	if (dkim.length > 1) return {state: 'wrong', detail: `${count(dkim.length)} DKIM records at one selector: ${quoted(dkim)}`};
	const have = parseTags(dkim[0]!)!;
	const k = (have.get('k') ?? 'rsa').toLowerCase();
	const p = keyBytes(have.get('p')!);
	if (p.length === 0) return {state: 'wrong', detail: 'p= is empty: the key is revoked'};
	if (!pending) {
		const wantKey = keyBytes(want.get('p') ?? '');
		if (!p.equals(wantKey)) {
			if (!isPublicKey(p, k)) return {state: 'wrong', detail: `p= is not a valid ${k} public key (${p.length} bytes): the value was cut, changed or split wrongly${also}`};
			return {state: 'wrong', detail: `DKIM record for another key: published ${fingerprint(p)}, expected ${fingerprint(wantKey)}`};
		}
	}
	const diffs: string[] = [];
	const wantK = (want.get('k') ?? 'rsa').toLowerCase();
	if (k !== wantK) diffs.push(`k=${k} (expected k=${wantK})`);
	for (const tag of ['t', 'h', 's']) {
		const a = flagSet(have.get(tag));
		const b = flagSet(want.get(tag));
		if (a !== b) diffs.push(`${a === '' ? `no ${tag}=` : `${tag}=${a}`} (expected ${b === '' ? `no ${tag}=` : `${tag}=${b}`})`);
	}
	return diffs.length === 0 ? OK : {state: 'wrong', detail: `right key, but ${diffs.join(', ')}`};
}

type TagRules = {
	readonly label: string;
	readonly version: string;
	/** Values a tag has when absent. */
	readonly defaults: Readonly<Record<string, string | ((tags: Map<string, string>) => string | undefined)>>;
	/** Tags holding comma-separated URI lists, compared as sets. */
	readonly lists?: readonly string[];
	/** Tags holding colon-separated flag lists, compared as sets. */
	readonly flags?: readonly string[];
	/** Tags compared as written (case matters). */
	readonly exact?: readonly string[];
};

const DMARC: TagRules = {
	label: 'DMARC',
	version: 'DMARC1',
	defaults: {sp: (t) => t.get('p'), pct: '100', aspf: 'r', adkim: 'r', fo: '0', ri: '86400', rf: 'afrf'},
	lists: ['rua', 'ruf'],
	flags: ['fo'],
};
const MTA_STS: TagRules = {label: 'MTA-STS', version: 'STSv1', defaults: {}, exact: ['id']};
const TLSRPT: TagRules = {label: 'TLSRPT', version: 'TLSRPTv1', defaults: {}, lists: ['rua']};

function tagValue(rules: TagRules, tags: Map<string, string>, key: string): string | undefined {
	const raw = tags.get(key);
	const d = rules.defaults[key];
	const v = raw ?? (typeof d === 'function' ? d(tags) : d);
	if (v === undefined) return undefined;
	if (rules.exact?.includes(key)) return v;
	if (rules.lists?.includes(key))
		return v
			.split(',')
			.map((x) => x.trim().toLowerCase())
			.filter(Boolean)
			.sort()
			.join(',');
	if (rules.flags?.includes(key)) return flagSet(v);
	return v.toLowerCase();
}

/** Tag-value records that start with v=VERSION: exactly one, with the expected tags (defaults applied). */
export function compareTagged(expected: string, found: readonly string[], rules: TagRules): Verdict {
	const candidates = found.filter((v) => startsWithVersion(v, rules.version));
	if (candidates.length === 0) return {state: 'missing', detail: found.length > 0 ? `no v=${rules.version} record among ${quoted(found)}` : undefined};
	if (candidates.length > 1) return {state: 'wrong', detail: `${count(candidates.length)} ${rules.label} records: ${quoted(candidates)}; receivers ignore them all`};
	const want = parseTags(expected)!;
	const have = parseTags(candidates[0]!)!;
	const keys = [...new Set([...want.keys(), ...have.keys()])].filter((k) => k !== 'v');
	const diffs = keys.flatMap((k) => {
		const a = tagValue(rules, have, k);
		const b = tagValue(rules, want, k);
		return a === b ? [] : [`${a === undefined ? `no ${k}=` : `${k}=${a}`} (expected ${b === undefined ? `no ${k}=` : `${k}=${b}`})`];
	});
	return diffs.length === 0 ? OK : {state: 'wrong', detail: `"${candidates[0]}": ${diffs.join(', ')}`};
}

/** An address in a comparable form (IPv6 fully expanded). */
export function normAddress(ip: string): string {
	return ip.includes(':') ? ipv6Hex(ip) : ip.split('.').map(Number).join('.');
}

/** The expected value must be the only one: an extra MX or address sends some mail or clients elsewhere. */
function compareSet(what: string, want: string, have: readonly string[], key: (v: string) => string): Verdict {
	const k = key(want);
	const same = have.filter((h) => key(h) === k);
	const others = have.filter((h) => key(h) !== k);
	if (others.length === 0) return OK;
	if (same.length > 0) return {state: 'wrong', detail: `${what} ${want} is there, but also ${others.join(', ')}`};
	return {state: 'wrong', detail: `${what} ${others.join(', ')} (expected ${want})`};
}

function mxKey(mx: string): string {
	const [pref = '', ...target] = mx.trim().split(/\s+/);
	return `${Number(pref)} ${normName(target.join(''))}`;
}

/** Compares what one server holds at the record's name (answers of the record's type). */
export function compareRecord(record: ExpectedRecord, found: readonly Answer[]): Verdict {
	const typed = found.filter((a) => a.type === record.type);
	if (typed.length === 0) return {state: 'missing', detail: `no ${record.type} record (NODATA)`};
	switch (record.type) {
		case 'MX':
			return compareSet(
				'MX',
				record.value,
				typed.map((a) => (a.type === 'MX' ? `${a.data.preference ?? 0} ${normName(a.data.exchange)}.` : '')),
				mxKey,
			);
		case 'A':
		case 'AAAA':
			return compareSet(record.type, record.value, typed.map(dataString), normAddress);
		case 'PTR':
		case 'CNAME':
			return compareSet(
				record.type,
				record.value,
				typed.map((a) => `${normName(dataString(a))}.`),
				normName,
			);
		case 'TXT': {
			const values = typed.map(txtJoined);
			switch (record.kind) {
				case 'spf':
					return compareSpf(record.value, values);
				case 'dkim':
					return compareDkim(record.value, values, record.pending !== undefined);
				case 'dmarc':
					return compareTagged(record.value, values, DMARC);
				case 'mta-sts':
					return compareTagged(record.value, values, MTA_STS);
				case 'tlsrpt':
					return compareTagged(record.value, values, TLSRPT);
				default:
					return values.includes(record.value) ? OK : {state: 'wrong', detail: `TXT ${quoted(values)} (expected "${record.value}")`};
			}
		}
	}
}

/** What one server's answer (or failure) means for one record. */
export function judge(record: ExpectedRecord, outcome: Outcome, opts: {authoritative: boolean; zone: string}): Omit<ServerResult, 'server'> {
	if ('error' in outcome) return {state: 'unreachable', detail: outcome.error.message};
	const r = outcome.response;
	if (r.rcode === 'REFUSED' && opts.authoritative) return {state: 'unreachable', detail: `REFUSED: the server does not serve ${opts.zone} (lame delegation)`};
	if (r.rcode !== 'NOERROR' && r.rcode !== 'NXDOMAIN') return {state: 'unreachable', detail: `answered ${r.rcode}`};
	if (opts.authoritative && !r.aa) return {state: 'unreachable', detail: `lame delegation: not authoritative for ${opts.zone} (AA=0)`};
	if (r.rcode === 'NXDOMAIN') return {state: 'missing', detail: 'NXDOMAIN: the name does not exist'};
	const atName = r.answers.filter((a) => normName(a.name) === record.name);
	const cname = atName.find((a) => a.type === 'CNAME');
	if (cname && record.type !== 'CNAME') {
		return {state: 'wrong', detail: `a CNAME (to ${normName(dataString(cname))}.) is where the ${record.type} record belongs: replace it`, ttl: ttlOf(cname)};
	}
	const verdict = compareRecord(record, atName);
	const found = atName.find((a) => a.type === record.type);
	const ttl = found && ttlOf(found);
	return {...verdict, ...(ttl === undefined ? {} : {ttl})};
}

// ---------------------------------------------------------------------------------------
// Asking

export type Outcome = {readonly response: DnsResponse} | {readonly error: QueryError};

type Ctx = {readonly timeoutMs?: number; readonly tries?: number; readonly signal?: AbortSignal};

function ctxOf(o: CheckOptions): Ctx {
	return {timeoutMs: o.timeoutMs, tries: o.retries, signal: o.signal};
}

/** One question; a QueryError becomes an outcome, an abort rejects. */
async function ask(server: Server, name: string, type: RecordType, rd: boolean, ctx: Ctx): Promise<Outcome> {
	const options: QueryOptions = {rd, timeoutMs: ctx.timeoutMs, tries: ctx.tries, signal: ctx.signal};
	try {
		return {response: await query(server, name, type, options)};
	} catch (error) {
		if (error instanceof QueryError) return {error};
		throw error;
	}
}

/** Asks the resolvers in turn until one gives a usable answer (not SERVFAIL/REFUSED, no timeout). */
async function resolve(resolvers: readonly Server[], name: string, type: RecordType, ctx: Ctx): Promise<DnsResponse> {
	const failures: string[] = [];
	for (const server of resolvers) {
		const o = await ask(server, name, type, true, ctx);
		if ('error' in o) failures.push(o.error.message);
		else if (o.response.rcode === 'NOERROR' || o.response.rcode === 'NXDOMAIN') return o.response;
		else failures.push(`${formatServer(server)}: answered ${o.response.rcode}`);
	}
	throw new Error(`cannot look up ${name} ${type}: ${failures.join('; ')}`);
}

/** The zone apex holding `name`: the closest enclosing name with an SOA, via the resolvers. */
export async function findZoneApex(name: string, resolvers: readonly Server[], ctx: Ctx): Promise<string> {
	const labels = normName(name).split('.');
	for (let i = 0; i < labels.length; i++) {
		const candidate = labels.slice(i).join('.');
		const r = await resolve(resolvers, candidate, 'SOA', ctx);
		if (r.answers.some((a) => a.type === 'CNAME' && normName(a.name) === candidate)) continue;
		if (r.answers.some((a) => a.type === 'SOA' && normName(a.name) === candidate)) return candidate;
		// NXDOMAIN/NODATA carry the enclosing zone's SOA in the authority section.
		const soa = r.authorities.find((a) => a.type === 'SOA');
		if (soa) {
			const apex = normName(soa.name);
			if (candidate === apex || candidate.endsWith(`.${apex}`)) return apex;
		}
	}
	throw new Error(`no zone found for ${name}: no SOA record at it or above it`);
}

type AuthServer = {readonly ns: string; readonly server: Server; readonly label: string};

/** The zone's NS names and their addresses (A and AAAA), via the resolvers. */
async function authServers(apex: string, nsAnswer: Promise<DnsResponse>, resolvers: readonly Server[], port: number, ctx: Ctx): Promise<{servers: AuthServer[]; problems: string[]}> {
	const r = await nsAnswer;
	const names = [...new Set(r.answers.filter((a) => a.type === 'NS' && normName(a.name) === apex).map((a) => normName(dataString(a))))].sort();
	if (names.length === 0) throw new Error(`${apex} has no NS records`);
	const problems: string[] = [];
	const lookups = await Promise.all(
		names.flatMap((ns) =>
			(['A', 'AAAA'] as const).map(async (type) => {
				try {
					const a = await resolve(resolvers, ns, type, ctx);
					return a.answers.filter((x) => x.type === type).map((x) => ({ns, host: dataString(x)}));
				} catch (error) {
					if (ctx.signal?.aborted || !(error instanceof Error)) throw error;
					problems.push(error.message);
					return [];
				}
			}),
		),
	);
	const servers = lookups.flat().map(({ns, host}) => {
		const server = {host, port};
		return {ns, server, label: `${ns} (${formatServer(server)})`};
	});
	for (const ns of names) if (!servers.some((s) => s.ns === ns)) problems.push(`name server ${ns} has no address (A/AAAA): it cannot be asked`);
	return {servers, problems};
}

/** Network errors meaning "this host cannot reach that address family at all", not "the server is down". */
const NO_ROUTE = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT']);

type SoaView = {serial: number; negativeTtl: number};

/** Reads each server's SOA answer: serial and negative TTL, or why the server is lame or down. */
function soaView(s: AuthServer, o: Outcome, apex: string): SoaView | {problem: string; skip?: boolean} {
	if ('error' in o) {
		if (o.error.errno && NO_ROUTE.has(o.error.errno)) return {problem: `${s.label} not checked: no route to it from this host (${o.error.errno})`, skip: true};
		return {problem: `${s.label} does not answer: ${o.error.message}`};
	}
	const r = o.response;
	if (r.rcode !== 'NOERROR') return {problem: `${s.label} is lame: it answers ${r.rcode} for ${apex} (it does not serve the zone)`};
	if (!r.aa) return {problem: `${s.label} is lame: not authoritative for ${apex} (AA=0)`};
	const soa = r.answers.find((a) => a.type === 'SOA' && normName(a.name) === apex);
	if (!soa || soa.type !== 'SOA') return {problem: `${s.label} gave no SOA record for ${apex}`};
	return {serial: soa.data.serial ?? 0, negativeTtl: Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0)};
}

function overall(results: readonly ServerResult[]): RecordState {
	if (results.length === 0) return 'unreachable';
	if (results.every((r) => r.state === 'ok')) return 'ok';
	for (const s of ['wrong', 'missing', 'unreachable'] as const) if (results.some((r) => r.state === s)) return s;
	return 'unreachable';
}

function unreachableReport(zone: string, records: readonly ExpectedRecord[], elsewhere: readonly RecordCheck[], why: string, started: number): CheckReport {
	return {
		zone,
		servers: [],
		checks: [...records.map((record): RecordCheck => ({record, results: [], state: 'unreachable'})), ...elsewhere],
		complete: false,
		problems: [why],
		durationMs: Math.round(performance.now() - started),
	};
}

/** Checks records through resolvers (RD=1, AA not required): PTRs, and the post-check. */
async function viaResolvers(records: readonly ExpectedRecord[], resolvers: readonly Server[], ctx: Ctx): Promise<RecordCheck[]> {
	return Promise.all(
		records.map(async (record) => {
			const results = await Promise.all(
				resolvers.map(async (server) => {
					const outcome = await ask(server, record.name, record.type, true, ctx);
					return {server: `resolver ${formatServer(server)}`, ...judge(record, outcome, {authoritative: false, zone: record.zone})};
				}),
			);
			return {record, results, state: overall(results)};
		}),
	);
}

/** One zone: apex, NS addresses, then every record on every server at once. */
async function checkZone(zoneHint: string, records: readonly ExpectedRecord[], o: CheckOptions, resolvers: readonly Server[]): Promise<CheckReport> {
	const started = performance.now();
	const ctx = ctxOf(o);
	const publishable = records.filter((r) => r.publishable);
	// Records for someone else's zone (PTR): through the resolvers, alongside the rest.
	const others = viaResolvers(
		records.filter((r) => !r.publishable),
		resolvers,
		ctx,
	);
	if (publishable.length === 0) return {zone: zoneHint, servers: [], checks: await others, complete: true, problems: [], durationMs: Math.round(performance.now() - started)};

	let apex: string;
	let servers: AuthServer[];
	const problems: string[] = [];
	try {
		// The NS question goes out with the first SOA one: the hint is usually the apex.
		const guess = resolve(resolvers, zoneHint, 'NS', ctx);
		guess.catch(() => {});
		apex = await findZoneApex(zoneHint, resolvers, ctx);
		const nsAnswer = apex === normName(zoneHint) ? guess : resolve(resolvers, apex, 'NS', ctx);
		const found = await authServers(apex, nsAnswer, resolvers, o.authPort ?? 53, ctx);
		servers = found.servers;
		problems.push(...found.problems);
	} catch (error) {
		if (o.signal?.aborted || !(error instanceof Error)) throw error;
		return unreachableReport(zoneHint, publishable, await others, error.message, started);
	}
	if (servers.length === 0) return unreachableReport(apex, publishable, await others, `no name server of ${apex} can be asked: ${problems.join('; ')}`, started);

	// Every question to every server at once: SOA (serial, lameness) and each record.
	const [soas, answers] = await Promise.all([
		Promise.all(servers.map((s) => ask(s.server, apex, 'SOA', false, ctx))),
		Promise.all(publishable.map((r) => Promise.all(servers.map((s) => ask(s.server, r.name, r.type, false, ctx))))),
	]);

	const views = servers.map((s, i) => soaView(s, soas[i]!, apex));
	const kept = servers.map((_, i) => i).filter((i) => !('skip' in views[i]! && views[i]!.skip));
	for (const v of views) if ('problem' in v) problems.push(v.problem);
	const soaOk = kept.flatMap((i) => {
		const v = views[i]!;
		return 'serial' in v ? [{label: servers[i]!.label, ...v}] : [];
	});
	if (new Set(soaOk.map((s) => s.serial)).size > 1) {
		problems.push(`serials differ: ${soaOk.map((s) => `${s.label} has ${s.serial}`).join(', ')} (not every server has loaded the latest zone yet)`);
	}
	if (kept.length === 0) return unreachableReport(apex, publishable, await others, problems.join('; '), started);

	const checks: RecordCheck[] = publishable.map((record, ri) => {
		const results = kept.map((i) => ({server: servers[i]!.label, ...judge(record, answers[ri]![i]!, {authoritative: true, zone: apex})}));
		return {record, results, state: overall(results)};
	});
	const negative = soaOk.map((s) => s.negativeTtl);
	return {
		zone: apex,
		servers: kept.map((i) => servers[i]!.label),
		checks: [...checks, ...(await others)],
		complete: checks.every((c) => c.state === 'ok'),
		...(negative.length > 0 ? {negativeTtl: Math.min(...negative)} : {}),
		problems,
		durationMs: Math.round(performance.now() - started),
	};
}

export function parseResolvers(specs: readonly string[]): Server[] {
	if (specs.length === 0) throw new Error('no DNS resolver given: at least one is needed to find the zone and its name servers');
	return specs.map((s) => parseServer(s));
}

/** Merges per-zone reports into one. */
export function mergeReports(reports: readonly CheckReport[], durationMs: number): CheckReport {
	if (reports.length === 1) return {...reports[0]!, durationMs};
	const negatives = reports.flatMap((r) => (r.negativeTtl === undefined ? [] : [r.negativeTtl]));
	return {
		zone: reports.map((r) => r.zone).join(', '),
		servers: [...new Set(reports.flatMap((r) => r.servers))],
		checks: reports.flatMap((r) => r.checks),
		complete: reports.every((r) => r.complete),
		...(negatives.length > 0 ? {negativeTtl: Math.max(...negatives)} : {}),
		problems: reports.flatMap((r) => r.problems),
		durationMs,
	};
}

/**
 * The report with everything the DNS told (found values, names of servers, errors) made
 * printable: a TXT record holding ESC[2J must not clear the operator's screen.
 */
export function printableReport(report: CheckReport): CheckReport {
	const result = (r: ServerResult): ServerResult => ({...r, server: printable(r.server), ...(r.detail === undefined ? {} : {detail: printable(r.detail)})});
	return {
		...report,
		servers: report.servers.map(printable),
		checks: report.checks.map((c) => ({...c, results: c.results.map(result)})),
		problems: report.problems.map(printable),
	};
}

function byZone(records: readonly ExpectedRecord[]): Map<string, ExpectedRecord[]> {
	const zones = new Map<string, ExpectedRecord[]>();
	for (const r of records) zones.set(r.zone, [...(zones.get(r.zone) ?? []), r]);
	return zones;
}

/**
 * Checks every publishable record on every authoritative server of its zone (records
 * of several zones are checked zone by zone, in parallel). Records for someone else
 * (PTR) are looked up through the resolvers. Never hangs: every question has a
 * deadline. DNS failures become "unreachable" results and problems, not exceptions;
 * it rejects only on an abort or an invalid resolver address.
 */
export async function checkRecords(records: readonly ExpectedRecord[], options: CheckOptions): Promise<CheckReport> {
	const started = performance.now();
	const resolvers = parseResolvers(options.resolvers);
	const zones = [...byZone(records)];
	const reports = await Promise.all(zones.map(([zone, rs]) => checkZone(zone, rs, options, resolvers)));
	if (reports.length === 0) return {zone: '', servers: [], checks: [], complete: true, problems: [], durationMs: 0};
	return printableReport(mergeReports(reports, Math.round(performance.now() - started)));
}

/** Asks recursive resolvers for every record (after the authoritative servers agree). */
export async function checkViaResolvers(records: readonly ExpectedRecord[], resolvers: readonly string[], options: Omit<CheckOptions, 'resolvers'> = {}): Promise<CheckReport> {
	const started = performance.now();
	const servers = parseResolvers(resolvers);
	const checks = await viaResolvers(records, servers, ctxOf({...options, resolvers}));
	return printableReport({
		zone: [...byZone(records).keys()].join(', '),
		servers: servers.map((s) => `resolver ${formatServer(s)}`),
		checks,
		complete: checks.filter((c) => c.record.publishable).every((c) => c.state === 'ok'),
		problems: [],
		durationMs: Math.round(performance.now() - started),
	});
}
