// The domains and addresses a server answers for, from the answers.
import type {Answers} from '../answers.ts';

export function domainsOf(a: Answers): string[] {
	return [a.domain, ...a.extraDomains];
}

/** The addresses the server accepts: users and aliases, in every domain. */
export function recipients(a: Answers): string[] {
	const locals = [...a.users.map((u) => u.name), ...Object.keys(a.aliases)];
	return domainsOf(a).flatMap((d) => locals.map((l) => `${l}@${d}`));
}

/** The virtual table: users to vmail (LMTP keeps the address), aliases to their targets. */
export function virtuals(a: Answers): string[] {
	const lines: string[] = [];
	for (const d of domainsOf(a)) {
		for (const u of a.users) lines.push(`${u.name}@${d} vmail`);
		for (const [local, targets] of Object.entries(a.aliases)) {
			lines.push(`${local}@${d} ${targets.map((t) => (t.includes('@') ? t : `${t}@${d}`)).join(', ')}`);
		}
		if (a.catchAll) lines.push(`@${d} ${a.catchAll}@${d}`);
	}
	return lines;
}
