// One answer at a time: strings, names, addresses, paths. Each check throws an
// AnswersError naming the key; a value is echoed in a message only once it is known
// to hold no control character.
import {isIP} from 'node:net';
import {AnswersError} from './types.ts';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
export const LOCAL = /^[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?$/;
export const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,62})$/;
const ADDRESS = /^([a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?)@([a-z0-9.-]+)$/;
/** C0 controls, DEL and C1 controls: a newline breaks a configuration line, ESC drives the terminal. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * What a path may hold. The daemons' parsers give other characters a meaning: Dovecot 2.3
 * cuts a value at #, 2.4 expands % and reads a file after <, smtpd.conf and Rspamd quote.
 */
const PATH = /^\/[A-Za-z0-9._+@,/-]*$/;

export function isDomainName(s: string): boolean {
	if (s.length > 253 || !s.includes('.')) return false;
	const labels = s.split('.');
	return labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels.at(-1)!);
}

export function clip(s: string): string {
	return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function has(o: object, key: string): boolean {
	return Object.prototype.hasOwnProperty.call(o, key);
}

export function str(v: unknown, key: string, required = true): string | undefined {
	if (v === undefined || v === null || v === '') {
		if (required) throw new AnswersError(key, 'is required');
		return undefined;
	}
	if (typeof v !== 'string' && typeof v !== 'number') throw new AnswersError(key, 'must be a string');
	const s = String(v);
	if (CONTROL.test(s)) throw new AnswersError(key, 'must be a single line of text (no newline, tab, escape or other control character)');
	return s;
}

/** A domain or host name: lower case, no trailing dot. */
export function domainAt(v: unknown, key: string, example = 'example.com'): string {
	const s = str(v, key)!.trim().toLowerCase().replace(/\.$/, '');
	if (isDomainName(s)) return s;
	if (LABEL.test(s)) throw new AnswersError(key, `"${s}" needs a fully qualified name with a dot (like ${example})`);
	throw new AnswersError(key, `"${clip(s)}" is not a valid domain name (letters, digits, hyphens; dot-separated labels of at most 63 characters)`);
}

export function path(v: unknown, key: string): string {
	const s = str(v, key)!;
	if (!s.startsWith('/')) throw new AnswersError(key, `must be an absolute path, got "${clip(s)}"`);
	if (!PATH.test(s)) throw new AnswersError(key, 'may hold only letters, digits and . _ - + @ , / (the daemons treat spaces, quotes, #, %, <, = and the like specially)');
	return s;
}

export function address(v: unknown, key: string): string {
	const s = str(v, key)!
		.trim()
		.toLowerCase()
		.replace(/^mailto:/, '');
	const m = ADDRESS.exec(s);
	if (!m || !isDomainName(m[2]!)) throw new AnswersError(key, `"${clip(s)}" is not a valid e-mail address`);
	return s;
}

export function obj(v: unknown, key: string, keys?: readonly string[]): Record<string, unknown> {
	if (v === undefined || v === null) return {};
	if (typeof v !== 'object' || Array.isArray(v)) throw new AnswersError(key, 'must be a mapping');
	const m = v as Record<string, unknown>;
	// A misspelt or made-up key is refused, never ignored (dmarc: {pct: 0} would be silently dropped).
	if (keys) for (const k of Object.keys(m)) if (!keys.includes(k)) throw new AnswersError(`${key}.${k}`, `unknown key (known: ${keys.join(', ')})`);
	return m;
}

/** One of a few words, lower case. */
export function oneOf<T extends string>(v: unknown, key: string, words: readonly T[], fallback: T): T {
	const s = (str(v, key, false) ?? fallback).trim().toLowerCase();
	if (!(words as readonly string[]).includes(s)) throw new AnswersError(key, `must be ${words.slice(0, -1).join(', ')} or ${words.at(-1)}, got "${clip(s)}"`);
	return s as T;
}

export function ipv4At(v: unknown, fallback?: () => string | undefined): string | undefined {
	const s = str(v, 'ipv4', false)?.trim() ?? fallback?.();
	if (s !== undefined && isIP(s) !== 4) throw new AnswersError('ipv4', `"${clip(s)}" is not an IPv4 address`);
	return s;
}

export function ipv6At(v: unknown): string | undefined {
	const s = str(v, 'ipv6', false)?.trim().toLowerCase();
	if (s === undefined) return undefined;
	if (s.includes('%')) throw new AnswersError('ipv6', `"${clip(s)}" has a zone id (%...): give the public address alone, a zone only means something on this host`);
	if (isIP(s) !== 6) throw new AnswersError('ipv6', `"${clip(s)}" is not an IPv6 address`);
	return s;
}
