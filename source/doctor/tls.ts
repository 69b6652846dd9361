// Certificate rows: the certificate each port actually serves (a handshake from here, STARTTLS
// on 25 and 587) is the file on disk, covers the host name, and is not about to expire.
import {X509Certificate} from 'node:crypto';
import {connect as tcp, type Socket} from 'node:net';
import {connect as tlsConnect} from 'node:tls';
import type {Row} from './row.ts';

export type Served = {readonly der: Buffer} | {readonly error: string};

/** Reads SMTP replies until a final line ("250 ", not "250-"); resolves with its code. */
function smtpReply(s: Socket): Promise<string> {
	return new Promise((resolve, reject) => {
		let buf = '';
		const onData = (d: Buffer) => {
			buf += d.toString('latin1');
			const last = buf.split('\r\n').find((l) => /^\d{3} /.test(l) || /^\d{3}$/.test(l));
			if (last) {
				s.off('data', onData);
				resolve(last.slice(0, 3));
			}
		};
		s.on('data', onData);
		s.once('error', reject);
	});
}

async function starttls(s: Socket, helo: string): Promise<void> {
	if ((await smtpReply(s)) !== '220') throw new Error('no 220 greeting');
	s.write(`EHLO ${helo}\r\n`);
	if ((await smtpReply(s)) !== '250') throw new Error('EHLO refused');
	s.write('STARTTLS\r\n');
	const code = await smtpReply(s);
	if (code !== '220') throw new Error(`STARTTLS refused (${code})`);
}

/** The certificate served on host:port for servername; smtp: plain SMTP, then STARTTLS. */
export function servedCertificate(host: string, port: number, servername: string, smtp: boolean, timeoutMs = 5000): Promise<Served> {
	return new Promise((resolve) => {
		const plain = tcp({host, port});
		const timer = setTimeout(() => done({error: `no handshake within ${timeoutMs / 1000} s`}), timeoutMs);
		function done(v: Served) {
			clearTimeout(timer);
			plain.destroy();
			resolve(v);
		}
		plain.once('error', (e: NodeJS.ErrnoException) => done({error: e.code ?? e.message}));
		plain.once('connect', async () => {
			try {
				if (smtp) await starttls(plain, 'mailwizard-check.invalid');
			} catch (error) {
				done({error: (error as Error).message});
				return;
			}
			const t = tlsConnect({socket: plain, servername, rejectUnauthorized: false});
			t.once('secureConnect', () => done({der: t.getPeerCertificate().raw}));
			t.once('error', (e) => done({error: `TLS: ${e.message}`}));
		});
	});
}

export function firstCertificate(pem: string): X509Certificate | undefined {
	const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
	try {
		return first ? new X509Certificate(first) : undefined;
	} catch {
		return undefined;
	}
}

/** The verdict on what one port serves, against the file on disk (undefined: not readable). */
export function certRow(port: number, served: Served, file: X509Certificate | undefined, certPath: string, hostname: string, now = new Date()): Row {
	const id = `tls:${port}`;
	if ('error' in served) return {id, area: 'tls', status: 'fail', detail: `no TLS on port ${port}: ${served.error}`, fix: 'check the daemon on this port and its log', who: 'admin'};
	const cert = new X509Certificate(served.der);
	const reload = `restart the daemon on port ${port} so it loads ${certPath}`;
	if (!file) return {id, area: 'tls', status: 'unknown', detail: `${certPath} cannot be read: the served certificate cannot be compared`, fix: 'run check as root', who: 'admin'};
	if (!cert.raw.equals(file.raw))
		return {id, area: 'tls', status: 'fail', detail: `port ${port} serves a certificate other than ${certPath} (serial ${cert.serialNumber}, file ${file.serialNumber})`, fix: reload, who: 'admin'};
	if (cert.checkHost(hostname) === undefined)
		return {id, area: 'tls', status: 'fail', detail: `the certificate does not cover ${hostname} (${cert.subjectAltName ?? cert.subject})`, fix: `get a certificate for ${hostname}`, who: 'admin'};
	const days = Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / 86_400_000);
	const until = `valid until ${new Date(cert.validTo).toISOString().slice(0, 10)}`;
	if (days < 0) return {id, area: 'tls', status: 'fail', detail: `the certificate expired (${until})`, fix: `renew ${certPath}, then ${reload}`, who: 'admin'};
	if (days < 7) return {id, area: 'tls', status: 'fail', detail: `the certificate expires in ${days} days (${until})`, fix: `renew ${certPath} now`, who: 'admin'};
	if (days < 21)
		return {id, area: 'tls', status: 'warn', detail: `the certificate expires in ${days} days (${until})`, fix: `renew ${certPath} (certbot renew), or check why renewal did not run`, who: 'admin'};
	return {id, area: 'tls', status: 'ok', detail: `serves ${certPath}, covers ${hostname}, ${until} (${days} days)`};
}

export const TLS_PORTS = [
	{port: 25, smtp: true},
	{port: 465, smtp: false},
	{port: 587, smtp: true},
	{port: 993, smtp: false},
] as const;

export async function tlsRows(
	host: string,
	hostname: string,
	certPath: string,
	certPem: string | undefined,
	ports: readonly {readonly port: number; readonly smtp: boolean}[] = TLS_PORTS,
): Promise<Row[]> {
	const file = certPem === undefined ? undefined : firstCertificate(certPem);
	return Promise.all(ports.map(async ({port, smtp}) => certRow(port, await servedCertificate(host, port, hostname, smtp), file, certPath, hostname)));
}
