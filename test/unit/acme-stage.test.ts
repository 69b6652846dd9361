// The ACME stage's plan (issue 16): the first order ends with nginx reloaded on the certificate,
// a re-run with everything in place changes nothing, the scheduled renewal without systemd (Debian's
// cron entry) gets the private directory's CA bundle, and an unreachable directory stops the
// stage before anything is written. The host is a scratch root and a fake exec.
import {spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import test from 'ava';
import {planStep} from '../../source/engine/plan.ts';
import {fakeExec, showCmd} from '../../source/engine/exec.ts';
import {StepError, type Ctx} from '../../source/engine/types.ts';
import {renewalInPlace} from '../../source/acme/certificate.ts';
import {acme, acmeNames} from '../../steps/05-acme.ts';
import {CERTBOT_CRON, cronWithCaBundle, livePaths} from '../../templates/acme.ts';
import {NGINX_PATHS} from '../../templates/nginx.ts';
import {DEBIAN12, HOST, answers, scratchRoot} from '../helpers/fixtures.ts';
import {errorText} from '../../source/text/error.ts';

const CA = '/etc/ssl/mailwizard-acme-ca.pem';
/** Debian 12's /etc/cron.d/certbot (certbot 2.1.0-4), shortened comments. */
const DEBIAN_CRON = `# /etc/cron.d/certbot: crontab entries for the certbot package
#
# Upstream recommends attempting renewal twice a day
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin

0 */12 * * * root test -x /usr/bin/certbot -a \\! -d /run/systemd/system && perl -e 'sleep int(rand(43200))' && certbot -q renew --no-random-sleep-on-renew
`;

const acmeAnswers = (directory = 'https://acme.example.test/dir', caBundle: string | null = CA) =>
	answers({tls: {acme: {email: 'postmaster@example.test', directory, ...(caBundle ? {ca_bundle: caBundle} : {})}}, mta_sts: {mode: 'testing'}});

/** Every liveness probe answers "running" when `running`; ss shows nginx on port 80 then. */
function host(running: boolean) {
	const root = scratchRoot();
	mkdirSync(join(root, 'etc/cron.d'), {recursive: true});
	writeFileSync(join(root, CERTBOT_CRON), DEBIAN_CRON);
	mkdirSync(join(root, 'etc/nginx/sites-enabled'), {recursive: true});
	symlinkSync('/etc/nginx/sites-available/default', join(root, 'etc/nginx/sites-enabled/default'));
	const exec = fakeExec([
		{match: (a) => a[0] === 'sh' && /; alive \S+$/.test(a[2] ?? ''), result: {exitCode: running ? 0 : 1, stdout: '', stderr: ''}},
		{match: (a) => a[0] === 'ss', result: {exitCode: 0, stdout: running ? 'LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=42,fd=6))\n' : '', stderr: ''}},
	]);
	const ctx: Ctx = {root, exec, profile: DEBIAN12, readOnly: false, resolvers: [], host: HOST};
	return {root, exec, ctx};
}

/** A certificate for the names, valid 90 days, where certbot links it. */
function liveCertificate(root: string, names: readonly string[]): void {
	const {cert, key} = livePaths('mail.example.test');
	mkdirSync(dirname(join(root, cert)), {recursive: true});
	const r = spawnSync(
		'openssl',
		[
			'req',
			'-x509',
			'-newkey',
			'rsa:2048',
			'-nodes',
			'-days',
			'90',
			'-subj',
			`/CN=${names[0]}`,
			'-addext',
			`subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
			'-keyout',
			join(root, key),
			'-out',
			join(root, cert),
		],
		{encoding: 'utf8'},
	);
	if (r.status !== 0) throw new Error(r.stderr);
}

/** Writes what the plan's file actions want, as a run would have left them. */
function writePlanned(root: string, actions: Awaited<ReturnType<typeof planStep>>['actions']): void {
	for (const a of actions) {
		if (a.kind === 'file' && typeof a.content === 'string') {
			mkdirSync(dirname(join(root, a.path)), {recursive: true});
			writeFileSync(join(root, a.path), a.content, {mode: a.mode});
		}
		if (a.kind === 'dir') mkdirSync(join(root, a.path), {recursive: true, mode: a.mode});
	}
}

test('cronWithCaBundle: the bundle after the entry’s PATH line, once; taken out again without a bundle; the rest kept', (t) => {
	const withCa = cronWithCaBundle(DEBIAN_CRON, CA);
	const lines = withCa.split('\n');
	const path = lines.findIndex((l) => l.startsWith('PATH='));
	t.is(lines[path + 2], `REQUESTS_CA_BUNDLE=${CA}`, 'after PATH (a comment line in between), before the job');
	t.true(lines.findIndex((l) => l.includes('certbot -q renew')) > path + 2);
	t.is(cronWithCaBundle(withCa, CA), withCa, 'idempotent');
	t.is(cronWithCaBundle(withCa, '/etc/ssl/other.pem').match(/REQUESTS_CA_BUNDLE=/g)?.length, 1, 'a new bundle replaces the old one');
	t.is(cronWithCaBundle(withCa, undefined), DEBIAN_CRON, 'without a bundle: exactly Debian’s entry again');
	t.is(cronWithCaBundle(DEBIAN_CRON, undefined), DEBIAN_CRON);
	const noPath = cronWithCaBundle('# x\n0 3 * * * root certbot -q renew\n', CA);
	t.is(
		noPath,
		`# x\n# Added by mailwizard: the renewal trusts the private ACME directory as the first order did.\nREQUESTS_CA_BUNDLE=${CA}\n0 3 * * * root certbot -q renew\n`,
		'no PATH line: before the first job',
	);
});

test('acme stage, first run (no systemd): challenge site, nginx started, cron carries the CA bundle, certbot orders, then nginx reloads on the certificate', async (t) => {
	const {ctx} = host(false);
	const a = acmeAnswers();
	const plan = await planStep(acme, {...ctx, readOnly: true}, a, [acme]);
	const shown = plan.actions.map((x) =>
		x.kind === 'run' ? `$ ${showCmd(x.cmd)}` : x.kind === 'service' ? `${x.op} ${x.name}` : x.kind === 'file' || x.kind === 'dir' ? `${x.kind} ${x.path}` : x.kind,
	);
	const certbot = shown.findIndex((s) => s.includes('certbot certonly'));
	t.true(certbot > 0, shown.join('\n'));
	t.true(shown.indexOf('start nginx') < certbot, 'nginx answers on port 80 before the order');
	t.true(shown.indexOf('start cron') >= 0);
	t.true(shown.indexOf(`file ${CERTBOT_CRON}`) >= 0, 'the cron entry gets the bundle');
	t.true(shown.indexOf('$ rm -f /etc/nginx/sites-enabled/default') >= 0);
	const after = shown.slice(certbot + 1);
	t.deepEqual(after, [`file ${NGINX_PATHS.site}`, '$ service nginx reload'], 'the site with the certificate, then nginx reads it');
	const cron = plan.actions.find((x) => x.kind === 'file' && x.path === CERTBOT_CRON);
	t.regex(cron?.kind === 'file' && typeof cron.content === 'string' ? cron.content : '', new RegExp(`^REQUESTS_CA_BUNDLE=${CA}$`, 'm'));
	const site = plan.actions.filter((x) => x.kind === 'file' && x.path === NGINX_PATHS.site);
	t.true(
		site.every((x) => x.kind === 'file' && x.verify?.some((v) => v.argv.join(' ') === 'nginx -t -q')),
		'each site version is checked by nginx -t (a failure puts the old one back)',
	);
});

test('acme stage, re-run with the certificate, the site and nginx in place: nothing to change; renewal reported in place', async (t) => {
	const {root, ctx} = host(true);
	const a = acmeAnswers();
	liveCertificate(root, acmeNames(a));
	const first = await planStep(acme, ctx, a, [acme]);
	t.false(
		first.actions.some((x) => x.kind === 'run' && x.cmd.argv.includes('certonly')),
		'the certificate covers every name for 90 days: no order',
	);
	writePlanned(root, first.actions);
	mkdirSync(join(root, 'etc/nginx/sites-enabled'), {recursive: true});
	symlinkSync(NGINX_PATHS.site, join(root, NGINX_PATHS.enabled));
	spawnSync('rm', ['-f', join(root, 'etc/nginx/sites-enabled/default')]);
	const again = await planStep(acme, ctx, a, [acme]);
	t.deepEqual(
		again.actions.filter((x) => x.kind !== 'notice' && x.kind !== 'wait'),
		[],
		'no command, no file, no service',
	);
	t.is(again.changes, 0);
	t.regex(readFileSync(join(root, CERTBOT_CRON), 'utf8'), new RegExp(`^REQUESTS_CA_BUNDLE=${CA}$`, 'm'));
	const exec = fakeExec([{match: (x) => x[0] === 'pidof', result: {exitCode: 0, stdout: '7\n', stderr: ''}}]);
	const renewal = await renewalInPlace({...ctx, exec}, a);
	t.true(renewal.ok, renewal.text);
	writeFileSync(join(root, CERTBOT_CRON), DEBIAN_CRON);
	const missing = await renewalInPlace({...ctx, exec}, a);
	t.false(missing.ok, 'a cron entry without the bundle cannot renew from the private directory');
	t.regex(missing.text, /does not give certbot REQUESTS_CA_BUNDLE=\/etc\/ssl\/mailwizard-acme-ca\.pem/);
});

test('acme stage: the ACME directory unreachable stops the stage before any action, with the directory and the cause', async (t) => {
	const {ctx} = host(false);
	const a = acmeAnswers('https://127.0.0.1:1/dir', null);
	const error = await t.throwsAsync(planStep(acme, ctx, a, [acme]), {instanceOf: StepError});
	t.regex(error?.message ?? '', /^the ACME server https:\/\/127\.0\.0\.1:1\/dir cannot be reached: .*ECONNREFUSED/);
	t.notRegex(error?.hint ?? '', /75/, 'exit 1, not the "waiting for DNS" code');
});

test('acme stage: a directory whose name has IPv6 and IPv4 addresses, both refusing, is unreachable too (Node tries both: an AggregateError with no message of its own)', async (t) => {
	const {ctx} = host(false);
	const a = acmeAnswers('https://localhost:1/dir', null);
	const error = await t.throwsAsync(planStep(acme, ctx, a, [acme]), {instanceOf: StepError});
	t.regex(error?.message ?? '', /^the ACME server https:\/\/localhost:1\/dir cannot be reached: .*ECONNREFUSED/);
});

test('errorText: an AggregateError says its inner reasons; an error without message its code; never empty', (t) => {
	const refused = (addr: string) => Object.assign(new Error(`connect ECONNREFUSED ${addr}`), {code: 'ECONNREFUSED'});
	t.is(errorText(new AggregateError([refused('10.77.0.30:14000'), refused('[2001:db8:77::30]:14000')], '')), 'connect ECONNREFUSED 10.77.0.30:14000; connect ECONNREFUSED [2001:db8:77::30]:14000');
	t.is(errorText(Object.assign(new Error(''), {code: 'EHOSTUNREACH'})), 'EHOSTUNREACH');
	t.is(errorText(new Error('')), 'Error');
	t.is(errorText(''), 'unknown error');
});

test('acme stage: port 80 held by another program stops the stage, naming it', async (t) => {
	const {ctx} = host(false);
	const exec = fakeExec([{match: (x) => x[0] === 'ss', result: {exitCode: 0, stdout: 'LISTEN 0 5 0.0.0.0:80 0.0.0.0:* users:(("python3",pid=4242,fd=3))\n', stderr: ''}}]);
	const error = await t.throwsAsync(planStep(acme, {...ctx, exec, readOnly: true}, acmeAnswers(), [acme]), {instanceOf: StepError});
	t.regex(error?.message ?? '', /^port 80 is held by python3 \(pid 4242\)/);
});
