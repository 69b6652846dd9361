// The aliases section: local part -> targets. Keys are the operator's, so the map has
// no prototype ("constructor" is an alias like any other), and resolution visits each
// alias once (a chain of thousands resolves in linear time).
import {AnswersError} from './types.ts';
import {LOCAL, address, clip, has, obj, str} from './fields.ts';

export type AliasMap = Record<string, string[]>;

/** A local part of ours, or a full address elsewhere; "x@our.domain" becomes "x". */
function target(t: unknown, key: string, ownDomains: ReadonlySet<string>): string {
	const s = str(t, key)!.trim().toLowerCase();
	if (s.includes('@')) {
		const a = address(s, key);
		const [lp, dom] = a.split('@') as [string, string];
		return ownDomains.has(dom) ? lp : a;
	}
	if (!LOCAL.test(s)) throw new AnswersError(key, `"${clip(s)}" is not a user name or an e-mail address`);
	return s;
}

function aliasName(k: string, key: string, ownDomains: ReadonlySet<string>): string {
	let local = k.trim().toLowerCase();
	if (local.includes('@')) {
		const a = address(local, key);
		const [lp, dom] = a.split('@') as [string, string];
		if (!ownDomains.has(dom)) throw new AnswersError(key, `"${a}" is not in this server's domains (${[...ownDomains].join(', ')})`);
		local = lp;
	}
	if (!LOCAL.test(local)) throw new AnswersError(key, `"${clip(k)}" is not a valid local part`);
	return local;
}

/** Every local target reaches a user, without loops: one depth-first walk, each alias finished once. */
function resolveAll(aliases: AliasMap, users: ReadonlySet<string>): void {
	const done = new Set<string>(users);
	for (const start of Object.keys(aliases)) {
		if (done.has(start)) continue;
		const key = `aliases.${start}`;
		const trail: string[] = [start];
		const onTrail = new Set<string>(trail);
		const next: number[] = [0];
		while (trail.length) {
			const local = trail.at(-1)!;
			const targets = aliases[local]!;
			const t = targets[next.at(-1)!];
			if (t === undefined) {
				done.add(local);
				onTrail.delete(local);
				trail.pop();
				next.pop();
				continue;
			}
			next[next.length - 1]!++;
			if (t.includes('@') || done.has(t)) continue;
			if (onTrail.has(t)) throw new AnswersError(key, `alias loop: ${[...trail.slice(trail.indexOf(t)), t].join(' -> ')}`);
			if (!has(aliases, t)) throw new AnswersError(key, `"${t}" is neither a user nor an alias`);
			trail.push(t);
			onTrail.add(t);
			next.push(0);
		}
	}
}

/**
 * The aliases, with postmaster and abuse (RFC 5321 4.5.1, RFC 2142) delivered to the
 * first user unless given; every local target resolves to a user.
 */
export function validateAliases(v: unknown, users: readonly string[], ownDomains: ReadonlySet<string>): AliasMap {
	const userSet = new Set(users);
	const aliases: AliasMap = Object.create(null) as AliasMap;
	for (const [k, value] of Object.entries(obj(v, 'aliases'))) {
		const key = `aliases.${k}`;
		const local = aliasName(k, key, ownDomains);
		if (userSet.has(local)) throw new AnswersError(key, `"${local}" is already a user; an address is either a user or an alias`);
		if (has(aliases, local)) throw new AnswersError(key, `"${local}" is listed twice`);
		const list: unknown[] = Array.isArray(value) ? value : [value];
		if (list.length === 0) throw new AnswersError(key, 'needs at least one target');
		aliases[local] = list.map((t, i) => target(t, Array.isArray(value) ? `${key}[${i}]` : key, ownDomains));
	}
	for (const required of ['postmaster', 'abuse']) if (!userSet.has(required) && !has(aliases, required)) aliases[required] = [users[0]!];
	resolveAll(aliases, userSet);
	return aliases;
}
