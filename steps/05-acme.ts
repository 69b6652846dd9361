// The certificate by ACME (issue 16), only when the answers say tls.acme: the names must point
// here first (their A/AAAA records published and seen on the authoritative servers, a run that
// stops there exits 75 and resumes), then nginx answers the http-01 challenges on port 80,
// certbot orders the certificate, and nginx serves the MTA-STS policy and the autoconfig file
// on 443. The TLS stage that follows checks certbot's live files like own files.
import {X509Certificate} from 'node:crypto';
import {readFile, readlink} from 'node:fs/promises';
import {request} from 'node:https';
import type {Answers} from '../source/answers.ts';
import {buildRecords, mtaStsPolicy} from '../source/dns/records.ts';
import {onRoot} from '../source/engine/files.ts';
import {serviceCmd} from '../source/engine/services.ts';
import {StepError, type Action, type Ctx, type Step} from '../source/engine/types.ts';
import type {Profile} from '../source/platform/profile.ts';
import {ACME_PATHS, CERTBOT_CRON, certbotArgv, certbotEnv, certificateNames, cronWithCaBundle, deployHook} from '../templates/acme.ts';
import {autoconfigXml} from '../templates/autoconfig.ts';
import {errorText} from '../source/text/error.ts';
import {startCommand} from '../source/invocation.ts';
import {NGINX_PATHS, autoconfigFile, mtaStsFile, nginxSite} from '../templates/nginx.ts';

/** The drop-in that gives the system's scheduled renewal the private directory's CA bundle. */
export const CERTBOT_DROPIN = '/etc/systemd/system/certbot.service.d/mailwizard.conf';
const STOCK_SITE = '/etc/nginx/sites-enabled/default';

type Live = {readonly names: readonly string[]; readonly notAfter: string};

export type AcmeFacts = {
	/** The current certificate: its names and expiry. */
	readonly live?: Live;
	/** The process listening on port 80 (ss), when it is not nginx. */
	readonly port80?: string;
	readonly nginxRunning: boolean;
	/** The mailwizard site is enabled (its link in sites-enabled), Debian's stock site is not. */
	readonly siteEnabled: boolean;
	readonly stockSite: boolean;
	/** Debian's certbot cron entry as it is (absent before certbot is installed). */
	readonly cron?: string;
	/** Why the ACME directory could not be reached (only probed on a real run that must order). */
	readonly unreachable?: string;
	/** The daemons' binaries from the stages' declarations (for the deploy hook). */
	readonly exe: Readonly<Record<string, string>>;
} | null;

function domains(a: Answers): string[] {
	return [a.domain, ...a.extraDomains];
}

export function acmeNames(a: Answers): string[] {
	return certificateNames(a.hostname, a.mtaSts ? domains(a) : [], a.autoconfig ? domains(a) : []);
}

async function liveCert(ctx: Ctx, a: Answers): Promise<Live | undefined> {
	try {
		const x = new X509Certificate(await readFile(onRoot(ctx.root, a.tls.cert)));
		const names = (x.subjectAltName ?? '').split(', ').map((n) => n.replace(/^DNS:/, ''));
		return {names, notAfter: new Date(x.validTo).toISOString()};
	} catch {
		return undefined;
	}
}

