// The wizard's questions as data: the form the operator fills in, how each field is
// asked and checked, and the conversion to Answers. Pure (file reads only for TLS and,
// in toAnswers, password files), so the rules are tested without a terminal. The form
// becomes the answers file form (toFile) and validateAnswers stays the one judge: a
// field is checked by validating the whole form with placeholders for later fields.
import {existsSync} from 'node:fs';
import {dirname, isAbsolute, join} from 'node:path';
import {AnswersError, MIN_PASSWORD, readPasswordFile, readPasswordFiles, storedForm, validateAnswers, type Answers} from '../answers.ts';
import {onRoot} from '../engine/files.ts';
import {isMore, MORE, moreDefault, moreOfKey, moreSpec, moreSummary, moreText, withMore, type MoreId} from './form-more.ts';
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
	/**
	 * The other keys, in the file form: the optional answers (aliases, catch_all, extra_domains,
	 * mta_sts, tlsrpt, remove_mta, autoconfig: asked through form-more.ts) and what the wizard
	 * does not ask (dmarc.ruf ...), kept as they were.
	 */
	readonly extra: Readonly<Record<string, unknown>>;
	/** With cert "acme": the ACME account's contact address. */
	readonly acmeEmail?: string;
	/** "yes" once the ACME server's terms are agreed to (an answers file with tls.acme is that agreement). */
	readonly acmeAgree?: string;
	/** tls.acme.directory and ca_bundle of a saved run (a private ACME server), kept as they were. */
	readonly acme?: Readonly<{directory?: string; ca_bundle?: string}>;
	/** Where the answers (and the zone fragment beside them) are saved at the end; "" for nowhere; unset: the default. */
	readonly saveAs?: string;
};

/** cert typed as "acme": the certificate is obtained and renewed by ACME (certbot). */
export const ACME = 'acme';
export const isAcme = (form: Form): boolean => form.cert === ACME;
const agreed = (form: Form): boolean => /^y(es)?$/i.test(form.acmeAgree ?? '');

export const EMPTY_FORM: Form = {domain: '', hostname: '', ipv4: '', ipv6: '', cert: '', key: '', users: [], selector: '', policy: '', rua: '', extra: {}};

export type Check = {readonly error?: string; readonly warnings?: readonly string[]; readonly info?: readonly string[]};

/** The fields that are one string of the form each (users are lists). */
const PLAIN = ['domain', 'hostname', 'ipv4', 'ipv6', 'cert', 'key', 'selector', 'policy', 'rua'] as const;
type PlainId = (typeof PLAIN)[number];
type OtherId = 'acmeEmail' | 'acmeAgree' | 'saveAs' | 'more' | MoreId;
export type FieldId = PlainId | OtherId | `user:${number}` | `password:${number}` | `again:${number}` | `pwfile:${number}`;

function isPlain(id: FieldId): id is PlainId {
	return (PLAIN as readonly string[]).includes(id);
}

export type Env = {
	/** Prefix for every path read (the CLI's --root, for tests). */
	readonly root: string;
	readonly defaultIpv4: () => string | undefined;
	/** The host's public IPv6 address, suggested: left empty, OpenSMTPD may still send from it, outside SPF and PTR. */
	readonly defaultIpv6?: () => string | undefined;
	readonly now?: Date;
	/** Where the answers are saved unless the operator says otherwise (the working directory); none: not saved. */
	readonly saveDir?: string;
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
			return {
				id,
				label: 'Public IPv6 address',
				hint: "optional: the host's public IPv6 address, suggested when it has one (mail it sends over IPv6 needs it in SPF and a PTR); empty if it has none",
				optional: true,
			};
		case 'cert':
			return {
				id,
				label: 'TLS certificate (full chain, PEM)',
				hint: 'e.g. /etc/letsencrypt/live/HOST/fullchain.pem, or: acme',
				soft: true,
			};
		case 'key':
			return {id, label: 'TLS private key (PEM)', hint: 'the key of that certificate', soft: true};
		case 'selector':
			return {id, label: 'DKIM selector', hint: 'the name of the signing key in DNS: SELECTOR._domainkey'};
		case 'policy':
			return {
				id,
				label: 'DMARC policy',
				hint: 'none, quarantine or reject: what receivers do with mail that fails SPF and DKIM. If other services (a shop, a newsletter) also send as this domain: none first (reports only), then quarantine, then reject',
			};
		case 'rua':
			return {id, label: 'DMARC reports to', hint: 'optional: an address for aggregate reports', optional: true};
	}
	if (!id.includes(':')) return otherSpec(id as OtherId, form);
	const i = userIndex(id);
	if (id.startsWith('user:')) {
		return i === 0
			? {id, label: 'First mail user', hint: `the mailbox name: alice for alice@${form.domain || 'example.com'}`}
			: {id, label: `Another mail user (${i + 1})`, hint: 'leave empty when there are no more users', optional: true};
	}
	const name = form.users[i]?.name ?? '';
	if (id.startsWith('password:'))
		return {id, label: `Password for ${name}`, hint: `at least ${MIN_PASSWORD} characters; kept in memory only, never saved. Empty: read it from a root-only file instead`, mask: true};
	if (id.startsWith('pwfile:')) return {id, label: `Password file for ${name}`, hint: 'a root-only file (chmod 600) holding the password on one line; read when the run starts, never copied'};
	return {id, label: `The password for ${name} again`, mask: true};
}

