// The answers of the inbound defence (issue 18):
//
//   greylisting: true|false                       default false (it delays every new sender's first mail)
//   bans: {max_failures: 10, window: 10m, ban: 1h} or false   fail2ban; each key optional
//   ignore: [203.0.113.7, 198.51.100.0/24]        never banned (besides localhost and the server's own)
//
// A duration is whole seconds (600) or a number with s, m, h, d or w (10m); fail2ban reads both.
import {isIP} from 'node:net';
import {AnswersError, type BanAnswers} from './types.ts';

/** Issue 18's defaults: 10 failures in 10 minutes ban an address for an hour. */
export const DEFAULT_BAN_ANSWERS: BanAnswers = {maxFailures: 10, window: '10m', ban: '1h'};

const DURATION = /^([1-9][0-9]{0,7})(s|m|h|d|w)?$/;
const SECONDS: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86_400, w: 604_800};

/** A duration's length in seconds (0: not a duration). */
export function durationSeconds(d: string): number {
	const m = DURATION.exec(d);
	return m ? Number(m[1]) * SECONDS[m[2] ?? 's']! : 0;
}

function duration(v: unknown, key: string, fallback: string): string {
	if (v === undefined || v === null) return fallback;
	if (typeof v === 'number') {
		if (!Number.isInteger(v) || v < 1 || v > 31_536_000) throw new AnswersError(key, `must be a whole number of seconds from 1 to 31536000 (a year), or like 10m, 1h, 1d; got ${v}`);
		return String(v);
	}
	if (typeof v !== 'string') throw new AnswersError(key, 'must be a duration: seconds (600) or a number with s, m, h, d or w (10m, 1h)');
	const s = v.trim().toLowerCase();
	if (!DURATION.test(s)) throw new AnswersError(key, `"${s.slice(0, 40)}" is not a duration: seconds (600) or a number with s, m, h, d or w (10m, 1h)`);
	if (durationSeconds(s) > 31_536_000) throw new AnswersError(key, 'is longer than a year');
	return s;
}

function count(v: unknown, key: string, fallback: number): number {
	if (v === undefined || v === null) return fallback;
	if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1000) throw new AnswersError(key, `must be a whole number from 1 to 1000, got ${JSON.stringify(v)?.slice(0, 40)}`);
	return v;
}

/** `bans`: false (off), or the mapping with defaults for what it leaves out. Absent: the defaults. */
export function validateBans(v: unknown): BanAnswers | false {
	if (v === undefined || v === null || v === true) return DEFAULT_BAN_ANSWERS;
	if (v === false) return false;
	if (typeof v !== 'object' || Array.isArray(v)) throw new AnswersError('bans', 'must be false or a mapping {max_failures, window, ban}');
	const m = v as Record<string, unknown>;
	const keys = ['max_failures', 'window', 'ban'];
	for (const k of Object.keys(m)) if (!keys.includes(k)) throw new AnswersError(`bans.${k}`, `unknown key (known: ${keys.join(', ')})`);
	return {
		maxFailures: count(m.max_failures, 'bans.max_failures', DEFAULT_BAN_ANSWERS.maxFailures),
		window: duration(m.window, 'bans.window', DEFAULT_BAN_ANSWERS.window),
		ban: duration(m.ban, 'bans.ban', DEFAULT_BAN_ANSWERS.ban),
	};
}

/** An address or a network (CIDR), normalized to lower case. Undefined: not one. */
export function addressOrNetwork(s: string): string | undefined {
	const m = /^([0-9a-f:.]+)(?:\/([0-9]{1,3}))?$/i.exec(s);
	if (!m) return undefined;
	const family = isIP(m[1]!);
	if (family === 0) return undefined;
	if (m[2] !== undefined && (Number(m[2]) > (family === 4 ? 32 : 128) || (m[2].length > 1 && m[2].startsWith('0')))) return undefined;
	return s.toLowerCase();
}

/** `ignore`: addresses or networks fail2ban never bans. */
export function validateIgnore(v: unknown): string[] {
	if (v === undefined || v === null) return [];
	if (!Array.isArray(v)) throw new AnswersError('ignore', 'must be a list of addresses or networks (like [203.0.113.7, 198.51.100.0/24])');
	const out: string[] = [];
	v.forEach((x, i) => {
		const key = `ignore[${i}]`;
		if (typeof x !== 'string') throw new AnswersError(key, 'must be an address or a network, as a string');
		const a = addressOrNetwork(x.trim());
		if (a === undefined) throw new AnswersError(key, `"${x.slice(0, 60)}" is not an IPv4 or IPv6 address or network (like 203.0.113.7 or 198.51.100.0/24)`);
		if (!out.includes(a)) out.push(a);
	});
	return out;
}

export function validateGreylisting(v: unknown): boolean {
	if (v === undefined || v === null) return false;
	if (typeof v !== 'boolean') throw new AnswersError('greylisting', 'must be true or false');
	return v;
}

/** The defence answers in the file form: only what differs from the defaults. */
export function defenceForm(a: {greylisting: boolean; bans: BanAnswers | false; ignore: readonly string[]}): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	if (a.greylisting) out.greylisting = true;
	if (a.bans === false) out.bans = false;
	else if (a.bans.maxFailures !== DEFAULT_BAN_ANSWERS.maxFailures || a.bans.window !== DEFAULT_BAN_ANSWERS.window || a.bans.ban !== DEFAULT_BAN_ANSWERS.ban)
		out.bans = {max_failures: a.bans.maxFailures, window: a.bans.window, ban: a.bans.ban};
	if (a.ignore.length) out.ignore = [...a.ignore];
	return out;
}
