// The wizard's questions as data: the form the operator fills in, how each field is
// asked and checked, and the conversion to Answers. Pure (file reads only for TLS and,
// in toAnswers, password files), so the rules are tested without a terminal. The form
// becomes the answers file form (toFile) and validateAnswers stays the one judge: a
// field is checked by validating the whole form with placeholders for later fields.
import {AnswersError, MIN_PASSWORD, readPasswordFiles, storedForm, validateAnswers, type Answers} from '../answers.ts';
import {onRoot} from '../engine/files.ts';
import {MAX_CERT, UnsafeFileError, safeReadFile} from '../platform/safe-read.ts';
import {checkTls} from '../platform/tls.ts';

export {MIN_PASSWORD} from '../answers.ts';

export type UserForm = {
	readonly name: string;
	/** Typed in this session; only ever in memory. */
	readonly password?: string;
	/** From a saved run: kept as it is, never asked again. */
	readonly passwordFile?: string;
};

export type Form = {
	readonly domain: string;
	readonly hostname: string;
	readonly ipv4: string;
	readonly ipv6: string;
	readonly cert: string;
	readonly key: string;
	readonly users: readonly UserForm[];
	readonly selector: string;
	readonly policy: string;
	readonly rua: string;
	/** Saved keys the wizard does not ask about (aliases, extra domains, dmarc.ruf ...), in the file form, kept as they were. */
	readonly extra: Readonly<Record<string, unknown>>;
};

export const EMPTY_FORM: Form = {domain: '', hostname: '', ipv4: '', ipv6: '', cert: '', key: '', users: [], selector: '', policy: '', rua: '', extra: {}};

export type Check = {readonly error?: string; readonly warnings?: readonly string[]; readonly info?: readonly string[]};

/** The fields that are one string of the form each (users are lists). */
const PLAIN = ['domain', 'hostname', 'ipv4', 'ipv6', 'cert', 'key', 'selector', 'policy', 'rua'] as const;
type PlainId = (typeof PLAIN)[number];
export type FieldId = PlainId | `user:${number}` | `password:${number}` | `again:${number}`;

function isPlain(id: FieldId): id is PlainId {
	return (PLAIN as readonly string[]).includes(id);
}

export type Env = {
	/** Prefix for every path read (the CLI's --root, for tests). */
	readonly root: string;
	readonly defaultIpv4: () => string | undefined;
	readonly now?: Date;
};

/** Passwords typed at the second prompt, by user index, until both match. */
export type Pending = Readonly<Record<number, string>>;

function userIndex(id: FieldId): number {
	return Number(id.split(':')[1]);
}

export type FieldSpec = {
	readonly id: FieldId;
	readonly label: string;
	readonly hint?: string;
	readonly optional?: boolean;
	readonly mask?: boolean;
	/** TLS problems may be kept on purpose (the TLS step stops until they are fixed). */
	readonly soft?: boolean;
};

export function fieldSpec(id: FieldId, form: Form): FieldSpec {
	switch (id) {
		case 'domain':
			return {id, label: 'Mail domain', hint: 'the part after @ in your addresses, e.g. example.com'};
		case 'hostname':
			return {id, label: 'Host name of this server', hint: 'its MX target; the reverse DNS of its address must point back to it'};
		case 'ipv4':
			return {id, label: 'Public IPv4 address', hint: 'the address other mail servers connect to (found on this host)'};
		case 'ipv6':
			return {id, label: 'Public IPv6 address', hint: 'optional: leave empty if the server has none', optional: true};
		case 'cert':
			return {id, label: 'TLS certificate (full chain, PEM)', hint: 'e.g. from certbot: /etc/letsencrypt/live/HOST/fullchain.pem', soft: true};
		case 'key':
			return {id, label: 'TLS private key (PEM)', hint: 'the key of that certificate', soft: true};
		case 'selector':
			return {id, label: 'DKIM selector', hint: 'the name of the signing key in DNS: SELECTOR._domainkey'};
		case 'policy':
			return {id, label: 'DMARC policy', hint: 'none, quarantine or reject: what receivers do with mail that fails SPF and DKIM'};
		case 'rua':
			return {id, label: 'DMARC reports to', hint: 'optional: an address for aggregate reports', optional: true};
	}
	const i = userIndex(id);
	if (id.startsWith('user:')) {
		return i === 0
			? {id, label: 'First mail user', hint: `the mailbox name: alice for alice@${form.domain || 'example.com'}`}
			: {id, label: `Another mail user (${i + 1})`, hint: 'leave empty when there are no more users', optional: true};
	}
	const name = form.users[i]?.name ?? '';
	if (id.startsWith('password:')) return {id, label: `Password for ${name}`, hint: `at least ${MIN_PASSWORD} characters; kept in memory only, never saved`, mask: true};
	return {id, label: `The password for ${name} again`, mask: true};
}