function otherSpec(id: OtherId, form: Form): FieldSpec {
	switch (id) {
		case 'acmeEmail':
			return {id, label: 'ACME account e-mail', hint: 'the contact for the certificate: expiry and problem notices from the ACME server go there'};
		case 'acmeAgree':
			return {id, label: "Agree to the ACME server's terms of service?", hint: "yes or no (Let's Encrypt: https://letsencrypt.org/repository/). No: Esc back and give certificate files"};
		case 'saveAs':
			return {id, label: 'Save the answers to', hint: 'a file that --answers accepts (no password is written; the DNS records go beside it as .zone); empty: do not save', optional: true};
		case 'more':
			return {id, label: 'More options', optional: true};
		default:
			return {id, ...moreSpec(id, form.domain, form.users[0]?.name ?? '')};
	}
}

/** The questions of a user's password: typed twice, or (an empty first answer) a password file. */
export function passwordFields(u: UserForm | undefined, i: number): FieldId[] {
	return u?.passwordFile !== undefined && u.password === undefined ? [`password:${i}`, `pwfile:${i}`] : [`password:${i}`, `again:${i}`];
}

/** Where the answers go at the end: the operator's path, else mailwizard-DOMAIN.yaml in the working directory. */
export function savePath(form: Form, env?: Pick<Env, 'saveDir'>): string {
	if (form.saveAs !== undefined) return form.saveAs;
	return env?.saveDir && form.domain ? join(env.saveDir, `mailwizard-${form.domain}.yaml`) : '';
}

/** The value a question starts with: the form's, else a default derived from earlier answers. */
/** The certificate certbot already made for the host name, else ACME: no files yet, one is obtained (issue 16). */
function certDefault(form: Form, env: Env): string {
	const live = `/etc/letsencrypt/live/${form.hostname}/fullchain.pem`;
	return form.hostname && existsSync(onRoot(env.root, live)) ? live : ACME;
}

export function initialValue(id: FieldId, form: Form, env: Env): string {
	const v = getValue(id, form);
	if (v) return v;
	switch (id) {
		case 'hostname':
			return form.domain ? `mail.${form.domain}` : '';
		case 'ipv4':
			return env.defaultIpv4() ?? '';
		case 'ipv6':
			return env.defaultIpv6?.() ?? '';
		case 'cert':
			return certDefault(form, env);
		case 'key':
			return form.cert.endsWith('/fullchain.pem') ? form.cert.replace(/fullchain\.pem$/, 'privkey.pem') : form.hostname ? `/etc/letsencrypt/live/${form.hostname}/privkey.pem` : '';
		case 'selector':
			return 'mail';
		case 'policy':
			return 'reject';
		case 'rua':
			return form.domain ? `postmaster@${form.domain}` : '';
		case 'acmeEmail':
			return form.domain ? `postmaster@${form.domain}` : '';
		case 'saveAs':
			return savePath(form, env);
		default:
			return isMore(id) ? moreDefault(id, form.users[0]?.name ?? '') : '';
	}
}

export function getValue(id: FieldId, form: Form): string {
	if (isPlain(id)) return form[id];
	if (id === 'acmeEmail' || id === 'acmeAgree' || id === 'saveAs') return form[id] ?? '';
	if (isMore(id)) return moreText(id, form.extra);
	const u = form.users[userIndex(id)];
	if (id.startsWith('user:')) return u?.name ?? '';
	if (id.startsWith('pwfile:')) return u?.passwordFile ?? '';
	return '';
}

