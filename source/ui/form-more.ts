// The wizard's optional answers, kept in the answers file form (the form's `extra`) just as
// an answers file writes them: aliases, catch-all, extra domains, MTA-STS, TLS reports,
// removing another MTA, client autoconfig. Each is typed as one line; these functions turn
// that line into the file form's value and back. validateAnswers stays the judge of the
// values; only the line's syntax is checked here.
import {AnswersError} from '../answers.ts';

/** The optional section (the review's "More options"), in the order it is asked. */
export const MORE = ['aliases', 'catchAll', 'extraDomains', 'mtaSts', 'tlsrpt', 'removeMta', 'greylisting', 'bans', 'ignore'] as const;
export type MoreId = (typeof MORE)[number] | 'autoconfig';

const FILE_KEY: Record<MoreId, string> = {
	aliases: 'aliases',
	catchAll: 'catch_all',
	extraDomains: 'extra_domains',
	mtaSts: 'mta_sts',
	tlsrpt: 'tlsrpt',
	removeMta: 'remove_mta',
	autoconfig: 'autoconfig',
	greylisting: 'greylisting',
	bans: 'bans',
	ignore: 'ignore',
};

export function isMore(id: string): id is MoreId {
	return id in FILE_KEY;
}

/** The question an AnswersError key (aliases.sales, extra_domains[1] ...) belongs to. */
export function moreOfKey(key: string): MoreId | undefined {
	return (Object.keys(FILE_KEY) as MoreId[]).find((id) => {
		const k = FILE_KEY[id];
		return key === k || key.startsWith(`${k}.`) || key.startsWith(`${k}[`);
	});
}

export type MoreSpec = {readonly label: string; readonly hint: string; readonly optional: true};

export function moreSpec(id: MoreId, domain: string, firstUser: string): MoreSpec {
	const d = domain || 'example.com';
	const u = firstUser || 'the first user';
	const specs: Record<MoreId, [string, string]> = {
		aliases: ['Aliases', `LOCAL: TARGET, TARGET; … e.g. "sales: alice, bob; info: alice" (a target: a user or a full address). postmaster and abuse go to ${u} unless given here`],
		catchAll: ['Catch-all user', `optional: a user who gets the mail for every unknown address @${d} (it also gets the spam sent to guessed names); empty for none`],
		extraDomains: ['Extra mail domains', 'optional: more domains this server receives mail for, e.g. "example.org example.net" (each user and alias gets an address there too); empty for none'],
		mtaSts: ['MTA-STS', 'optional: testing, enforce or none: asks senders to insist on TLS to this server (start with testing; the policy is served over HTTPS, best with ACME); empty: not published'],
		tlsrpt: ['TLS reports to', `optional: an address for SMTP TLS reports (TLS-RPT), e.g. postmaster@${d}; empty for none`],
		removeMta: ['Remove another MTA', 'yes lets mailwizard remove exim4 or postfix if one holds port 25; no: preflight stops and says which one it is'],
		greylisting: ['Greylisting', 'yes delays the first mail of every new sender by some minutes (Rspamd answers 451, real servers retry); no (default) takes it at once'],
		bans: ['Ban password guessers', 'MAX in WINDOW, ban BAN, e.g. "10 in 10m, ban 1h" (the default; fail2ban on 25, 465, 587, 993), or "off"'],
		ignore: ['Never banned', 'optional: addresses or networks fail2ban never bans, e.g. "203.0.113.7 198.51.100.0/24" (localhost and this server are never banned); empty for none'],
		autoconfig: ['Client autoconfig', `yes serves https://autoconfig.${d}/ so that Thunderbird and other clients set themselves up (with ACME only)`],
	};
	const [label, hint] = specs[id];
	return {label, hint, optional: true};
}

/** What the question starts with when nothing is saved: the defaults the answers apply anyway. */
export function moreDefault(id: MoreId, firstUser: string): string {
	if (id === 'aliases') return firstUser ? `postmaster: ${firstUser}; abuse: ${firstUser}` : '';
	if (id === 'removeMta') return 'no';
	if (id === 'autoconfig') return 'yes';
	if (id === 'greylisting') return 'no';
	if (id === 'bans') return '10 in 10m, ban 1h';
	return '';
}

function list(v: unknown): string[] {
	return Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)];
}

function field(v: unknown, key: string): string {
	const x = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
	return typeof x === 'string' ? x : '';
}

/** The saved value as the line the question shows. */
export function moreText(id: MoreId, extra: Readonly<Record<string, unknown>>): string {
	const v = extra[FILE_KEY[id]];
	if (v === undefined) return '';
	switch (id) {
		case 'aliases':
			return Object.entries(v as Record<string, unknown>)
				.map(([k, t]) => `${k}: ${list(t).join(', ')}`)
				.join('; ');
		case 'extraDomains':
		case 'ignore':
			return list(v).join(' ');
		case 'bans':
			return bansText(v);
		case 'mtaSts':
			return field(v, 'mode') || 'testing';
		case 'tlsrpt':
			return field(v, 'rua');
		case 'removeMta':
		case 'autoconfig':
		case 'greylisting':
			return v === true ? 'yes' : 'no';
		default:
			return String(v);
	}
}

