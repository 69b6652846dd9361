// TLS certificate checks, with a precise message for each failure and one verdict per
// property: a certificate for another name is told as that, never also as "valid for".
import {X509Certificate, createPrivateKey} from 'node:crypto';
import {rootCertificates} from 'node:tls';

export type TlsInput = {
	readonly certPath: string;
	readonly keyPath: string;
	readonly cert?: string;
	readonly certError?: string;
	readonly key?: string;
	readonly keyError?: string;
	readonly keyMode?: number;
};

export type TlsVerdict = {
	readonly errors: string[];
	readonly warnings: string[];
	readonly info: string[];
};

function readError(field: string, path: string, code: string | undefined): string {
	if (code === 'ENOENT') return `${field}: ${path} does not exist`;
	return /^E[A-Z]+$/.test(code ?? '') || code === undefined ? `${field}: cannot read ${path} (${code})` : `${field}: ${path} ${code}`;
}

function parseCert(t: TlsInput, errors: string[]): X509Certificate[] | undefined {
	if (t.cert === undefined) {
		errors.push(readError('tls.cert', t.certPath, t.certError));
		return undefined;
	}
	const pems = t.cert.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
	if (pems.length === 0) {
		errors.push(`tls.cert: ${t.certPath} holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")`);
		return undefined;
	}
	try {
		return pems.map((p) => new X509Certificate(p));
	} catch (error) {
		errors.push(`tls.cert: ${t.certPath} is not a valid certificate: ${(error as Error).message}`);
		return undefined;
	}
}

let roots: X509Certificate[] | undefined;
function publicRoots(): X509Certificate[] {
	roots ??= rootCertificates.flatMap((p) => {
		try {
			return [new X509Certificate(p)];
		} catch {
			return [];
		}
	});
	return roots;
}

/** "self-signed", "private" (its chain ends at no public root CA) or "public". */
export function issuerKind(chain: readonly X509Certificate[]): 'self-signed' | 'private' | 'public' {
	const leaf = chain[0]!;
	if (chain.length === 1 && leaf.checkIssued(leaf)) return 'self-signed';
	const last = chain[chain.length - 1]!;
	const trusted = publicRoots().some((r) => r.fingerprint256 === last.fingerprint256 || last.checkIssued(r));
	return trusted ? 'public' : 'private';
}

function checkIssuer(t: TlsInput, chain: readonly X509Certificate[], warnings: string[]): void {
	const k = issuerKind(chain);
	const consequence =
		"other mail servers will still deliver to it (most do not check certificates on port 25) but servers that require verified TLS (MTA-STS in enforce mode, DANE without a matching TLSA record) will not, and mail clients will show a certificate warning or refuse to connect; use a certificate from a public CA (Let's Encrypt: certbot certonly)";
	if (k === 'self-signed') warnings.push(`${t.certPath} is self-signed: ${consequence}`);
	else if (k === 'private') warnings.push(`${t.certPath} is issued by a CA that is not publicly trusted (${chain[chain.length - 1]!.issuer.replace(/\n/g, ', ')}): ${consequence}`);
	else if (chain.length === 1) warnings.push(`${t.certPath} holds only the server certificate: clients also need the intermediate (use fullchain.pem with Let's Encrypt)`);
}

function checkDates(x509: X509Certificate, covered: boolean, hostname: string, now: Date, v: TlsVerdict): void {
	const notAfter = new Date(x509.validTo);
	const notBefore = new Date(x509.validFrom);
	if (notAfter < now) v.errors.push(`tls.cert: the certificate expired on ${notAfter.toISOString().slice(0, 10)}; renew it (certbot renew) and run mailwizard again`);
	else if (notBefore > now) v.errors.push(`tls.cert: the certificate is not valid before ${notBefore.toISOString()}`);
	else {
		const days = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
		const what = covered ? `certificate for ${hostname}` : 'the certificate';
		if (days < 14) v.warnings.push(`${what} expires in ${days} days (${notAfter.toISOString().slice(0, 10)}): renew it soon`);
		else if (covered) v.info.push(`${what} valid until ${notAfter.toISOString().slice(0, 10)} (${days} days)`);
	}
}

function checkKey(t: TlsInput, x509: X509Certificate, v: TlsVerdict): void {
	if (t.key === undefined) {
		if (t.keyError === 'EACCES') v.warnings.push(`tls.key: ${t.keyPath} cannot be read by this user; it is checked when mailwizard runs as root`);
		else v.errors.push(readError('tls.key', t.keyPath, t.keyError));
		return;
	}
	try {
		const key = createPrivateKey(t.key);
		if (!x509.checkPrivateKey(key)) v.errors.push(`tls.key: ${t.keyPath} is not the key of the certificate ${t.certPath}`);
	} catch (error) {
		v.errors.push(`tls.key: ${t.keyPath} is not a readable private key (${(error as Error).message}); an encrypted key cannot be used by a daemon`);
	}
}

export function checkTls(t: TlsInput, hostname: string, now = new Date()): TlsVerdict {
	const v: TlsVerdict = {errors: [], warnings: [], info: []};
	const chain = parseCert(t, v.errors);
	if (!chain) return v;
	const x509 = chain[0]!;
	const covered = x509.checkHost(hostname) !== undefined;
	if (!covered) v.errors.push(`tls.cert: the certificate does not cover ${hostname} (it is for ${x509.subjectAltName ?? x509.subject.replace(/\n/g, ', ')})`);
	checkDates(x509, covered, hostname, now, v);
	checkIssuer(t, chain, v.warnings);
	checkKey(t, x509, v);
	return v;
}
