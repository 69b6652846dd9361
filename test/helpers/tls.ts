// A self-signed certificate and key for a host name, made with openssl in a temp dir.
import {execFileSync} from 'node:child_process';
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

export function selfSigned(hostname: string, dir = mkdtempSync(join(tmpdir(), 'mw-tls-'))): {dir: string; cert: string; key: string} {
	const cert = join(dir, 'fullchain.pem');
	const key = join(dir, 'privkey.pem');
	execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${hostname}`, '-addext', `subjectAltName=DNS:${hostname}`], {
		stdio: 'ignore',
	});
	return {dir, cert, key};
}
