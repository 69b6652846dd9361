// SPF's DNS-lookup count through the include/redirect chain (RFC 7208 4.6.4: a receiver
// evaluating SPF stops after 10 lookups with a permerror, and the mail then fails SPF). The
// record itself is compared on the authoritative servers by the DNS rows; this row follows
// what a receiver follows, through the resolvers, and counts.
import {spfTerms} from '../dns/check.ts';
import {normName, parseServer, query, QueryError, txtJoined} from '../dns/client.ts';
import {printable} from '../text/safe.ts';
import type {Row} from './row.ts';

export const SPF_LOOKUP_LIMIT = 10;
/** Past this many lookups the walk stops following: the verdict is already a failure. */
const WALK_CAP = 30;

/** The TXT values at a name; null for NXDOMAIN; throws on a DNS failure (no answer, SERVFAIL). */
export type TxtLookup = (name: string) => Promise<readonly string[] | null>;

/** One record on the chain: its name and the lookups its own terms cost. */
export type SpfLink = {readonly name: string; readonly lookups: number};

export type SpfWalk =
	| {readonly state: 'ok' | 'over'; readonly total: number; readonly chain: readonly SpfLink[]}
	| {readonly state: 'broken'; readonly total: number; readonly chain: readonly SpfLink[]; readonly problem: string}
	| {readonly state: 'dns'; readonly chain: readonly SpfLink[]; readonly problem: string};

const COSTS = /^[+\-~?]?(include|a|mx|ptr|exists)(?=$|[:/])|^redirect=/;

/** The next names to follow in a record's terms: include targets in order, then redirect (ignored when there is an "all"). */
function targets(terms: readonly string[]): {includes: string[]; redirect?: string} {
	const includes = terms.flatMap((t) => {
		const m = /^[+\-~?]include:(.+)$/.exec(t);
		return m ? [m[1]!] : [];
	});
	const hasAll = terms.some((t) => /^[+\-~?]all$/.test(t));
	const redirect = hasAll ? undefined : terms.find((t) => t.startsWith('redirect='))?.slice('redirect='.length);
	return {includes, redirect};
}

/** path: the names being followed now (a name met again on its own path is a loop; twice elsewhere is counted twice, as receivers do). */
type Walker = {total: number; chain: SpfLink[]; path: Set<string>; problem?: string};

async function visit(w: Walker, name: string, lookup: TxtLookup): Promise<void> {
	if (w.problem || w.total > WALK_CAP) return;
	const key = normName(name);
	if (w.path.has(key)) return void (w.problem = `${key} includes itself (a loop)`);
	w.path.add(key);
	const values = await lookup(key);
	const spf = (values ?? []).filter((v) => /^v=spf1(\s|$)/i.test(v));
	if (spf.length !== 1) return void (w.problem = `${key} has ${spf.length === 0 ? (values === null ? 'no such name' : 'no SPF record') : `${spf.length} SPF records`}: receivers give a permerror`);
	const terms = spfTerms(spf[0]!);
	const own = terms.filter((t) => COSTS.test(t)).length;
	w.total += own;
	w.chain.push({name: key, lookups: own});
	const next = targets(terms);
	for (const t of [...next.includes, ...(next.redirect ? [next.redirect] : [])]) {
		// A macro (%{i}...) is expanded per message: counted above, not followed.
		if (!t.includes('%')) await visit(w, t, lookup);
	}
	w.path.delete(key);
}

/** Follows the domain's SPF through include: and redirect=, counting every lookup. */
export async function walkSpf(domain: string, lookup: TxtLookup): Promise<SpfWalk> {
	const w: Walker = {total: 0, chain: [], path: new Set()};
	try {
		await visit(w, domain, lookup);
	} catch (error) {
		return {state: 'dns', chain: w.chain, problem: printable((error as Error).message)};
	}
	if (w.problem) return {state: 'broken', total: w.total, chain: w.chain, problem: printable(w.problem)};
	return {state: w.total > SPF_LOOKUP_LIMIT ? 'over' : 'ok', total: w.total, chain: w.chain};
}

function chainText(chain: readonly SpfLink[]): string {
	return chain.map((l) => `${l.name} (${l.lookups})`).join(' -> ');
}

export function spfRow(domain: string, walk: SpfWalk): Row {
	const id = `spf:lookups:${domain}`;
	const chain = chainText(walk.chain);
	if (walk.state === 'dns') return {id, area: 'dns', status: 'unknown', detail: `DNS failure, no verdict: ${walk.problem}`, fix: 'check that the resolvers answer (--resolver)', who: 'admin'};
	if (walk.state === 'broken') return {id, area: 'dns', status: 'fail', detail: `${walk.problem}; chain: ${chain}`, fix: 'fix or remove that include: in the SPF record', who: 'dns'};
	if (walk.state === 'over')
		return {
			id,
			area: 'dns',
			status: 'fail',
			detail: `SPF needs ${walk.total} DNS lookups, over the limit of ${SPF_LOOKUP_LIMIT}: receivers give a permerror and the mail fails SPF; chain: ${chain}`,
			fix: `remove include: terms (or replace them with ip4:/ip6:) until the chain needs ${SPF_LOOKUP_LIMIT} lookups or fewer`,
			who: 'dns',
		};
	return {id, area: 'dns', status: 'ok', detail: `SPF needs ${walk.total} of ${SPF_LOOKUP_LIMIT} DNS lookups: ${chain}`};
}

/** TXT lookups through the resolvers (RD=1), each one tried in turn until one answers. */
export function resolverTxt(resolvers: readonly string[], timeoutMs = 2000): TxtLookup {
	const servers = resolvers.map((s) => parseServer(s));
	return async (name) => {
		const failures: string[] = [];
		for (const server of servers) {
			try {
				const r = await query(server, name, 'TXT', {rd: true, timeoutMs, tries: 1});
				if (r.rcode === 'NXDOMAIN') return null;
				if (r.rcode === 'NOERROR') return r.answers.filter((a) => a.type === 'TXT' && normName(a.name) === normName(name)).map(txtJoined);
				failures.push(`${server.host}: ${r.rcode}`);
			} catch (error) {
				if (!(error instanceof QueryError)) throw error;
				failures.push(error.message);
			}
		}
		throw new Error(`cannot look up ${name} TXT: ${failures.join('; ') || 'no resolver'}`);
	};
}

/** One row per mail domain. */
export async function spfRows(domains: readonly string[], lookup: TxtLookup): Promise<Row[]> {
	return Promise.all(domains.map(async (d) => spfRow(d, await walkSpf(d, lookup))));
}
