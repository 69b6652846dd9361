// validateAnswers: the one mapping from the file form (parsed YAML/JSON, the state, the
// wizard's form) to Answers, one function per section. Shape only: no file is read here.
import {isSpecialAddress} from '../platform/addresses.ts';
import {validateAliases, type AliasMap} from './aliases.ts';
import {livePaths, validateAutoconfig, validateTls} from './acme.ts';
import {SELECTOR, address, clip, domainAt, has, ipv4At, ipv6At, obj, oneOf, str} from './fields.ts';
import {AnswersError, FILE_KEYS, type Answers, type DmarcPolicy, type LoadOptions, type MtaStsMode} from './types.ts';
import {validateUsers} from './users.ts';
import {validateBans, validateGreylisting, validateIgnore} from './defence.ts';

function checkKeys(r: Record<string, unknown>): void {
	for (const k of Object.keys(r)) if (!FILE_KEYS.includes(k)) throw new AnswersError(k, `unknown key (known: ${FILE_KEYS.join(', ')})`);
}

/**
 * The host's IPv4 address as the default for a public record, only when it is public: a
 * private one (NAT) is never filled in silently. With an IPv6 address, none is filled in.
 */
function publicDefault(found: (() => string | undefined) | undefined, ipv6: string | undefined): string | undefined {
	const ip = found?.();
	if (ip === undefined || !isSpecialAddress(ip)) return ip;
	if (ipv6 !== undefined) return undefined;
	throw new AnswersError(
		'ipv4',
		`is not given, and the only IPv4 address on this host, ${ip}, is private (behind NAT?): other mail servers cannot reach it. Give the public address in the answers (ipv4: ...)`,
	);
}

function host(r: Record<string, unknown>, options: LoadOptions): Pick<Answers, 'domain' | 'hostname' | 'ipv4' | 'ipv6' | 'tls' | 'autoconfig'> {
	const domain = domainAt(r.domain, 'domain');
	// hostname === domain is allowed (the guide's MX example.com.), though a separate name keeps the apex free for the web.
	const hostname = domainAt(r.hostname, 'hostname', 'mail.example.com');
	const ipv6 = ipv6At(r.ipv6);
	const ipv4 = ipv4At(r.ipv4, () => publicDefault(options.defaultIpv4, ipv6));
	if (ipv4 === undefined && ipv6 === undefined) throw new AnswersError('ipv4', 'is required (no public address was found on this host)');
	const t = validateTls(r.tls);
	const autoconfig = validateAutoconfig(r.autoconfig, t);
	if (t.kind === 'files') return {domain, hostname, ipv4, ipv6, tls: {cert: t.cert, key: t.key}, autoconfig};
	const acme = {email: t.email, directory: t.directory, ...(t.caBundle ? {caBundle: t.caBundle} : {})};
	return {domain, hostname, ipv4, ipv6, tls: {...livePaths(hostname), acme}, autoconfig};
}

function extraDomains(v: unknown, domain: string): string[] {
	if (v === undefined) return [];
	if (!Array.isArray(v)) throw new AnswersError('extra_domains', 'must be a list of domains');
	const out: string[] = [];
	v.forEach((d, i) => {
		const name = domainAt(d, `extra_domains[${i}]`);
		if (name === domain || out.includes(name)) throw new AnswersError(`extra_domains[${i}]`, `"${name}" is listed twice`);
		out.push(name);
	});
	return out;
}

type Policies = Pick<Answers, 'catchAll' | 'dkim' | 'dmarc' | 'mtaSts' | 'tlsrpt' | 'removeMta'>;

function policies(r: Record<string, unknown>, users: readonly string[]): Policies {
	const catchAll = str(r.catch_all, 'catch_all', false)?.trim().toLowerCase();
	if (catchAll !== undefined && !users.includes(catchAll)) throw new AnswersError('catch_all', `"${clip(catchAll)}" is not one of the users (${users.join(', ')})`);
	const dkim = obj(r.dkim, 'dkim', ['selector']);
	const selector = (str(dkim.selector, 'dkim.selector', false) ?? 'mail').trim().toLowerCase();
	if (!SELECTOR.test(selector)) throw new AnswersError('dkim.selector', `"${clip(selector)}" is not a valid selector (letters, digits, hyphens; at most 63)`);
	const dmarc = obj(r.dmarc, 'dmarc', ['policy', 'rua', 'ruf']);
	const policy = oneOf<DmarcPolicy>(dmarc.policy, 'dmarc.policy', ['none', 'quarantine', 'reject'], 'reject');
	const rua = dmarc.rua === undefined ? undefined : address(dmarc.rua, 'dmarc.rua');
	const ruf = dmarc.ruf === undefined ? undefined : address(dmarc.ruf, 'dmarc.ruf');
	const mtaSts = r.mta_sts === undefined ? undefined : {mode: oneOf<MtaStsMode>(obj(r.mta_sts, 'mta_sts', ['mode']).mode, 'mta_sts.mode', ['testing', 'enforce', 'none'], 'testing')};
	const tlsrpt = r.tlsrpt === undefined ? undefined : {rua: address(obj(r.tlsrpt, 'tlsrpt', ['rua']).rua, 'tlsrpt.rua')};
	const removeMta = r.remove_mta ?? false;
	if (typeof removeMta !== 'boolean') throw new AnswersError('remove_mta', 'must be true or false');
	return {catchAll, dkim: {selector}, dmarc: {policy, rua, ruf}, mtaSts, tlsrpt, removeMta};
}

/** Addresses the wizard publishes in DNS must be deliverable when they are ours. */
function checkDeliverable(p: Policies, users: readonly string[], aliases: AliasMap, ownDomains: ReadonlySet<string>): void {
	const check = (a: string | undefined, key: string): void => {
		if (a === undefined) return;
		const [lp, dom] = a.split('@') as [string, string];
		if (!ownDomains.has(dom) || p.catchAll !== undefined) return;
		if (!users.includes(lp) && !has(aliases, lp)) throw new AnswersError(key, `${a} is published in DNS but is neither a user nor an alias: add "${lp}" under aliases`);
	};
	check(p.dmarc.rua, 'dmarc.rua');
	check(p.dmarc.ruf, 'dmarc.ruf');
	check(p.tlsrpt?.rua, 'tlsrpt.rua');
}

/** Validates answers in the file form (parsed YAML/JSON, the state, the wizard's form) into Answers. */
export function validateAnswers(raw: unknown, options: LoadOptions = {}): Answers {
	const r = obj(raw, '(answers)');
	checkKeys(r);
	const h = host(r, options);
	const users = validateUsers(r.users, h.domain, options);
	const names = users.map((u) => u.name);
	const extra = extraDomains(r.extra_domains, h.domain);
	const ownDomains = new Set([h.domain, ...extra]);
	const aliases = validateAliases(r.aliases, names, ownDomains);
	const p = policies(r, names);
	checkDeliverable(p, names, aliases, ownDomains);
	return {
		...h,
		users,
		aliases,
		catchAll: p.catchAll,
		dkim: p.dkim,
		dmarc: p.dmarc,
		extraDomains: extra,
		mtaSts: p.mtaSts,
		tlsrpt: p.tlsrpt,
		removeMta: p.removeMta,
		greylisting: validateGreylisting(r.greylisting),
		bans: validateBans(r.bans),
		ignore: validateIgnore(r.ignore),
	};
}