/** The value a question starts with: the form's, else a default derived from earlier answers. */
export function initialValue(id: FieldId, form: Form, env: Env): string {
	const v = getValue(id, form);
	if (v) return v;
	switch (id) {
		case 'hostname':
			return form.domain ? `mail.${form.domain}` : '';
		case 'ipv4':
			return env.defaultIpv4() ?? '';
		case 'cert':
			return form.hostname ? `/etc/letsencrypt/live/${form.hostname}/fullchain.pem` : '';
		case 'key':
			return form.cert.endsWith('/fullchain.pem') ? form.cert.replace(/fullchain\.pem$/, 'privkey.pem') : form.hostname ? `/etc/letsencrypt/live/${form.hostname}/privkey.pem` : '';
		case 'selector':
			return 'mail';
		case 'policy':
			return 'reject';
		case 'rua':
			return form.domain ? `postmaster@${form.domain}` : '';
		default:
			return '';
	}
}

export function getValue(id: FieldId, form: Form): string {
	if (isPlain(id)) return form[id];
	const u = form.users[userIndex(id)];
	if (id.startsWith('user:')) return u?.name ?? '';
	return '';
}

/** Sets one field. Users: an empty name removes that user and those after it are kept. */
export function setValue(id: FieldId, form: Form, value: string): Form {
	if (isPlain(id)) return {...form, [id]: normalize(id, value)};
	const i = userIndex(id);
	const users = [...form.users];
	if (id.startsWith('user:')) {
		const name = value.trim().toLowerCase();
		if (!name) {
			users.splice(i, 1);
			return {...form, users};
		}
		const old = users[i];
		// A new name is a new mailbox: a password saved for the old name does not carry over.
		users[i] = old && old.name === name ? old : {name};
		return {...form, users};
	}
	if (id.startsWith('again:')) {
		users[i] = {name: users[i]?.name ?? '', password: value};
		return {...form, users};
	}
	return form;
}

/** The spelling validateAnswers would store: lower case names, no trailing dot. */
function normalize(id: FieldId, value: string): string {
	const v = value.trim();
	if (id === 'domain' || id === 'hostname') return v.toLowerCase().replace(/\.$/, '');
	if (id === 'ipv6' || id === 'selector' || id === 'policy' || id === 'rua') return v.toLowerCase();
	return v;
}

/**
 * The form as the answers file form (what an answers file and the state hold); typed
 * passwords are not part of it. Empty fields become placeholders when asked to.
 */
export function toFile(form: Form, placeholders: boolean): Record<string, unknown> {
	const or = (v: string, p: string) => (v ? v : placeholders ? p : undefined);
	const users = form.users.length ? form.users : placeholders ? [{name: 'placeholder'}] : [];
	const {dmarc: savedDmarc, ...extra} = form.extra;
	const dmarc: Record<string, unknown> = {...(savedDmarc as object | undefined), policy: or(form.policy, 'reject')};
	if (form.rua) dmarc.rua = form.rua;
	return {
		...extra,
		domain: or(form.domain, 'placeholder.invalid'),
		hostname: or(form.hostname, 'mail.placeholder.invalid'),
		ipv4: or(form.ipv4, form.ipv6 ? '' : '192.0.2.1') || undefined,
		ipv6: form.ipv6 || undefined,
		tls: {cert: or(form.cert, '/placeholder/cert.pem'), key: or(form.key, '/placeholder/key.pem')},
		users: users.map((u: UserForm) => (u.passwordFile ? {name: u.name, password_file: u.passwordFile} : {name: u.name})),
		dkim: {selector: or(form.selector, 'mail')},
		dmarc,
	};
}

/** The form validated as the answers it stands for: a password typed in the wizard is checked by its own question. */
function validateForm(form: Form, placeholders: boolean): Answers {
	return validateAnswers(toFile(form, placeholders), {passwordOptional: true});
}

