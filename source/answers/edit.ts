// Day-two changes to the saved answers (issue 17): each takes the file form the state
// stores and gives the new file form, or says there is nothing to change. Validation is
// left to validateAnswers, so a bad name or a loop gets the answers file's message.
import {AnswersError, type FileUser} from './types.ts';

export type Form = Record<string, unknown>;

/** The new file form, and a sentence that says what changes (or that nothing does). */
export type Edit = {readonly form: Form; readonly changed: boolean; readonly what: string};

const key = (s: string): string => s.trim().toLowerCase();

function usersOf(form: Form): FileUser[] {
	return Array.isArray(form.users) ? (form.users as FileUser[]).map((u) => ({...u})) : [];
}

function aliasesOf(form: Form): Record<string, string[]> {
	const out: Record<string, string[]> = {};
	const a = form.aliases;
	if (a && typeof a === 'object' && !Array.isArray(a)) for (const [k, v] of Object.entries(a)) out[k] = Array.isArray(v) ? v.map(String) : [String(v)];
	return out;
}

function domainsOf(form: Form): string[] {
	return Array.isArray(form.extra_domains) ? form.extra_domains.map(String) : [];
}

export function hasUser(form: Form, name: string): boolean {
	return usersOf(form).some((u) => key(u.name) === key(name));
}

export function userAdd(form: Form, name: string): Edit {
	if (hasUser(form, name)) return {form, changed: false, what: `${key(name)} is already a user (to change the password: mailwizard user passwd ${key(name)})`};
	return {form: {...form, users: [...usersOf(form), {name}]}, changed: true, what: `add the user ${key(name)}`};
}

/**
 * A new password: the user's password_file (if any) is dropped from the saved answers, or a
 * re-run of the wizard would read the old file and put the old password back.
 */
export function userPasswd(form: Form, name: string): Edit {
	if (!hasUser(form, name))
		throw new AnswersError(
			'user passwd',
			`there is no user "${key(name)}" (the users: ${usersOf(form)
				.map((u) => u.name)
				.join(', ')})`,
		);
	const users = usersOf(form).map((u) => (key(u.name) === key(name) ? {name: u.name} : u));
	return {form: {...form, users}, changed: true, what: `set a new password for ${key(name)}`};
}

export function userRemove(form: Form, name: string): Edit {
	if (!hasUser(form, name)) return {form, changed: false, what: `there is no user "${key(name)}"`};
	const users = usersOf(form).filter((u) => key(u.name) !== key(name));
	if (!users.length) throw new AnswersError('user remove', `${key(name)} is the only user: add another one first (mailwizard user add NAME)`);
	return {form: {...form, users}, changed: true, what: `remove the user ${key(name)}`};
}

export function aliasAdd(form: Form, local: string, targets: readonly string[]): Edit {
	const aliases = aliasesOf(form);
	const name = key(local);
	const had = aliases[name] ?? [];
	const added = targets.map((t) => t.trim()).filter((t) => !had.map(key).includes(key(t)));
	if (!added.length) return {form, changed: false, what: `${name} already goes to ${had.join(', ')}`};
	aliases[name] = [...had, ...added.filter((t, i) => added.findIndex((u) => key(u) === key(t)) === i)];
	return {form: {...form, aliases}, changed: true, what: `${had.length ? 'extend' : 'add'} the alias ${name} -> ${aliases[name]!.join(', ')}`};
}

export function aliasRemove(form: Form, local: string): Edit {
	const aliases = aliasesOf(form);
	const name = key(local);
	if (!aliases[name]) return {form, changed: false, what: `there is no alias "${name}" in the saved answers`};
	delete aliases[name];
	const next: Form = {...form, aliases};
	if (!Object.keys(aliases).length) delete next.aliases;
	return {form: next, changed: true, what: `remove the alias ${name}`};
}

export function domainAdd(form: Form, domain: string): Edit {
	const d = key(domain).replace(/\.$/, '');
	if (d === form.domain || domainsOf(form).includes(d)) return {form, changed: false, what: `${d} is already one of this server's domains`};
	return {form: {...form, extra_domains: [...domainsOf(form), d]}, changed: true, what: `add the domain ${d}`};
}

export function domainRemove(form: Form, domain: string): Edit {
	const d = key(domain).replace(/\.$/, '');
	if (d === form.domain) throw new AnswersError('domain remove', `${d} is the main domain: it cannot be removed (only extra domains can)`);
	if (!domainsOf(form).includes(d)) return {form, changed: false, what: `${d} is not one of this server's extra domains`};
	const extra = domainsOf(form).filter((x) => x !== d);
	const next: Form = {...form, extra_domains: extra};
	if (!extra.length) delete next.extra_domains;
	return {form: next, changed: true, what: `remove the domain ${d}`};
}
