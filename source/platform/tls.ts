// TLS certificate checks, with a precise message for each failure.
import {X509Certificate, createPrivateKey} from 'node:crypto';

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

export function checkTls(t: TlsInput, hostname: string, now = new Date()): TlsVerdict {
	const errors: string[] = [];
	const warnings: string[] = [];
	const info: string[] = [];
	if (t.cert === undefined) {
		errors.push(t.certError === 'ENOENT' ? `tls.cert: ${t.certPath} does not exist` : `tls.cert: cannot read ${t.certPath} (${t.certError})`);
		return {errors, warnings, info};
	}
	const pems = t.cert.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
	if (pems.length === 0) {
		errors.push(`tls.cert: ${t.certPath} holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")`);
		return {errors, warnings, info};
	}
	let x509: X509Certificate;
	try {
		x509 = new X509Certificate(pems[0]!);
	} catch (error) {
		errors.push(`tls.cert: ${t.certPath} is not a valid certificate: ${(error as Error).message}`);
		return {errors, warnings, info};
	}
	const notAfter = new Date(x509.validTo);
	const notBefore = new Date(x509.validFrom);
	if (notAfter < now) errors.push(`tls.cert: the certificate expired on ${notAfter.toISOString().slice(0, 10)}; renew it (certbot renew) and run mailwizard again`);
	else if (notBefore > now) errors.push(`tls.cert: the certificate is not valid before ${notBefore.toISOString()}`);
	else {
		const days = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
		(days < 14 ? warnings : info).push(`certificate for ${hostname} valid until ${notAfter.toISOString().slice(0, 10)} (${days} days)`);
	}
	if (x509.checkHost(hostname) === undefined) {
		errors.push(`tls.cert: the certificate does not cover ${hostname} (it is for ${x509.subjectAltName ?? x509.subject.replace(/\n/g, ', ')})`);
	}
	if (pems.length === 1 && x509.issuer !== x509.subject) {
		warnings.push(`${t.certPath} holds only the server certificate: clients also need the intermediate (use fullchain.pem with Let's Encrypt)`);
	}
	if (t.key === undefined) {
		if (t.keyError === 'EACCES') warnings.push(`tls.key: ${t.keyPath} cannot be read by this user; it is checked when mailwizard runs as root`);
		else errors.push(t.keyError === 'ENOENT' ? `tls.key: ${t.keyPath} does not exist` : `tls.key: cannot read ${t.keyPath} (${t.keyError})`);
		return {errors, warnings, info};
	}
	try {
		const key = createPrivateKey(t.key);
		if (!x509.checkPrivateKey(key)) errors.push(`tls.key: ${t.keyPath} is not the key of the certificate ${t.certPath}`);
	} catch (error) {
		errors.push(`tls.key: ${t.keyPath} is not a readable private key (${(error as Error).message}); an encrypted key cannot be used by a daemon`);
	}
	return {errors, warnings, info};
}