/** Sets one field. Users: an empty name removes that user and those after it are kept. */
export function setValue(id: FieldId, form: Form, value: string): Form {
	if (isPlain(id)) return {...form, [id]: normalize(id, value)};
	if (id === 'acmeEmail' || id === 'acmeAgree' || id === 'saveAs') return {...form, [id]: value.trim()};
	if (isMore(id)) return {...form, extra: withMore(id, form.extra, value)};
	if (id === 'more') return form;
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
	// An empty password: a password file is asked next; a typed one is confirmed by again:.
	if (id.startsWith('password:')) users[i] = value ? {name: users[i]?.name ?? ''} : {name: users[i]?.name ?? '', passwordFile: ''};
	else users[i] = {name: users[i]?.name ?? '', passwordFile: value.trim()};
	return {...form, users};
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
	const tls = isAcme(form)
		? {acme: {email: or(form.acmeEmail ?? '', `postmaster@${form.domain || 'placeholder.invalid'}`), ...form.acme}}
		: {cert: or(form.cert, '/placeholder/cert.pem'), key: or(form.key, '/placeholder/key.pem')};
	return {
		...extra,
		domain: or(form.domain, 'placeholder.invalid'),
		hostname: or(form.hostname, 'mail.placeholder.invalid'),
		ipv4: or(form.ipv4, form.ipv6 ? '' : '192.0.2.1') || undefined,
		ipv6: form.ipv6 || undefined,
		tls,
		users: users.map((u: UserForm) => (u.passwordFile ? {name: u.name, password_file: u.passwordFile} : {name: u.name})),
		dkim: {selector: or(form.selector, 'mail')},
		dmarc,
	};
}

/** The form validated as the answers it stands for: a password typed in the wizard is checked by its own question. */
function validateForm(form: Form, placeholders: boolean): Answers {
	if (!placeholders && isAcme(form) && !agreed(form)) throw new AnswersError('tls.acme', "ACME needs the ACME server's terms of service agreed to (yes), or give certificate files instead");
	return validateAnswers(toFile(form, placeholders), {passwordOptional: true});
}

const KEY_OF: Record<string, (key: string) => boolean> = {
	domain: (k) => k === 'domain',
	hostname: (k) => k === 'hostname',
	ipv4: (k) => k === 'ipv4',
	ipv6: (k) => k === 'ipv6',
	cert: (k) => k === 'tls.cert' || k === 'tls',
	key: (k) => k === 'tls.key',
	acmeAgree: (k) => k === 'tls.acme',
	acmeEmail: (k) => k.startsWith('tls.acme.'),
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
	return moreOfKey(key);
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
	// No certificate yet: the other way is one word away.
	if (which === 'cert' && c.error === 'ENOENT' && errors[0]) errors[0] += ' (no certificate yet? type acme: one is obtained and renewed for you)';
	const warnings = v.warnings.filter((w) => (which === 'cert' ? !w.startsWith('tls.key') : true));
	const info = [...v.info];
	if (which === 'key' && errors.length === 0 && k.text !== undefined) info.push(`${form.key} is the key of this certificate`);
	if (which === 'cert' && errors.length === 0 && c.text !== undefined && form.hostname) info.unshift(`covers ${form.hostname}`);
	return {error: errors[0], warnings, info};
}