const KEY_OF: Record<string, (key: string) => boolean> = {
	domain: (k) => k === 'domain',
	hostname: (k) => k === 'hostname',
	ipv4: (k) => k === 'ipv4',
	ipv6: (k) => k === 'ipv6',
	cert: (k) => k === 'tls.cert' || k === 'tls',
	key: (k) => k === 'tls.key',
	selector: (k) => k === 'dkim.selector',
	policy: (k) => k === 'dmarc.policy',
	rua: (k) => k === 'dmarc.rua',
};

/** Which question an AnswersError key belongs to (for the review screen). */
export function fieldOfKey(key: string): FieldId | undefined {
	const m = /^users\[(\d+)\]/.exec(key);
	if (m) return `user:${Number(m[1])}`;
	if (key === 'users') return 'user:0';
	for (const [id, test] of Object.entries(KEY_OF)) if (test(key)) return id as FieldId;
	return undefined;
}

function readPem(root: string, path: string): {text?: string; error?: string; mode?: number} {
	try {
		// certbot's live/ paths are symlinks into archive/: followed; a FIFO or a device is refused.
		const f = safeReadFile(onRoot(root, path), {maxBytes: MAX_CERT, followLinks: true});
		return {text: f.text, mode: f.mode & 0o777};
	} catch (error) {
		if (error instanceof UnsafeFileError) return {error: error.reason};
		return {error: (error as NodeJS.ErrnoException).code ?? String(error)};
	}
}

/** The certificate and key as the TLS step will see them. */
export function tlsCheck(form: Form, env: Env, which: 'cert' | 'key'): Check {
	const c = readPem(env.root, form.cert);
	const k = which === 'key' ? readPem(env.root, form.key) : {};
	const v = checkTls(
		{certPath: form.cert, keyPath: form.key, cert: c.text, certError: c.error, key: k.text, keyError: which === 'key' ? k.error : 'EACCES', keyMode: k.mode},
		form.hostname || 'placeholder.invalid',
		env.now,
	);
	const prefix = which === 'cert' ? 'tls.cert' : 'tls.key';
	const errors = v.errors.filter((e) => e.startsWith(prefix)).map((e) => e.replace(/^tls\.(cert|key): /, ''));
	const warnings = v.warnings.filter((w) => (which === 'cert' ? !w.startsWith('tls.key') : true));
	const info = [...v.info];
	if (which === 'key' && errors.length === 0 && k.text !== undefined) info.push(`${form.key} is the key of this certificate`);
	if (which === 'cert' && errors.length === 0 && c.text !== undefined && form.hostname) info.unshift(`covers ${form.hostname}`);
	return {error: errors[0], warnings, info};
}

/** Checks one answer in the context of the others (inline validation). */
export function checkField(id: FieldId, form: Form, value: string, env: Env, pending: Pending = {}): Check {
	const spec = fieldSpec(id, form);
	if (id.startsWith('password:')) {
		if (value.length < MIN_PASSWORD) return {error: `too short: at least ${MIN_PASSWORD} characters (${value.length} typed)`};
		if (/[\0\r\n]/.test(value)) return {error: 'must be a single line'};
		return {};
	}
	if (id.startsWith('again:')) {
		return value === pending[userIndex(id)] ? {} : {error: 'the two passwords differ: type the password again (Esc goes back to the first one)'};
	}
	if (!value.trim()) {
		if (spec.optional) return {};
		return {error: 'an answer is needed here'};
	}
	const next = setValue(id, form, value);
	if (id === 'policy' && !['none', 'quarantine', 'reject'].includes(value.trim().toLowerCase())) return {error: 'must be none, quarantine or reject'};
	try {
		validateForm(next, true);
	} catch (error) {
		if (!(error instanceof AnswersError)) throw error;
		if (fieldOfKey(error.key) === id) return {error: error.message.slice(error.key.length + 2)};
	}
	if (id === 'cert' || id === 'key') return tlsCheck(next, env, id);
	if (id === 'ipv4' || id === 'ipv6') {
		const special = specialRange(value.trim());
		if (special) return {warnings: [`${value.trim()} is in a ${special} range: fine for a lab, but the internet cannot reach it`]};
	}
	return {};
}

function specialRange(ip: string): string | undefined {
	if (/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(ip)) return 'private';
	if (/^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./.test(ip)) return 'shared (CGNAT)';
	if (/^(192\.0\.2\.|198\.51\.100\.|203\.0\.113\.)/.test(ip) || /^2001:db8:/i.test(ip)) return 'documentation';
	if (/^(fc|fd)/i.test(ip)) return 'unique local';
	return undefined;
}

