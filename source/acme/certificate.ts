// The ACME certificate as it is on disk: its serial, names and expiry, and whether the system
// renews it by itself (certbot's systemd timer, or its cron entry without systemd). Read-only.
import {X509Certificate} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import type {Answers} from '../answers/types.ts';
import {onRoot} from '../engine/files.ts';
import type {Ctx} from '../engine/types.ts';

export type CertInfo = {readonly serial: string; readonly names: readonly string[]; readonly notAfter: string};

/** The certificate at `path` (certbot's live fullchain.pem), or undefined when there is none. */
export async function certInfo(root: string, path: string): Promise<CertInfo | undefined> {
	try {
		const x = new X509Certificate(await readFile(onRoot(root, path)));
		const names = (x.subjectAltName ?? '').split(', ').map((n) => n.replace(/^DNS:/, ''));
		return {serial: x.serialNumber, names, notAfter: new Date(x.validTo).toISOString()};
	} catch {
		return undefined;
	}
}

/** How the certificate is renewed on this host: a sentence, or a problem. */
export async function renewalInPlace(ctx: Ctx, a: Answers): Promise<{ok: boolean; text: string}> {
	if (!a.tls.acme) return {ok: true, text: 'own certificate files: renew them yourself, then restart opensmtpd and reload dovecot'};
	if (ctx.profile.init === 'systemd') {
		const r = await ctx.exec.run({argv: ['systemctl', 'is-enabled', 'certbot.timer']}).catch(() => undefined);
		const ok = r?.exitCode === 0;
		return {ok, text: ok ? 'renewal in place: certbot.timer (systemd) renews it, the deploy hook reloads the daemons' : 'certbot.timer is not enabled: run "systemctl enable --now certbot.timer"'};
	}
	const cron = await readFile(onRoot(ctx.root, '/etc/cron.d/certbot'), 'utf8').catch(() => undefined);
	const running = await ctx.exec.run({argv: ['pidof', 'cron']}).catch(() => undefined);
	const ca = a.tls.acme.caBundle;
	const trusts = !ca || (cron ?? '').split('\n').includes(`REQUESTS_CA_BUNDLE=${ca}`);
	const ok = cron !== undefined && running?.exitCode === 0 && trusts;
	return {
		ok,
		text: ok
			? "renewal in place: certbot's cron entry (/etc/cron.d/certbot) renews it, the deploy hook reloads the daemons"
			: cron === undefined
				? '/etc/cron.d/certbot is missing: reinstall certbot'
				: !trusts
					? `/etc/cron.d/certbot does not give certbot REQUESTS_CA_BUNDLE=${ca}: its renewals cannot reach the private ACME directory; run mailwizard again`
					: 'cron is not running: start it ("service cron start"), or certbot never renews',
	};
}

/** "expires 2027-03-02 (89 days)": one line for status and the finish screen. */
export function expiryLine(c: CertInfo, now = Date.now()): string {
	const days = Math.floor((Date.parse(c.notAfter) - now) / 86_400_000);
	return `certificate for ${c.names.join(', ')} expires ${c.notAfter.slice(0, 10)} (${days} days), serial ${c.serial}`;
}