/** Checks one answer in the context of the others (inline validation). */
export function checkField(id: FieldId, form: Form, value: string, env: Env, pending: Pending = {}): Check {
	const spec = fieldSpec(id, form);
	const other = checkOther(id, form, value, env);
	if (other) return other;
	if (id.startsWith('password:')) {
		if (value === '') return {info: ['no password typed: a password file is asked next']};
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
	if (id === 'policy' && !['none', 'quarantine', 'reject'].includes(value.trim().toLowerCase())) return {error: 'must be none, quarantine or reject'};
	let next = form;
	try {
		next = setValue(id, form, value);
		validateForm(next, true);
	} catch (error) {
		if (!(error instanceof AnswersError)) throw error;
		if (fieldOfKey(error.key) === id) return {error: error.message.slice(error.key.length + 2)};
	}
	if (id === 'cert' && isAcme(next)) return {info: [`ACME: a certificate for ${next.hostname || 'the host name'} is obtained once its name points here (port 80 must be open) and renewed by itself`]};
	if (id === 'cert' || id === 'key') return tlsCheck(next, env, id);
	if (id === 'ipv4' || id === 'ipv6') {
		const special = specialRange(value.trim());
		if (special) return {warnings: [`${value.trim()} is in a ${special} range: fine for a lab, but the internet cannot reach it`]};
	}
	return {};
}

/** The questions whose answer is not validated through the answers (agreement, files to read or write); undefined: go on. */
function checkOther(id: FieldId, form: Form, value: string, env: Env): Check | undefined {
	const v = value.trim();
	if (id === 'acmeAgree') return /^y(es)?$/i.test(v) ? {} : {error: 'ACME needs the agreement to the terms (yes): else Esc back and type a certificate path instead of acme'};
	if (id === 'saveAs') {
		if (!v) return {};
		if (!isAbsolute(v)) return {error: `must be an absolute path, e.g. /root/mailwizard-${form.domain || 'example.com'}.yaml`};
		if (!existsSync(onRoot(env.root, dirname(v)))) return {error: `${dirname(v)} does not exist`};
		return existsSync(onRoot(env.root, v)) ? {warnings: [`${v} exists: it will be replaced`]} : {};
	}
	if (!id.startsWith('pwfile:')) return undefined;
	if (!isAbsolute(v)) return {error: 'must be an absolute path (e.g. /root/alice.pass)'};
	if (!existsSync(onRoot(env.root, v))) return {error: `${v} does not exist`};
	try {
		readPasswordFile(onRoot(env.root, v), 'password file');
	} catch (error) {
		if (error instanceof AnswersError) return {error: error.message.replace(/^password file: /, '')};
		// Not readable by this user (a preview without root): the run reads it as root.
		return {warnings: [`${v} cannot be read by this user (${(error as NodeJS.ErrnoException).code ?? String(error)}): the run as root reads it`]};
	}
	return {info: [`${v}: a private file with a password of ${MIN_PASSWORD} or more characters`]};
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
	const ids: FieldId[] = ['domain', 'hostname', 'ipv4', 'ipv6', ...tlsFields(form)];
	form.users.forEach((u, i) => ids.push(`user:${i}`, ...passwordFields(u, i)));
	ids.push(`user:${form.users.length}`, 'selector', 'policy', 'rua');
	return ids;
}

/** The certificate's questions: own files (cert, key), or acme and its account (contact, terms, autoconfig). */
export function tlsFields(form: Form): FieldId[] {
	return isAcme(form) ? ['cert', 'acmeEmail', 'acmeAgree', 'autoconfig'] : ['cert', 'key'];
}

/** The optional section, asked from the review ("More options"): skipped, the defaults apply. */
export function moreFields(): FieldId[] {
	return [...MORE];
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
		...tlsOf(tls),
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

/** The saved tls: own files, or ACME (its account, agreed to by the file; directory and bundle kept). */
function tlsOf(tls: unknown): Pick<Form, 'cert' | 'key' | 'acmeEmail' | 'acmeAgree' | 'acme'> {
	const acme = field(tls, 'acme');
	if (acme === undefined) return {cert: text(field(tls, 'cert')), key: text(field(tls, 'key'))};
	const kept: {directory?: string; ca_bundle?: string} = {};
	for (const k of ['directory', 'ca_bundle'] as const) if (typeof field(acme, k) === 'string') kept[k] = text(field(acme, k));
	return {cert: ACME, key: '', acmeEmail: text(field(acme, 'email')), acmeAgree: 'yes', ...(Object.keys(kept).length ? {acme: kept} : {})};
}

type Row = {id: FieldId; label: string; value: string};

function tlsRows(form: Form): Row[] {
	if (!isAcme(form)) {
		return [
			{id: 'cert', label: 'TLS certificate', value: form.cert},
			{id: 'key', label: 'TLS key', value: form.key},
		];
	}
	const where = form.acme?.directory ?? "Let's Encrypt";
	const autoconfig = moreText('autoconfig', form.extra) === 'no' ? 'no client autoconfig' : 'client autoconfig served';
	return [
		{id: 'cert', label: 'TLS certificate', value: `ACME (${where}): obtained and renewed for ${form.hostname}`},
		{id: 'acmeEmail', label: 'ACME account', value: `${form.acmeEmail ?? ''}${agreed(form) ? ' · terms agreed' : ' · terms NOT agreed'} · ${autoconfig}`},
	];
}

/** The rows of the review screen: label, shown value, the question that edits it. */
export function reviewRows(form: Form, env?: Pick<Env, 'saveDir'>): Row[] {
	const rows: Row[] = [
		{id: 'domain', label: 'Mail domain', value: form.domain},
		{id: 'hostname', label: 'Host name', value: form.hostname},
		{id: 'ipv4', label: 'IPv4', value: form.ipv4 || '(none)'},
		{id: 'ipv6', label: 'IPv6', value: form.ipv6 || '(none)'},
		...tlsRows(form),
	];
	form.users.forEach((u, i) => {
		const pw =
			u.password !== undefined
				? 'password typed (in memory only)'
				: u.passwordFile
					? `password from ${u.passwordFile}`
					: u.passwordFile === ''
						? 'password file not given yet'
						: 'password kept from the earlier run';
		rows.push({id: `user:${i}`, label: `User ${i + 1}`, value: `${u.name}@${form.domain}  · ${pw}`});
	});
	rows.push({id: `user:${form.users.length}`, label: 'Add a user', value: ''});
	rows.push({id: 'more', label: 'More options', value: moreSummary(form.extra)}, {id: 'saveAs', label: 'Save answers to', value: savePath(form, env) || '(not saved)'});
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