/** Which users need a password typed in this session. */
export function needsPassword(u: UserForm, passwordSteps: boolean): boolean {
	if (u.password !== undefined || u.passwordFile) return false;
	return passwordSteps;
}

/** The questions in order for a first run. Users are asked one by one until a name is left empty. */
export function firstRunFields(form: Form): FieldId[] {
	const ids: FieldId[] = ['domain', 'hostname', 'ipv4', 'ipv6', 'cert', 'key'];
	form.users.forEach((_u, i) => ids.push(`user:${i}`, `password:${i}`, `again:${i}`));
	ids.push(`user:${form.users.length}`, 'selector', 'policy', 'rua');
	return ids;
}

/**
 * Validates the whole form into Answers; typed passwords are attached (never saved) and,
 * with readPasswords (a real run as root), password files are read: the run's edge.
 */
export function toAnswers(form: Form, readPasswords: boolean): Answers {
	const a = validateForm(form, false);
	const typed: Answers = {
		...a,
		users: a.users.map((u, i) => {
			const f = form.users[i]!;
			return f.passwordFile || f.password === undefined ? u : {...u, password: f.password};
		}),
	};
	return readPasswords ? readPasswordFiles(typed) : typed;
}

function text(v: unknown): string {
	return typeof v === 'string' ? v : '';
}

function field(v: unknown, key: string): unknown {
	return v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
}

/** The form from answers saved by an earlier run: the file form (older states converted), no passwords. */
export function fromSaved(saved: Readonly<Record<string, unknown>> | undefined): Form {
	if (!saved) return EMPTY_FORM;
	const {domain, hostname, ipv4, ipv6, tls, users, dkim, dmarc, ...extra} = storedForm(saved);
	const ruf = field(dmarc, 'ruf');
	if (ruf !== undefined) extra.dmarc = {ruf};
	return {
		domain: text(domain),
		hostname: text(hostname),
		ipv4: text(ipv4),
		ipv6: text(ipv6),
		cert: text(field(tls, 'cert')),
		key: text(field(tls, 'key')),
		users: (Array.isArray(users) ? users : []).map((u) => {
			const file = field(u, 'password_file');
			return typeof file === 'string' ? {name: text(field(u, 'name')), passwordFile: file} : {name: text(field(u, 'name'))};
		}),
		selector: text(field(dkim, 'selector')),
		policy: text(field(dmarc, 'policy')),
		rua: text(field(dmarc, 'rua')),
		extra,
	};
}

/** The rows of the review screen: label, shown value, the question that edits it. */
export function reviewRows(form: Form): Array<{id: FieldId; label: string; value: string}> {
	const rows: Array<{id: FieldId; label: string; value: string}> = [
		{id: 'domain', label: 'Mail domain', value: form.domain},
		{id: 'hostname', label: 'Host name', value: form.hostname},
		{id: 'ipv4', label: 'IPv4', value: form.ipv4 || '(none)'},
		{id: 'ipv6', label: 'IPv6', value: form.ipv6 || '(none)'},
		{id: 'cert', label: 'TLS certificate', value: form.cert},
		{id: 'key', label: 'TLS key', value: form.key},
	];
	form.users.forEach((u, i) => {
		const pw = u.password !== undefined ? 'password typed (in memory only)' : u.passwordFile ? `password from ${u.passwordFile}` : 'password kept from the earlier run';
		rows.push({id: `user:${i}`, label: `User ${i + 1}`, value: `${u.name}@${form.domain}  · ${pw}`});
	});
	rows.push({id: `user:${form.users.length}`, label: 'Add a user', value: ''});
	rows.push(
		{id: 'selector', label: 'DKIM selector', value: form.selector},
		{id: 'policy', label: 'DMARC policy', value: form.policy},
		{id: 'rua', label: 'DMARC reports', value: form.rua || '(none)'},
	);
	return rows;
}

/** The whole form checked at once: the first error, with the question to go back to. */
export function formError(form: Form): {id?: FieldId; message: string} | undefined {
	try {
		validateForm(form, false);
	} catch (error) {
		if (!(error instanceof AnswersError)) throw error;
		return {id: fieldOfKey(error.key), message: error.message};
	}
	return undefined;
}
