// The certificate by ACME: certbot's command line (webroot mode, from Debian's certbot) and the
// deploy hook that makes every daemon serving the certificate pick up a new one. Pure.
//
// certbot keeps its account key and the certificates under /etc/letsencrypt itself; nothing
// secret ever goes through argv or the environment (the ACME account has no password).
import {ALIVE_SH} from '../source/engine/services.ts';

import {ACME_LIVE, LE_DIRECTORY, livePaths} from '../source/answers/acme.ts';

export {LE_DIRECTORY, livePaths};

export const ACME_PATHS = {
	/** certbot's webroot: it writes .well-known/acme-challenge/TOKEN under it, nginx serves it on port 80. */
	webroot: '/var/www/mailwizard/acme',
	/** The deploy hook certbot runs after every issuance or renewal (and only then). */
	hook: '/etc/letsencrypt/mailwizard-deploy-hook',
	live: ACME_LIVE,
} as const;

/**
 * Every name the certificate covers: the host name first (it names the lineage), then
 * mta-sts.DOMAIN for each domain with MTA-STS and autoconfig.DOMAIN for each with autoconfig.
 * Lower case, no duplicates, in this order (certbot compares the list on a re-run).
 */
export function certificateNames(hostname: string, mtaStsDomains: readonly string[], autoconfigDomains: readonly string[]): string[] {
	const names = [hostname, ...mtaStsDomains.map((d) => `mta-sts.${d}`), ...autoconfigDomains.map((d) => `autoconfig.${d}`)].map((n) => n.toLowerCase());
	return [...new Set(names)];
}

export type CertbotVars = {
	/** The ACME account contact. */
	readonly email: string;
	/** The ACME directory URL (LE_DIRECTORY when the answers name none). */
	readonly directory: string;
	/** The names, host name first (certificateNames()). */
	readonly names: readonly string[];
	/** Renew now even when not due (mailwizard renew --force). */
	readonly force?: boolean;
};

/**
 * `certbot certonly` in webroot mode. Non-interactive, terms agreed, the lineage named after
 * the host name; --keep-until-expiring makes a re-run with the same names a no-op until the
 * certificate is due, and --expand lets a run that adds a name (a new domain) reissue under
 * the same lineage instead of creating "-0001". The deploy hook is stored in the lineage's
 * renewal file, so the system's timer (or cron entry) runs it on every renewal.
 */
export function certbotArgv(v: CertbotVars): string[] {
	if (v.names.length === 0) throw new Error('certbotArgv: no names');
	const argv = ['certbot', 'certonly', '--non-interactive', '--agree-tos', '--email', v.email, '--no-eff-email', '--server', v.directory];
	argv.push('--webroot', '--webroot-path', ACME_PATHS.webroot, '--cert-name', v.names[0]!);
	for (const n of v.names) argv.push('-d', n);
	argv.push(v.force ? '--force-renewal' : '--keep-until-expiring', '--expand', '--deploy-hook', ACME_PATHS.hook);
	return argv;
}

/** The environment certbot runs with: a private directory's HTTPS trusted through its CA bundle. */
export function certbotEnv(caBundle: string | undefined): Record<string, string> {
	return caBundle ? {REQUESTS_CA_BUNDLE: caBundle} : {};
}

/**
 * `certbot renew` for one lineage through the same path as the timer (mailwizard renew):
 * the deploy hook stored in the renewal file runs when a certificate was issued.
 */
export function certbotRenewArgv(certName: string, force: boolean): string[] {
	return ['certbot', 'renew', '--non-interactive', '--cert-name', certName, '--no-random-sleep-on-renew', ...(force ? ['--force-renewal'] : [])];
}

export type DeployHookVars = {
	/** The lineage this hook is for (the host name): another lineage's renewal is ignored. */
	readonly certName: string;
	/** Restarted: OpenSMTPD reads its certificate only at start. */
	readonly restart: readonly string[];
	/** Reloaded: they read the certificate again on reload. */
	readonly reload: readonly string[];
	/** The main binary of each daemon (the stages' `daemons`): tells whether it runs without systemd. */
	readonly exe: Readonly<Record<string, string>>;
};

/**
 * The deploy hook (sh). certbot runs it only after it obtained a certificate (never when
 * nothing was due), with RENEWED_LINEAGE set. Works with systemd and without (init scripts):
 * the init system is asked when the hook runs, not when it was written. A daemon that is not
 * running is left alone (a renewal must not start what the operator stopped).
 */
export function deployHook(v: DeployHookVars): string {
	const exe = (s: string) => `${s} ${v.exe[s] ?? ''}`.trimEnd();
	const restarts = v.restart.map((s) => `restart ${exe(s)}`).join('\n');
	const reloads = v.reload.map((s) => `reload ${exe(s)}`).join('\n');
	return `#!/bin/sh
# Managed by mailwizard. certbot runs this after it obtained a new certificate for
# ${v.certName}: every daemon serving it picks up the new one.
set -u
case "\${RENEWED_LINEAGE:-}" in
*/live/${v.certName}) ;;
*) exit 0 ;;
esac
${ALIVE_SH}
status=0
systemd() { [ -d /run/systemd/system ]; }
running() {
	if systemd; then systemctl is-active --quiet "$1"; elif [ -n "\${2:-}" ]; then alive "$2"; else service "$1" status >/dev/null 2>&1; fi
}
restart() {
	running "$@" || return 0
	if systemd; then systemctl restart "$1" || status=1; return; fi
	service "$1" stop
	i=0; while running "$@" && [ $i -lt 30 ]; do sleep 0.5; i=$((i+1)); done
	service "$1" start || status=1
}
reload() {
	running "$@" || return 0
	if systemd; then systemctl reload "$1" || status=1; else service "$1" reload || status=1; fi
}
${restarts}
${reloads}
exit $status
`;
}

/** Debian's cron entry for certbot (the package's conffile): runs `certbot -q renew` without systemd. */
export const CERTBOT_CRON = '/etc/cron.d/certbot';
const CRON_MARK = '# Added by mailwizard: the renewal trusts the private ACME directory as the first order did.';

/**
 * Debian's cron entry with the directory's CA bundle in its environment (certbot reads it from
 * REQUESTS_CA_BUNDLE only: it has no option for it, and the renewal file cannot carry it). The
 * variable goes after the entry's own PATH line, so it applies to `certbot -q renew`; without a
 * bundle the lines mailwizard added are taken out again. Everything else is kept as it is.
 */
export function cronWithCaBundle(text: string, caBundle: string | undefined): string {
	const lines = text.split('\n');
	const kept = lines.filter((l, i) => l !== CRON_MARK && !(lines[i - 1] === CRON_MARK && l.startsWith('REQUESTS_CA_BUNDLE=')));
	if (!caBundle) return kept.join('\n');
	const at = kept.findIndex((l) => /^PATH\s*=/.test(l));
	const before = at >= 0 ? at + 1 : kept.findIndex((l) => /^[^#\s][^=]*\s/.test(l) && !/^\w+\s*=/.test(l));
	const index = before >= 0 ? before : kept.length;
	return [...kept.slice(0, index), CRON_MARK, `REQUESTS_CA_BUNDLE=${caBundle}`, ...kept.slice(index)].join('\n');
}
