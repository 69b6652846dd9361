// The file form in and out: parsing an answers file, the form the state stores
// (toFileForm: no password, no hash), and reading a state saved by an earlier version.
import {parse as parseYaml} from 'yaml';
import {MAX_SMALL, UnsafeFileError, safeReadFile} from '../platform/safe-read.ts';
import {LE_DIRECTORY} from './acme.ts';
import {defenceForm} from './defence.ts';
import {AnswersError, type Answers, type FileForm, type FileUser, type LoadOptions} from './types.ts';
import {validateAnswers} from './validate.ts';

/** The answers as the state stores them and status shows them: the file form, never a password or a hash. */
export function toFileForm(a: Answers): FileForm {
	const f: FileForm = {
		domain: a.domain,
		hostname: a.hostname,
		tls: tlsForm(a.tls),
		users: a.users.map((u) => (u.passwordFile ? {name: u.name, password_file: u.passwordFile} : {name: u.name})),
	};
	if (a.ipv4 !== undefined) f.ipv4 = a.ipv4;
	if (a.ipv6 !== undefined) f.ipv6 = a.ipv6;
	const aliases = Object.entries(a.aliases);
	if (aliases.length) f.aliases = Object.fromEntries(aliases.map(([k, v]) => [k, [...v]]));
	if (a.catchAll !== undefined) f.catch_all = a.catchAll;
	f.dkim = {selector: a.dkim.selector};
	f.dmarc = {policy: a.dmarc.policy, ...(a.dmarc.rua ? {rua: a.dmarc.rua} : {}), ...(a.dmarc.ruf ? {ruf: a.dmarc.ruf} : {})};
	if (a.extraDomains.length) f.extra_domains = [...a.extraDomains];
	if (a.mtaSts) f.mta_sts = {mode: a.mtaSts.mode};
	if (a.tlsrpt) f.tlsrpt = {rua: a.tlsrpt.rua};
	if (a.removeMta) f.remove_mta = true;
	if (a.autoconfig !== (a.tls.acme !== undefined)) f.autoconfig = a.autoconfig;
	return {...f, ...defenceForm(a)};
}

/** tls in the file form: own files, or acme with only what differs from the defaults. */
function tlsForm(t: Answers['tls']): FileForm['tls'] {
	if (!t.acme) return {cert: t.cert, key: t.key};
	const {email, directory, caBundle} = t.acme;
	return {acme: {email, ...(directory !== LE_DIRECTORY ? {directory} : {}), ...(caBundle ? {ca_bundle: caBundle} : {})}};
}

/** Keys of answers saved by mailwizard before the state stored the file form. */
const LEGACY_KEYS = new Map([
	['catchAll', 'catch_all'],
	['extraDomains', 'extra_domains'],
	['mtaSts', 'mta_sts'],
	['removeMta', 'remove_mta'],
]);

function storedUser(u: unknown): unknown {
	if (!u || typeof u !== 'object' || Array.isArray(u)) return u;
	const o = u as Record<string, unknown>;
	const user: FileUser = {name: o.name as string};
	const file = o.password_file ?? o.passwordFile;
	if (file !== undefined) user.password_file = file as string;
	// A hash in an old state is dropped: the hashes live in the daemons' files, which a re-run keeps.
	return user;
}

/**
 * Saved answers as the file form, whichever version saved them: the camelCase keys of
 * earlier versions are renamed, and hashes (which earlier versions stored) are left out.
 */
export function storedForm(saved: Readonly<Record<string, unknown>>): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(saved)) out[LEGACY_KEYS.get(k) ?? k] = v;
	if (Array.isArray(out.users)) out.users = out.users.map(storedUser);
	return out;
}

/** Saved answers (any version's) validated like a file; users need no password source (the daemons keep the hashes). */
export function loadSavedAnswers(saved: Readonly<Record<string, unknown>>, options: LoadOptions = {}): Answers {
	return validateAnswers(storedForm(saved), {...options, passwordOptional: true});
}

/** A key given twice: named (the YAML error only says where), since a second value would silently win elsewhere. */
function duplicateKey(error: unknown, text: string, file: string): AnswersError | undefined {
	const e = error as {code?: string; linePos?: ReadonlyArray<{line: number}>};
	const line = e.linePos?.[0]?.line;
	if (e.code !== 'DUPLICATE_KEY' || line === undefined) return undefined;
	const key = /^\s*(?:-\s+)?(["']?)([^"':#]+)\1\s*:/.exec(text.split('\n')[line - 1] ?? '')?.[2]?.trim();
	return key ? new AnswersError(key, `is given twice (again on line ${line} of ${file}): give each key once`) : undefined;
}

export function parseAnswersText(text: string, file: string): unknown {
	try {
		return parseYaml(text, {strict: true, uniqueKeys: true});
	} catch (error) {
		throw duplicateKey(error, text, file) ?? new AnswersError('(file)', `${file} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
	}
}

/** An answers file validated (shape only: password files are read by readPasswordFiles). */
export function loadAnswersFile(file: string, options: LoadOptions = {}): Answers {
	let text: string;
	try {
		text = safeReadFile(file, {maxBytes: MAX_SMALL}).text;
	} catch (error) {
		if (error instanceof UnsafeFileError) throw new AnswersError('--answers', error.message);
		throw error;
	}
	return validateAnswers(parseAnswersText(text, file), options);
}