function yesNo(text: string, key: string): boolean | undefined {
	if (/^y(es)?$/i.test(text)) return true;
	if (/^no?$/i.test(text)) return false;
	if (!text) return undefined;
	throw new AnswersError(key, 'answer yes or no');
}

function aliasMap(text: string): Record<string, string[]> | undefined {
	const out: Record<string, string[]> = {};
	for (const part of text.split(';').map((p) => p.trim())) {
		if (!part) continue;
		const colon = part.indexOf(':');
		const local = part.slice(0, colon).trim().toLowerCase();
		const targets = part
			.slice(colon + 1)
			.split(/[\s,]+/)
			.filter(Boolean);
		if (colon < 1 || !local || !targets.length) throw new AnswersError('aliases', `"${part.slice(0, 60)}" is not "LOCAL: TARGET, TARGET" (aliases are separated by ;)`);
		out[local] = [...(out[local] ?? []), ...targets];
	}
	return Object.keys(out).length ? out : undefined;
}

/** bans as its line: "10 in 10m, ban 1h", or "off". */
function bansText(v: unknown): string {
	if (v === false) return 'off';
	const m = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
	return `${String(m.max_failures ?? 10)} in ${String(m.window ?? '10m')}, ban ${String(m.ban ?? '1h')}`;
}

/** The bans line as the file form (the default: left out); validateAnswers judges the numbers. */
function bansValue(text: string): unknown {
	if (!text) return undefined;
	if (/^(off|no|false|none)$/i.test(text)) return false;
	const m = /^(\d+)\s+in\s+(\w+)\s*,?\s*ban\s+(\w+)$/i.exec(text);
	if (!m) throw new AnswersError('bans', `"${text.slice(0, 60)}" is not "MAX in WINDOW, ban BAN" (like "10 in 10m, ban 1h") or "off"`);
	const window = /^\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!.toLowerCase();
	const ban = /^\d+$/.test(m[3]!) ? Number(m[3]) : m[3]!.toLowerCase();
	if (Number(m[1]) === 10 && window === '10m' && ban === '1h') return undefined;
	return {max_failures: Number(m[1]), window, ban};
}

/** The line as the file form's value (undefined: the key is left out). Throws AnswersError on a bad line. */
export function moreValue(id: MoreId, line: string): unknown {
	const text = line.trim();
	switch (id) {
		case 'aliases':
			return aliasMap(text);
		case 'catchAll':
			return text ? text.toLowerCase() : undefined;
		case 'extraDomains': {
			const ds = text.split(/[\s,]+/).filter(Boolean);
			return ds.length ? ds.map((d) => d.toLowerCase().replace(/\.$/, '')) : undefined;
		}
		case 'mtaSts':
			return text ? {mode: text.toLowerCase()} : undefined;
		case 'tlsrpt':
			return text ? {rua: text.toLowerCase()} : undefined;
		case 'removeMta':
			// false is the default: left out, as an answers file would.
			return yesNo(text, FILE_KEY[id]) || undefined;
		case 'autoconfig':
			// On by default with ACME: only "no" is written.
			return yesNo(text, FILE_KEY[id]) === false ? false : undefined;
		case 'greylisting':
			return yesNo(text, FILE_KEY[id]) || undefined;
		case 'bans':
			return bansValue(text);
		case 'ignore': {
			const xs = text.split(/[\s,]+/).filter(Boolean);
			return xs.length ? xs : undefined;
		}
	}
}

/** The file form with this answer set (or its key removed). */
export function withMore(id: MoreId, extra: Readonly<Record<string, unknown>>, line: string): Record<string, unknown> {
	const next: Record<string, unknown> = {...extra};
	const v = moreValue(id, line);
	if (v === undefined) delete next[FILE_KEY[id]];
	else next[FILE_KEY[id]] = v;
	return next;
}

/** One line for the review: what the optional section holds now. */
export function moreSummary(extra: Readonly<Record<string, unknown>>): string {
	const aliases = moreText('aliases', extra);
	const parts = [
		`aliases: ${aliases ? Object.keys(extra.aliases as object).join(', ') : 'postmaster, abuse'}`,
		`catch-all: ${moreText('catchAll', extra) || 'none'}`,
		`extra domains: ${moreText('extraDomains', extra) || 'none'}`,
		`MTA-STS: ${moreText('mtaSts', extra) || 'off'}`,
		`TLS reports: ${moreText('tlsrpt', extra) || 'none'}`,
	];
	if (extra.remove_mta === true) parts.push('removes another MTA');
	// The defence's answers only when they differ from the defaults (no greylisting, 10 in 10m, ban 1h).
	if (extra.greylisting === true) parts.push('greylisting on');
	if (extra.bans !== undefined) parts.push(`bans: ${moreText('bans', extra)}`);
	if (moreText('ignore', extra)) parts.push(`never banned: ${moreText('ignore', extra)}`);
	return parts.join(' · ');
}