/** Who listens on port 80, when it is not nginx (ss -ltnp): the order would fail on it. */
async function port80Holder(ctx: Ctx): Promise<{other?: string; nginx: boolean}> {
	const r = await ctx.exec.run({argv: ['ss', '-Hltnp', 'sport = :80']}).catch(() => undefined);
	const procs = [...(r?.stdout ?? '').matchAll(/\(\("([^"]+)",pid=(\d+)/g)].map((m) => `${m[1]} (pid ${m[2]})`);
	const other = procs.find((p) => !p.startsWith('nginx '));
	return {other, nginx: procs.some((p) => p.startsWith('nginx '))};
}

/** GET the ACME directory over HTTPS (trusting ca_bundle when given): undefined when it answers. */
async function probe(ctx: Ctx, url: string, caBundle: string | undefined): Promise<string | undefined> {
	let ca: Buffer | undefined;
	if (caBundle) {
		try {
			ca = await readFile(onRoot(ctx.root, caBundle));
		} catch (error) {
			return `cannot read tls.acme.ca_bundle ${caBundle} (${(error as NodeJS.ErrnoException).code ?? errorText(error)})`;
		}
	}
	return new Promise((resolve) => {
		const req = request(url, {method: 'GET', timeout: 15_000, ...(ca ? {ca} : {})}, (res) => {
			res.resume();
			resolve(res.statusCode === 200 ? undefined : `it answered HTTP ${res.statusCode}`);
		});
		req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
		req.on('error', (error) => resolve(errorText(error)));
		req.end();
	});
}

function covers(f: NonNullable<AcmeFacts>, names: readonly string[]): boolean {
	return Boolean(f.live) && names.every((n) => f.live!.names.includes(n)) && Date.parse(f.live!.notAfter) - Date.now() > 30 * 86_400_000;
}

function exeMap(stages: readonly Step<any>[]): Record<string, string> {
	return Object.fromEntries(stages.flatMap((s) => (s.daemons ?? []).flatMap((d) => (d.exe ? [[d.service, d.exe]] : []))));
}

/** The files nginx serves, and the deploy hook. */
function servedFiles(a: Answers, f: NonNullable<AcmeFacts>): Action[] {
	const out: Action[] = [{kind: 'dir', path: `${ACME_PATHS.webroot}/.well-known/acme-challenge`, mode: 0o755, why: 'certbot puts the http-01 challenges here; nginx serves them on port 80'}];
	if (a.mtaSts)
		for (const d of domains(a))
			out.push({kind: 'file', path: mtaStsFile(d), content: mtaStsPolicy(a), mode: 0o644, why: `the MTA-STS policy of ${d}, served at https://mta-sts.${d}/.well-known/mta-sts.txt`});
	if (a.autoconfig)
		for (const d of domains(a))
			out.push({
				kind: 'file',
				path: autoconfigFile(d),
				content: autoconfigXml({domain: d, hostname: a.hostname}),
				mode: 0o644,
				why: `mail clients of ${d} find their settings at https://autoconfig.${d}/mail/config-v1.1.xml`,
			});
	const hook = deployHook({certName: a.hostname, restart: ['opensmtpd'], reload: ['dovecot', 'nginx'], exe: f.exe});
	out.push({kind: 'file', path: ACME_PATHS.hook, content: hook, mode: 0o755, why: 'after each renewal OpenSMTPD restarts and Dovecot and nginx reload on the new certificate'});
	return out;
}

function site(a: Answers, tls: boolean): Action {
	const content = nginxSite({
		names: acmeNames(a),
		mtaSts: a.mtaSts ? domains(a) : [],
		autoconfig: a.autoconfig ? domains(a) : [],
		ipv6: Boolean(a.ipv6),
		...(tls ? {tls: {cert: a.tls.cert, key: a.tls.key}} : {}),
	});
	return {
		kind: 'file',
		path: NGINX_PATHS.site,
		content,
		mode: 0o644,
		// nginx reads it on the reload below only if it passes; a failing check puts the old one back.
		verify: [{argv: ['nginx', '-t', '-q']}],
		restarts: 'nginx',
		why: tls ? 'nginx serves the policy and autoconfig on 443 with the certificate' : 'nginx answers the ACME challenges on port 80 (443 once the certificate exists)',
	};
}

/** Only what does not hold yet: a re-run with everything in place changes nothing. */
function nginxUp(f: NonNullable<AcmeFacts>, profile: Profile): Action[] {
	const out: Action[] = [];
	if (!f.siteEnabled) out.push({kind: 'run', cmd: {argv: ['ln', '-sfn', NGINX_PATHS.site, NGINX_PATHS.enabled]}, why: 'enable the mailwizard site'});
	if (f.stockSite) out.push({kind: 'run', cmd: {argv: ['rm', '-f', STOCK_SITE]}, why: "Debian's stock site would answer port 80 for every name"});
	if (out.length > 0) out.push({kind: 'run', cmd: {argv: ['nginx', '-t', '-q']}, why: 'check the configuration before nginx reads it'});
	if (out.length > 0 && f.nginxRunning) out.push({kind: 'run', cmd: serviceCmd(profile.init, 'nginx', 'reload'), why: 'nginx serves the sites as they are now'});
	// Started when not running, reloaded when the site file changed (resolve() decides), else nothing.
	out.push({kind: 'service', name: 'nginx', op: 'reload', why: 'serve port 80 (and 443)'});
	if (profile.init !== 'systemd') out.push({kind: 'service', name: 'cron', op: 'start', why: "without systemd, certbot's cron entry renews the certificate"});
	return out;
}

/**
 * The scheduled renewal trusts a private directory as the first order did: certbot reads the
 * bundle from REQUESTS_CA_BUNDLE only, so it goes into the scheduler's environment — a drop-in
 * for certbot.service under systemd, and Debian's cron entry (which runs only without systemd).
 */
function renewalEnv(a: Answers, f: NonNullable<AcmeFacts>, profile: Profile): Action[] {
	const ca = a.tls.acme?.caBundle;
	const out: Action[] = [];
	if (f.cron !== undefined) {
		const content = cronWithCaBundle(f.cron, ca);
		const why = ca
			? "without systemd, certbot's cron entry renews: it must trust the private ACME directory as the first order did"
			: 'no private ACME directory any more: the CA bundle mailwizard added is taken out';
		if (content !== f.cron) out.push({kind: 'file', path: CERTBOT_CRON, content, mode: 0o644, why});
	}
	if (!ca || profile.init !== 'systemd') return out;
	const content = `# Managed by mailwizard: the ACME directory's HTTPS is trusted through this bundle.\n[Service]\nEnvironment=REQUESTS_CA_BUNDLE=${ca}\n`;
	out.push({
		kind: 'file',
		path: CERTBOT_DROPIN,
		content,
		mode: 0o644,
		onChange: [{argv: ['systemctl', 'daemon-reload']}],
		why: "the system's scheduled renewal must trust the private ACME directory as the first order did",
	});
	return out;
}

function addressRecords(a: Answers) {
	const kinds = new Set(['a', 'aaaa', 'mta-sts-host', 'autoconfig-host']);
	return buildRecords(a, {}).filter((r) => kinds.has(r.kind) && r.publishable);
}

export const acme: Step<AcmeFacts> = {
	id: 'acme',
	title: 'Certificate by ACME: names point here, nginx on port 80, certbot orders, renewal in place',
	summary: 'obtains the certificate with certbot and serves the MTA-STS policy and autoconfig (tls.acme only)',
	// iproute2: ss, which tells who holds port 80 before the order (minimal images lack it).
	packages: {'12': ['certbot', 'nginx', 'cron', 'iproute2'], '13': ['certbot', 'nginx', 'cron', 'iproute2']},
	usedWhen: (a) => a.tls.acme !== undefined,
	daemons: [
		{service: 'nginx', exe: '/usr/sbin/nginx'},
		{service: 'cron', exe: '/usr/sbin/cron'},
	],
	waitsForDns: true,
	async facts(ctx, a, stages) {
		if (!a.tls.acme) return null;
		const live = await liveCert(ctx, a);
		const p80 = await port80Holder(ctx);
		const link = await readlink(onRoot(ctx.root, NGINX_PATHS.enabled)).catch(() => undefined);
		const stockSite = await readlink(onRoot(ctx.root, STOCK_SITE))
			.then(() => true)
			.catch((error: NodeJS.ErrnoException) => error.code === 'EINVAL');
		const cron = await readFile(onRoot(ctx.root, CERTBOT_CRON), 'utf8').catch(() => undefined);
		const f = {live, port80: p80.other, nginxRunning: p80.nginx, siteEnabled: link === NGINX_PATHS.site, stockSite, cron, exe: exeMap(stages)};
		if (ctx.readOnly || covers(f, acmeNames(a))) return f;
		return {...f, unreachable: await probe(ctx, a.tls.acme.directory, a.tls.acme.caBundle)};
	},
	plan(a, f, profile) {
		if (!a.tls.acme || !f) return [];
		const names = acmeNames(a);
		if (f.port80)
			throw new StepError(
				`port 80 is held by ${f.port80}: the ACME server checks the names on port 80, where nginx must answer`,
				'Nothing was changed. Stop or move that program (or let it serve /.well-known/acme-challenge/ from /var/www/mailwizard/acme), then run mailwizard again.',
			);
		const order = !covers(f, names);
		if (order && f.unreachable !== undefined)
			throw new StepError(
				`the ACME server ${a.tls.acme.directory} cannot be reached: ${f.unreachable}`,
				'Nothing was changed for the certificate and the previous one (if any) is kept. Check the directory URL, the network and tls.acme.ca_bundle, then run mailwizard again.',
			);
		const records = addressRecords(a);
		const actions: Action[] = [
			{kind: 'notice', level: 'records', title: 'These names must point at this server before a certificate can be ordered', lines: records.map((r) => `${r.name} ${r.type} ${r.value}`), records},
			{
				kind: 'notice',
				level: 'info',
				title: 'Publish every record now, not only these names',
				lines: [`${startCommand({sub: 'dns --zone'})} prints them all (these names, MX, SPF, DKIM, DMARC) as a zone file: published together, the DNS wait after the certificate finds them at once.`],
			},
			{kind: 'wait', domain: a.domain, records, why: `the ACME server checks ${names.join(', ')} over http on this server`},
			...servedFiles(a, f),
			site(a, !order),
			...nginxUp(f, profile),
			...renewalEnv(a, f, profile),
		];
		if (!order) return actions;
		const cmd = {argv: certbotArgv({email: a.tls.acme.email, directory: a.tls.acme.directory, names}), env: certbotEnv(a.tls.acme.caBundle)};
		actions.push({kind: 'run', cmd, why: `order the certificate for ${names.join(', ')} (http-01 on port 80)`});
		// (A run action: the engine keeps one service action per daemon and step, the start above.)
		actions.push(site(a, true), {kind: 'run', cmd: serviceCmd(profile.init, 'nginx', 'reload'), why: 'serve the policy and autoconfig on 443 with the new certificate'});
		return actions;
	},
};
