// The answers: what the operator tells mailwizard (TUI questions or --answers FILE).
// Everything is validated here, before anything is planned; an error names its key.
import {readFileSync} from 'node:fs';
import {isIP} from 'node:net';
import {parse as parseYaml} from 'yaml';

export class AnswersError extends Error {
	constructor(
		readonly key: string,
		message: string,
	) {
		super(`${key}: ${message}`);
		this.name = 'AnswersError';
	}
}

export type User = {
	/** Local part, lower case: "alice" for alice@example.com. */
	readonly name: string;
	readonly passwordFile?: string;
	/** A Dovecot hash ("{ARGON2ID}$argon2id$..." or "{CRYPT}$y$..."), given instead of a password. */
	readonly passwordHash?: string;
	/** A crypt(3) hash for smtpd ("$y$...", "$6$..."); derived from passwordHash when that is a crypt hash. */
	readonly smtpdHash?: string;
	/** The password itself: only in memory (typed in the TUI or read from passwordFile). */
	readonly password?: string;
};

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export type Answers = {
	readonly domain: string;
	readonly hostname: string;
	readonly ipv4?: string;
	readonly ipv6?: string;
	readonly tls: {readonly cert: string; readonly key: string};
	readonly users: readonly User[];
	/** local part -> targets (local user names or full external addresses). */
	readonly aliases: Readonly<Record<string, readonly string[]>>;
	readonly catchAll?: string;
	readonly dkim: {readonly selector: string};
	readonly dmarc: {readonly policy: DmarcPolicy; readonly rua?: string; readonly ruf?: string};
	readonly extraDomains: readonly string[];
	readonly mtaSts?: {readonly mode: 'testing' | 'enforce' | 'none'};
	readonly tlsrpt?: {readonly rua: string};
	/** Consent to remove another MTA (exim4, postfix) that holds port 25. */
	readonly removeMta: boolean;
};

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const LOCAL = /^[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?$/;
const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,62})$/;
const ADDRESS = /^([a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?)@([a-z0-9.-]+)$/;

export function isDomainName(s: string): boolean {
	if (s.length > 253 || !s.includes('.')) return false;
	const labels = s.split('.');
	return labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels.at(-1)!);
}

function str(v: unknown, key: string, required = true): string | undefined {
	if (v === undefined || v === null || v === '') {
		if (required) throw new AnswersError(key, 'is required');
		return undefined;
	}
	if (typeof v !== 'string' && typeof v !== 'number') throw new AnswersError(key, 'must be a string');
	const s = String(v);
	if (/[\0\r\n]/.test(s)) throw new AnswersError(key, 'must be a single line (no newline or NUL)');
	return s;
}

function domainAt(v: unknown, key: string): string {
	const s = str(v, key)!.trim().toLowerCase().replace(/\.$/, '');
	if (!isDomainName(s)) throw new AnswersError(key, `"${clip(String(v))}" is not a valid domain name (letters, digits, hyphens; dot-separated labels of at most 63 characters)`);
	return s;
}

