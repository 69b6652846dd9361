// The users section: names and where each password comes from. Shape only: password
// files are read at the run's edge (passwords.ts), never here.
import {AnswersError, type LoadOptions, type User} from './types.ts';
import {LOCAL, clip, obj, path, str} from './fields.ts';

const USER_KEYS = ['name', 'password_file', 'password_hash', 'smtpd_hash'];

/** crypt(3) schemes that resist offline guessing: yescrypt, SHA-512, bcrypt. */
const STRONG_CRYPT = /^\$(?:y|6|2[aby])\$/;
/** Dovecot schemes accepted in password_hash, and what their hash part must look like. */
const STRONG_SCHEMES: Readonly<Record<string, RegExp>> = {
	ARGON2ID: /^\$argon2id\$/,
	'BLF-CRYPT': /^\$2[aby]\$/,
	'SHA512-CRYPT': /^\$6\$/,
	CRYPT: STRONG_CRYPT,
};
const STRONG_WORDS = 'ARGON2ID, BLF-CRYPT, SHA512-CRYPT, or CRYPT with yescrypt ($y$), SHA-512 ($6$) or bcrypt ($2y$); make one with doveadm pw -s ARGON2ID';

/** The scheme of a crypt(3) hash, for messages (the hash itself is a secret and never printed). */
function schemeOf(hash: string): string {
	return /^\$[^$]{0,10}\$/.exec(hash)?.[0] ?? 'this hash';
}

function passwordHash(v: unknown, key: string): string | undefined {
	const hash = str(v, key, false);
	if (hash === undefined) return undefined;
	if (/^\$/.test(hash) && !/:/.test(hash)) throw new AnswersError(key, 'needs its scheme in front: {CRYPT}$y$... for a crypt(3) hash');
	const m = /^\{([A-Z0-9.-]+)\}(\S+)$/.exec(hash);
	if (!m || /:/.test(hash)) throw new AnswersError(key, 'must be a Dovecot hash such as "{ARGON2ID}$argon2id$..." or "{CRYPT}$y$..." (no colon, no spaces)');
	const rule = STRONG_SCHEMES[m[1]!];
	if (!rule) throw new AnswersError(key, `{${m[1]}} is not a strong scheme: use ${STRONG_WORDS}`);
	if (!rule.test(m[2]!)) throw new AnswersError(key, `{${m[1]}}${/^\$[^$]{0,10}\$/.exec(m[2]!)?.[0] ?? ''} does not hold a strong hash: use ${STRONG_WORDS}`);
	return hash;
}

function smtpdHash(v: unknown, key: string): string | undefined {
	const hash = str(v, key, false);
	if (hash === undefined) return undefined;
	if (!/^\$[0-9a-z]+\$\S+$/.test(hash) || /:/.test(hash)) throw new AnswersError(key, 'must be a crypt(3) hash such as "$y$..." or "$6$..."');
	if (!STRONG_CRYPT.test(hash)) throw new AnswersError(key, `${schemeOf(hash)} is not a strong scheme: use yescrypt ($y$), SHA-512 ($6$) or bcrypt ($2y$), as smtpctl encrypt makes`);
	return hash;
}

function userName(v: unknown, key: string, domain: string): string {
	const name = str(v, key)!.trim().toLowerCase();
	const at = name.lastIndexOf('@');
	if (at > 0) {
		const local = name.slice(0, at);
		const where = name.slice(at + 1) === domain ? `the address will be ${local}@${domain}` : `users get addresses in ${domain} (and the extra domains)`;
		throw new AnswersError(key, `"${clip(name)}" is an address: give only the name before @ ("${clip(local)}"); ${where}`);
	}
	if (!LOCAL.test(name) || name.includes('..')) throw new AnswersError(key, `"${clip(name)}" is not a valid user name (letters, digits, . _ + -; at most 64)`);
	return name;
}

function user(u: unknown, key: string, domain: string, options: LoadOptions): User {
	const o = obj(u, key);
	for (const k of Object.keys(o)) {
		if (k === 'password') throw new AnswersError(`${key}.password`, 'passwords are never accepted in the answers file; use password_file (a root-only file) or password_hash');
		if (!USER_KEYS.includes(k)) throw new AnswersError(`${key}.${k}`, `unknown key (known: ${USER_KEYS.join(', ')})`);
	}
	const name = userName(o.name, `${key}.name`, domain);
	const passwordFile = o.password_file === undefined ? undefined : path(o.password_file, `${key}.password_file`);
	const given = passwordHash(o.password_hash, `${key}.password_hash`);
	let smtpd = smtpdHash(o.smtpd_hash, `${key}.smtpd_hash`);
	if (!passwordFile && !given && !options.passwordOptional) throw new AnswersError(`${key}.password_file`, 'is required (or password_hash)');
	if (passwordFile && given) throw new AnswersError(`${key}.password_hash`, 'give either password_file or password_hash, not both');
	if (given !== undefined && smtpd === undefined) {
		// Dovecot's crypt schemes are libc crypt(3), the function smtpd checks with.
		smtpd = /^\{(?:CRYPT|SHA512-CRYPT|BLF-CRYPT)\}(\$.+)$/.exec(given)?.[1];
		if (smtpd === undefined)
			throw new AnswersError(
				`${key}.smtpd_hash`,
				'is required with a non-crypt password_hash: OpenSMTPD checks passwords with crypt(3), so give a "$y$..." or "$6$..." hash of the same password (smtpctl encrypt)',
			);
	}
	return {name, passwordFile, passwordHash: given, smtpdHash: smtpd};
}

/** The users, in order; a name appears once. */
export function validateUsers(v: unknown, domain: string, options: LoadOptions): User[] {
	if (!Array.isArray(v) || v.length === 0) throw new AnswersError('users', 'needs at least one user');
	const users: User[] = [];
	const seen = new Set<string>();
	v.forEach((u, i) => {
		const one = user(u, `users[${i}]`, domain, options);
		if (seen.has(one.name)) throw new AnswersError(`users[${i}].name`, `"${one.name}" is listed twice`);
		seen.add(one.name);
		users.push(one);
	});
	return users;
}
