// The answers' `tls` section with its ACME form, and `autoconfig` (issue 16). Standalone so
// validateAnswers can call it: `tls` is either the operator's own files or ACME, never both.
//
//   tls: {cert: /path, key: /path}                       own files (unchanged)
//   tls: {acme: {email, directory?, ca_bundle?}}         certbot obtains and renews it
//   autoconfig: true|false                               default: true with ACME, false with own files
//
// Only the shape is checked here: whether ca_bundle exists and parses is a check of the host
// (preflight), as for cert/key, so that a dry run elsewhere validates the same answers.
import {AnswersError} from './types.ts';
import {isDomainName, path} from './fields.ts';

/** Let's Encrypt's production directory: the default when the answers name none. */
export const LE_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export const ACME_LIVE = '/etc/letsencrypt/live';

/** Where certbot links the current certificate (full chain) and key of a lineage. */
export function livePaths(certName: string): {readonly cert: string; readonly key: string} {
	return {cert: `${ACME_LIVE}/${certName}/fullchain.pem`, key: `${ACME_LIVE}/${certName}/privkey.pem`};
}

export type TlsAnswers =
	| {readonly kind: 'files'; readonly cert: string; readonly key: string}
	| {
			readonly kind: 'acme';
			/** The ACME account contact (lower case, no mailto:). */
			readonly email: string;
			/** The directory URL: https, no credentials, no fragment. LE_DIRECTORY when not given. */
			readonly directory: string;
			/** A PEM file to trust for the directory's HTTPS (private ACME servers, tests). */
			readonly caBundle?: string;
	  };

const ADDRESS = /^([a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?)@([a-z0-9.-]+)$/;
const UNSAFE_PATH = /["'\s;:\\`$]/;

function mapping(v: unknown, key: string): Record<string, unknown> {
	if (v === undefined || v === null) return {};
	if (typeof v !== 'object' || Array.isArray(v)) throw new AnswersError(key, 'must be a mapping');
	return v as Record<string, unknown>;
}

function known(m: Record<string, unknown>, key: string, keys: readonly string[]): void {
	for (const k of Object.keys(m)) if (!keys.includes(k)) throw new AnswersError(`${key}.${k}`, `unknown key (known: ${keys.join(', ')})`);
}

function line(v: unknown, key: string): string | undefined {
	if (v === undefined || v === null || v === '') return undefined;
	if (typeof v !== 'string') throw new AnswersError(key, 'must be a string');
	if (/[\0\r\n]/.test(v)) throw new AnswersError(key, 'must be a single line (no newline or NUL)');
	return v.trim();
}

function absPath(v: unknown, key: string): string | undefined {
	const s = line(v, key);
	if (s === undefined) return undefined;
	if (/[#%<=]/.test(s)) return path(s, key);
	if (!s.startsWith('/')) throw new AnswersError(key, `must be an absolute path, got "${s.slice(0, 60)}"`);
	if (UNSAFE_PATH.test(s)) throw new AnswersError(key, 'must not contain spaces, quotes, colons, backslashes, semicolons or $');
	return s;
}

function email(v: unknown, key: string): string {
	const s = line(v, key)
		?.toLowerCase()
		.replace(/^mailto:/, '');
	if (s === undefined) throw new AnswersError(key, 'is required (the ACME account contact: expiry and problem notices go there)');
	const m = ADDRESS.exec(s);
	if (!m || !isDomainName(m[2]!)) throw new AnswersError(key, `"${s.slice(0, 60)}" is not a valid e-mail address`);
	return s;
}

/** An ACME directory URL: https only (RFC 8555 section 6.1), a host, no user:password, no fragment. */
function directoryUrl(v: unknown, key: string): string | undefined {
	const s = line(v, key);
	if (s === undefined) return undefined;
	let u: URL;
	try {
		u = new URL(s);
	} catch {
		throw new AnswersError(key, `"${s.slice(0, 60)}" is not a URL`);
	}
	if (u.protocol !== 'https:') throw new AnswersError(key, 'must be an https:// URL (ACME runs over HTTPS only)');
	if (!u.hostname) throw new AnswersError(key, 'must name a host');
	if (u.username || u.password) throw new AnswersError(key, 'must not contain a user name or password');
	if (u.hash) throw new AnswersError(key, 'must not contain a #fragment');
	if (/\s|["'`$\\]/.test(s)) throw new AnswersError(key, 'must not contain spaces, quotes, backslashes or $');
	return s;
}

function acmeSection(raw: unknown): TlsAnswers {
	const a = mapping(raw, 'tls.acme');
	known(a, 'tls.acme', ['email', 'directory', 'ca_bundle']);
	const directory = directoryUrl(a.directory, 'tls.acme.directory');
	const caBundle = absPath(a.ca_bundle, 'tls.acme.ca_bundle');
	if (caBundle && !directory) throw new AnswersError('tls.acme.ca_bundle', "is only for a private ACME server: give tls.acme.directory too (Let's Encrypt needs no bundle)");
	return {kind: 'acme', email: email(a.email, 'tls.acme.email'), directory: directory ?? LE_DIRECTORY, ...(caBundle ? {caBundle} : {})};
}

/** Validates `tls`: own files ({cert, key}) or ACME ({acme: {...}}), exactly one of the two. */
export function validateTls(raw: unknown): TlsAnswers {
	const t = mapping(raw, 'tls');
	known(t, 'tls', ['cert', 'key', 'acme']);
	const files = t.cert !== undefined || t.key !== undefined;
	if (t.acme !== undefined && files) throw new AnswersError('tls', 'give either cert and key (your own certificate) or acme (obtained and renewed by certbot), not both');
	if (t.acme !== undefined) return acmeSection(t.acme);
	if (!files) throw new AnswersError('tls', 'needs cert and key (your own certificate) or acme: {email: ...} (a certificate from an ACME server such as Let’s Encrypt)');
	const cert = absPath(t.cert, 'tls.cert');
	const key = absPath(t.key, 'tls.key');
	if (!cert) throw new AnswersError('tls.cert', 'is required');
	if (!key) throw new AnswersError('tls.key', 'is required');
	return {kind: 'files', cert, key};
}

/**
 * `autoconfig`: a boolean, on by default with ACME. With own files it is refused when asked
 * for: the certificate must cover autoconfig.DOMAIN, which only the ACME path guarantees.
 */
export function validateAutoconfig(raw: unknown, tls: TlsAnswers): boolean {
	if (raw === undefined || raw === null) return tls.kind === 'acme';
	if (typeof raw !== 'boolean') throw new AnswersError('autoconfig', 'must be true or false');
	if (raw && tls.kind !== 'acme') throw new AnswersError('autoconfig', 'needs tls.acme: the certificate must also cover autoconfig.DOMAIN, which own files do not guarantee');
	return raw;
}