function clip(s: string): string {
	return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function path(v: unknown, key: string): string {
	const s = str(v, key)!;
	if (!s.startsWith('/')) throw new AnswersError(key, `must be an absolute path, got "${clip(s)}"`);
	if (/["'\s;:\\`$]/.test(s)) throw new AnswersError(key, 'must not contain spaces, quotes, colons, backslashes, semicolons or $');
	return s;
}

function address(v: unknown, key: string): string {
	const s = str(v, key)!
		.trim()
		.toLowerCase()
		.replace(/^mailto:/, '');
	const m = ADDRESS.exec(s);
	if (!m || !isDomainName(m[2]!)) throw new AnswersError(key, `"${clip(s)}" is not a valid e-mail address`);
	return s;
}

function obj(v: unknown, key: string): Record<string, unknown> {
	if (v === undefined || v === null) return {};
	if (typeof v !== 'object' || Array.isArray(v)) throw new AnswersError(key, 'must be a mapping');
	return v as Record<string, unknown>;
}

const KNOWN = new Set(['domain', 'hostname', 'ipv4', 'ipv6', 'tls', 'users', 'aliases', 'catch_all', 'dkim', 'dmarc', 'extra_domains', 'mta_sts', 'tlsrpt', 'remove_mta']);

export type LoadOptions = {
	/** Read password files now (false in a dry run: they may be root-only). */
	readonly readPasswords: boolean;
	/** Fill ipv4 when absent (the host's public address). */
	readonly defaultIpv4?: () => string | undefined;
	/**
	 * Saved answers of an interactive run: a typed password was never saved, so a user may
	 * have neither password_file nor password_hash. The hashes on disk are kept; a step that
	 * would need the password stops with a clear message instead.
	 */
	readonly passwordOptional?: boolean;
};

/** Validates raw answers (parsed YAML/JSON or the TUI's) into Answers. */
export function validateAnswers(raw: unknown, options: LoadOptions): Answers {
	const r = obj(raw, '(answers)');
	for (const k of Object.keys(r)) if (!KNOWN.has(k)) throw new AnswersError(k, `unknown key (known: ${[...KNOWN].join(', ')})`);
	const domain = domainAt(r.domain, 'domain');
	const hostname = domainAt(r.hostname, 'hostname');
	if (hostname === domain) {
		// The guide allows it (MX example.com.), but a separate host name keeps the apex free for the web.
	}
	let ipv4 = str(r.ipv4, 'ipv4', false)?.trim();
	if (ipv4 === undefined) ipv4 = options.defaultIpv4?.();
	if (ipv4 !== undefined && isIP(ipv4) !== 4) throw new AnswersError('ipv4', `"${clip(ipv4)}" is not an IPv4 address`);
	let ipv6 = str(r.ipv6, 'ipv6', false)?.trim().toLowerCase();
	if (ipv6 !== undefined && isIP(ipv6) !== 6) throw new AnswersError('ipv6', `"${clip(ipv6)}" is not an IPv6 address`);
	if (ipv4 === undefined && ipv6 === undefined) throw new AnswersError('ipv4', 'is required (no public address was found on this host)');

	const tlsRaw = obj(r.tls, 'tls');
	const tls = {cert: path(tlsRaw.cert, 'tls.cert'), key: path(tlsRaw.key, 'tls.key')};

	if (!Array.isArray(r.users) || r.users.length === 0) throw new AnswersError('users', 'needs at least one user');
	const users: User[] = [];
	const seen = new Set<string>();
	r.users.forEach((u, i) => {
		const key = `users[${i}]`;
		const o = obj(u, key);
		for (const k of Object.keys(o))
			if (!['name', 'password_file', 'password_hash', 'smtpd_hash', 'password'].includes(k))
				throw new AnswersError(`${key}.${k}`, 'unknown key (known: name, password_file, password_hash, smtpd_hash)');
		if (o.password !== undefined) throw new AnswersError(`${key}.password`, 'passwords are never accepted in the answers file; use password_file (a root-only file) or password_hash');
		const name = str(o.name, `${key}.name`)!.trim().toLowerCase();
		if (!LOCAL.test(name) || name.includes('..')) throw new AnswersError(`${key}.name`, `"${clip(name)}" is not a valid user name (letters, digits, . _ + -; at most 64)`);
		if (seen.has(name)) throw new AnswersError(`${key}.name`, `"${name}" is listed twice`);
		seen.add(name);
		const passwordFile = o.password_file === undefined ? undefined : path(o.password_file, `${key}.password_file`);
		const passwordHash = str(o.password_hash, `${key}.password_hash`, false);
		let smtpdHash = str(o.smtpd_hash, `${key}.smtpd_hash`, false);
		if (!passwordFile && !passwordHash && !options.passwordOptional) throw new AnswersError(`${key}.password_file`, 'is required (or password_hash)');
		if (passwordFile && passwordHash) throw new AnswersError(`${key}.password_hash`, 'give either password_file or password_hash, not both');
		if (passwordHash !== undefined) {
			if (!/^\{[A-Z0-9-]+\}\S+$/.test(passwordHash) || /:/.test(passwordHash))
				throw new AnswersError(`${key}.password_hash`, 'must be a Dovecot hash such as "{ARGON2ID}$argon2id$..." or "{CRYPT}$y$..." (no colon, no spaces)');
			const crypt = /^\{(?:CRYPT|SHA512-CRYPT|SHA256-CRYPT|BLF-CRYPT)\}(\$.+)$/.exec(passwordHash);
			if (smtpdHash === undefined && crypt) smtpdHash = crypt[1];
			if (smtpdHash === undefined)
				throw new AnswersError(
					`${key}.smtpd_hash`,
					'is required with a non-crypt password_hash: OpenSMTPD checks passwords with crypt(3), so give a "$y$..." or "$6$..." hash of the same password (smtpctl encrypt)',
				);
		}
		if (smtpdHash !== undefined && (!/^\$[0-9a-z]+\$\S+$/.test(smtpdHash) || /:/.test(smtpdHash))) throw new AnswersError(`${key}.smtpd_hash`, 'must be a crypt(3) hash such as "$y$..." or "$6$..."');
		let password: string | undefined;
		if (passwordFile && options.readPasswords) {
			let text: string;
			try {
				text = readFileSync(passwordFile, 'utf8');
			} catch (error) {
				throw new AnswersError(`${key}.password_file`, `cannot read ${passwordFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
			}
			password = text.replace(/\r?\n$/, '');
			if (password.length === 0) throw new AnswersError(`${key}.password_file`, `${passwordFile} is empty`);
			if (/[\n\r\0]/.test(password)) throw new AnswersError(`${key}.password_file`, `${passwordFile} must hold one line (the password, then a newline)`);
			if (password.length < 8) throw new AnswersError(`${key}.password_file`, 'the password is shorter than 8 characters');
		}
		users.push({name, passwordFile, passwordHash, smtpdHash, password});
	});

	const extraDomains: string[] = [];
	if (r.extra_domains !== undefined) {
		if (!Array.isArray(r.extra_domains)) throw new AnswersError('extra_domains', 'must be a list of domains');
		r.extra_domains.forEach((d, i) => {
			const name = domainAt(d, `extra_domains[${i}]`);
			if (name === domain || extraDomains.includes(name)) throw new AnswersError(`extra_domains[${i}]`, `"${name}" is listed twice`);
			extraDomains.push(name);
		});
	}
	const ownDomains = new Set([domain, ...extraDomains]);

	const aliases: Record<string, string[]> = {};
	const aliasRaw = obj(r.aliases, 'aliases');
	for (const [k, v] of Object.entries(aliasRaw)) {
		const key = `aliases.${k}`;
		let local = k.trim().toLowerCase();
		if (local.includes('@')) {
			const a = address(local, key);
			const [lp, dom] = a.split('@') as [string, string];
			if (!ownDomains.has(dom)) throw new AnswersError(key, `"${a}" is not in this server's domains (${[...ownDomains].join(', ')})`);
			local = lp;
		}
		if (!LOCAL.test(local)) throw new AnswersError(key, `"${clip(k)}" is not a valid local part`);
		if (seen.has(local)) throw new AnswersError(key, `"${local}" is already a user; an address is either a user or an alias`);
		if (aliases[local]) throw new AnswersError(key, `"${local}" is listed twice`);
		const list = Array.isArray(v) ? v : [v];
		if (list.length === 0) throw new AnswersError(key, 'needs at least one target');
		aliases[local] = list.map((t, i) => {
			const tk = Array.isArray(v) ? `${key}[${i}]` : key;
			const s = str(t, tk)!.trim().toLowerCase();
			if (s.includes('@')) {
				const a = address(s, tk);
				const [lp, dom] = a.split('@') as [string, string];
				if (ownDomains.has(dom)) return lp; // a local target written in full
				return a;
			}
			if (!LOCAL.test(s)) throw new AnswersError(tk, `"${clip(s)}" is not a user name or an e-mail address`);
			return s;
		});
	}
	// Required addresses (RFC 5321 4.5.1, RFC 2142): delivered to the first user unless given.
	for (const required of ['postmaster', 'abuse']) if (!seen.has(required) && !aliases[required]) aliases[required] = [users[0]!.name];
	// Every local target must resolve to a user, without loops.
	const resolve = (local: string, trail: string[], key: string): void => {
		if (trail.includes(local)) throw new AnswersError(key, `alias loop: ${[...trail, local].join(' -> ')}`);
		if (seen.has(local)) return;
		const targets = aliases[local];
		if (!targets) throw new AnswersError(key, `"${local}" is neither a user nor an alias`);
		for (const t of targets) if (!t.includes('@')) resolve(t, [...trail, local], key);
	};
	for (const local of Object.keys(aliases)) resolve(local, [], `aliases.${local}`);

	const catchAllRaw = str(r.catch_all, 'catch_all', false)?.trim().toLowerCase();
	if (catchAllRaw !== undefined && !seen.has(catchAllRaw)) throw new AnswersError('catch_all', `"${clip(catchAllRaw)}" is not one of the users (${[...seen].join(', ')})`);

	const dkimRaw = obj(r.dkim, 'dkim');
	const selector = (str(dkimRaw.selector, 'dkim.selector', false) ?? 'mail').trim().toLowerCase();
	if (!SELECTOR.test(selector)) throw new AnswersError('dkim.selector', `"${clip(selector)}" is not a valid selector (letters, digits, hyphens; at most 63)`);

	const dmarcRaw = obj(r.dmarc, 'dmarc');
	const policy = (str(dmarcRaw.policy, 'dmarc.policy', false) ?? 'reject').trim().toLowerCase();
	if (!['none', 'quarantine', 'reject'].includes(policy)) throw new AnswersError('dmarc.policy', `must be none, quarantine or reject, got "${clip(policy)}"`);
	const rua = dmarcRaw.rua === undefined ? undefined : address(dmarcRaw.rua, 'dmarc.rua');
	const ruf = dmarcRaw.ruf === undefined ? undefined : address(dmarcRaw.ruf, 'dmarc.ruf');

	let mtaSts: Answers['mtaSts'];
	if (r.mta_sts !== undefined) {
		const m = obj(r.mta_sts, 'mta_sts');
		const mode = (str(m.mode, 'mta_sts.mode', false) ?? 'testing').trim().toLowerCase();
		if (!['testing', 'enforce', 'none'].includes(mode)) throw new AnswersError('mta_sts.mode', 'must be testing, enforce or none');
		mtaSts = {mode: mode as 'testing' | 'enforce' | 'none'};
	}
	let tlsrpt: Answers['tlsrpt'];
	if (r.tlsrpt !== undefined) tlsrpt = {rua: address(obj(r.tlsrpt, 'tlsrpt').rua, 'tlsrpt.rua')};

	// Addresses the wizard publishes in DNS must be deliverable when they are ours.
	const deliverable = (a: string, key: string): void => {
		const [lp, dom] = a.split('@') as [string, string];
		if (!ownDomains.has(dom)) return;
		if (!seen.has(lp) && !aliases[lp] && catchAllRaw === undefined) throw new AnswersError(key, `${a} is published in DNS but is neither a user nor an alias: add "${lp}" under aliases`);
	};
	if (rua) deliverable(rua, 'dmarc.rua');
	if (ruf) deliverable(ruf, 'dmarc.ruf');
	if (tlsrpt) deliverable(tlsrpt.rua, 'tlsrpt.rua');

	const removeMta = r.remove_mta === undefined ? false : r.remove_mta;
	if (typeof removeMta !== 'boolean') throw new AnswersError('remove_mta', 'must be true or false');

	return {
		domain,
		hostname,
		ipv4,
		ipv6,
		tls,
		users,
		aliases,
		catchAll: catchAllRaw,
		dkim: {selector},
		dmarc: {policy: policy as DmarcPolicy, rua, ruf},
		extraDomains,
		mtaSts,
		tlsrpt,
		removeMta,
	};
}

export function parseAnswersText(text: string, file: string): unknown {
	try {
		return parseYaml(text, {strict: true, uniqueKeys: true});
	} catch (error) {
		throw new AnswersError('(file)', `${file} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
	}
}

export function loadAnswersFile(file: string, options: LoadOptions): Answers {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		throw new AnswersError('--answers', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
	}
	return validateAnswers(parseAnswersText(text, file), options);
}

/** The answers as saved in the state and shown in status: never a password. */
export function publicAnswers(a: Answers): Record<string, unknown> {
	return {
		...a,
		users: a.users.map(({password: _p, ...u}) => u),
	};
}

/** Every address the server accepts, per domain (users and aliases). */
export function acceptedAddresses(a: Answers): string[] {
	const locals = [...a.users.map((u) => u.name), ...Object.keys(a.aliases)];
	return [a.domain, ...a.extraDomains].flatMap((d) => locals.map((l) => `${l}@${d}`));
}
