// ACME in the lab (issue 16): Pebble on the remote host, Debian's certbot (webroot) and nginx
// on the mx, configured from the wizard's templates. certbot obtains a certificate for
// mail.example.test, mta-sts.example.test and autoconfig.example.test, validated over http-01
// for real; a client that trusts only Pebble's root verifies it, the MTA-STS policy and the
// autoconfig file are fetched over HTTPS from the remote host, and a forced renewal makes
// nginx serve a new serial through the deploy hook. Needs root and `ip netns`, and pebble,
// certbot, nginx (.ci/install-packages.sh); otherwise skipped with the reason in the title.
import {readFileSync, writeFileSync} from 'node:fs';
import {dirname} from 'node:path';
import test from 'ava';
import {ACME_PATHS, certbotArgv, certbotEnv, certbotRenewArgv, certificateNames, deployHook, livePaths} from '../../templates/acme.ts';
import {autoconfigXml} from '../../templates/autoconfig.ts';
import {defaultMaxAge, mtaStsPolicyText} from '../../templates/mta-sts.ts';
import {autoconfigFile, mtaStsFile, NGINX_PATHS, nginxSite, type NginxVars} from '../../templates/nginx.ts';
import {acmeUnavailable, startPebble, type Pebble} from './acme.ts';
import {Lab, LAB_LOCK_WAIT_MS, labUnavailable, NET} from './lab.ts';

/** What the ACME stage passes: the daemons serving the certificate, as the stages declare them. */
const HOOK = {restart: ['opensmtpd'], reload: ['dovecot', 'nginx'], exe: {opensmtpd: '/usr/sbin/smtpd', dovecot: '/usr/sbin/dovecot', nginx: '/usr/sbin/nginx'}};

const unavailable = (await labUnavailable()) ?? (await acmeUnavailable());

const HOST = 'mail.example.test';
const DOMAIN = 'example.test';
const NAMES = certificateNames(HOST, [DOMAIN], [DOMAIN]);
const CA_BUNDLE = '/etc/ssl/mailwizard-acme-ca.pem';
const ROOTS = 'pebble-roots.pem';
const POLICY = mtaStsPolicyText({mode: 'testing', mx: [HOST], maxAge: defaultMaxAge('testing')});
const SITE: NginxVars = {names: NAMES, mtaSts: [DOMAIN], autoconfig: [DOMAIN], ipv6: false};

let lab: Lab | undefined;
let pebble: Pebble | undefined;
const timings: Record<string, number> = {};

async function mx(t: {log: (...a: string[]) => void}, script: string, env: Record<string, string> = {}, timeoutMs = 120_000) {
	const r = await lab!.exec('mx', ['sh', '-c', script], {env, timeoutMs});
	if (r.exitCode !== 0) t.log(`mx: ${script}\n${r.stdout}\n${r.stderr}`);
	return r;
}

/** The serial and verification of what port 443 of the mx serves for NAME, from the remote host, trusting only CAFILE. */
async function handshake(name: string, caFile: string): Promise<{verified: boolean; serial: string; out: string}> {
	const script = `echo | openssl s_client -connect ${NET.mx}:443 -servername ${name} -verify_hostname ${name} -CAfile "$1" -verify_return_error 2>&1; echo | openssl s_client -connect ${NET.mx}:443 -servername ${name} 2>/dev/null | openssl x509 -noout -serial`;
	const r = await lab!.exec('remote', ['sh', '-c', script, 'sh', caFile], {timeoutMs: 20_000});
	return {verified: /Verify return code: 0 \(ok\)/.test(r.stdout), serial: /serial=(\w+)/.exec(r.stdout)?.[1] ?? '', out: r.stdout + r.stderr};
}

if (unavailable) {
	test.skip(`lab (ACME with Pebble) skipped: ${unavailable}`, () => {});
} else {
	test.before(async (t) => {
		// The lab lock may be held by other lanes for up to LAB_LOCK_WAIT_MS.
		t.timeout(LAB_LOCK_WAIT_MS + 3 * 60_000);
		lab = await Lab.up({log: (l) => t.log(l)});
		await lab.appendZone(`mta-sts IN A ${NET.mx}\nautoconfig IN A ${NET.mx}\n`);
		const t0 = Date.now();
		pebble = await startPebble(lab, {log: (l) => t.log(l)});
		timings['pebble start'] = Date.now() - t0;
		await lab.writeFile('mx', CA_BUNDLE, readFileSync(pebble.caBundle, 'utf8'));
		writeFileSync(`${lab.base}/remote/${ROOTS}`, await pebble.roots());
	});

	test.after.always(async (t) => {
		if (pebble) t.log(`pebble log (tail):\n${pebble.output().slice(-1500)}`);
		await pebble?.stop();
		if (lab) {
			await lab.down();
			t.deepEqual(await lab.leftovers(), [], 'the lab leaves nothing behind');
		}
		t.log(`timings (ms): ${JSON.stringify(timings)}`);
	});

	test.serial('acme: nginx on the mx serves the challenge directory on port 80 (no systemd, no certificate yet)', async (t) => {
		const site = nginxSite(SITE);
		// The served directories world-readable (nginx's workers run as www-data); lab.writeFile makes missing ones 0700.
		const dirs = [`${ACME_PATHS.webroot}/.well-known/acme-challenge`, dirname(mtaStsFile(DOMAIN)), dirname(autoconfigFile(DOMAIN))];
		t.is((await mx(t, `umask 022 && mkdir -p ${dirs.join(' ')}`)).exitCode, 0);
		await lab!.writeFile('mx', NGINX_PATHS.site, site);
		await lab!.writeFile('mx', ACME_PATHS.hook, deployHook({certName: HOST, ...HOOK}), 0o755);
		await lab!.writeFile('mx', `${ACME_PATHS.webroot}/.well-known/acme-challenge/probe`, 'probe-ok\n');
		const r = await mx(t, `ln -sfn ${NGINX_PATHS.site} ${NGINX_PATHS.enabled} && rm -f /etc/nginx/sites-enabled/default && nginx -t && nginx`);
		t.is(r.exitCode, 0, r.stderr);
		const get = await lab!.exec('remote', ['curl', '-sS', `http://${HOST}/.well-known/acme-challenge/probe`]);
		t.is(get.stdout, 'probe-ok\n', get.stderr);
		const other = await lab!.exec('remote', ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://${HOST}/`]);
		t.is(other.stdout, '404', 'nothing else is served before the certificate exists');
	});

	test.serial('acme: certbot (webroot) obtains a certificate from Pebble, validated over http-01 against the mx', async (t) => {
		const argv = certbotArgv({email: `postmaster@${DOMAIN}`, directory: pebble!.directory, names: NAMES});
		const t0 = Date.now();
		const r = await lab!.exec('mx', argv, {env: certbotEnv(CA_BUNDLE), timeoutMs: 180_000});
		timings['certbot certonly'] = Date.now() - t0;
		t.log(`certbot certonly: ${timings['certbot certonly']} ms`);
		t.is(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
		const live = livePaths(HOST);
		const san = await lab!.exec('mx', ['openssl', 'x509', '-in', live.cert, '-noout', '-ext', 'subjectAltName', '-issuer']);
		for (const n of NAMES) t.true(san.stdout.includes(`DNS:${n}`), `${n} in ${san.stdout}`);
		t.regex(san.stdout, /Pebble Intermediate CA/);
		for (const n of NAMES) t.true(pebble!.output().includes(`Attempting to validate w/ HTTP: http://${n}:80/.well-known/acme-challenge/`), `Pebble fetched the http-01 token of ${n} from the mx`);
		t.is(pebble!.output().match(/set VALID by completed challenge/g)?.length, NAMES.length, 'every authorization validated');
		t.notRegex(pebble!.output(), /ALWAYS_VALID/i);
		const hookLog = await mx(t, 'grep -c "Running deploy-hook command" /var/log/letsencrypt/letsencrypt.log');
		t.is(hookLog.stdout.trim(), '1', 'the deploy hook ran once, after the issuance');
		const renewalConf = await lab!.readFile('mx', `/etc/letsencrypt/renewal/${HOST}.conf`);
		t.regex(renewalConf, new RegExp(`renew_hook = ${ACME_PATHS.hook}`), 'the hook is kept for the renewals');
		t.regex(renewalConf, /authenticator = webroot/);
	});

	test.serial('acme: nginx serves the policy and autoconfig over HTTPS with the certificate; only Pebble’s root verifies it', async (t) => {
		const live = livePaths(HOST);
		await lab!.writeFile('mx', mtaStsFile(DOMAIN), POLICY);
		await lab!.writeFile('mx', autoconfigFile(DOMAIN), autoconfigXml({domain: DOMAIN, hostname: HOST}));
		await lab!.writeFile('mx', NGINX_PATHS.site, nginxSite({...SITE, tls: live}));
		t.is((await mx(t, 'nginx -t && nginx -s reload')).exitCode, 0);
		await new Promise((r) => setTimeout(r, 500));
		const roots = `${lab!.base}/remote/${ROOTS}`;
		for (const n of NAMES) {
			const h = await handshake(n, roots);
			t.true(h.verified, `${n} verifies against Pebble's root: ${h.out.slice(-800)}`);
		}
		const labCa = await handshake(`mta-sts.${DOMAIN}`, lab!.caCert);
		t.false(labCa.verified, 'the lab CA does not verify it: the certificate is from ACME');
		const policy = await lab!.exec('remote', ['curl', '-sS', '--fail', '-D', '-', '--cacert', roots, `https://mta-sts.${DOMAIN}/.well-known/mta-sts.txt`]);
		t.is(policy.exitCode, 0, policy.stderr);
		t.regex(policy.stdout, /^content-type: text\/plain/im);
		t.true(policy.stdout.endsWith(POLICY), policy.stdout);
		const ac = await lab!.exec('remote', ['curl', '-sS', '--fail', '--cacert', roots, `https://autoconfig.${DOMAIN}/mail/config-v1.1.xml?emailaddress=alice%40${DOMAIN}`]);
		t.is(ac.exitCode, 0, ac.stderr);
		t.regex(ac.stdout, /<port>993<\/port>/);
		const redirect = await lab!.exec('remote', ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `http://mta-sts.${DOMAIN}/.well-known/mta-sts.txt`]);
		t.is(redirect.stdout, `301 https://mta-sts.${DOMAIN}/.well-known/mta-sts.txt`);
		const elsewhere = await lab!.exec('remote', ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', roots, `https://mta-sts.${DOMAIN}/mail/config-v1.1.xml`]);
		t.is(elsewhere.stdout, '404', 'each name serves only its own file');
	});

	test.serial('acme: certbot renew --force-renewal issues a new certificate and the deploy hook makes nginx serve it', async (t) => {
		const roots = `${lab!.base}/remote/${ROOTS}`;
		const before = await handshake(`mta-sts.${DOMAIN}`, roots);
		const t0 = Date.now();
		const r = await lab!.exec('mx', certbotRenewArgv(HOST, true), {env: certbotEnv(CA_BUNDLE), timeoutMs: 180_000});
		t.is(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
		let after = await handshake(`mta-sts.${DOMAIN}`, roots);
		for (let i = 0; i < 50 && after.serial === before.serial; i++) {
			await new Promise((r) => setTimeout(r, 200));
			after = await handshake(`mta-sts.${DOMAIN}`, roots);
		}
		timings['renewal to new serial on 443'] = Date.now() - t0;
		t.log(`renewal, until 443 serves the new serial: ${timings['renewal to new serial on 443']} ms`);
		t.truthy(before.serial);
		t.not(after.serial, before.serial, 'a new serial, with no manual reload');
		t.true(after.verified, after.out.slice(-800));
		const notDue = await lab!.exec('mx', certbotArgv({email: `postmaster@${DOMAIN}`, directory: pebble!.directory, names: NAMES}), {env: certbotEnv(CA_BUNDLE), timeoutMs: 120_000});
		t.is(notDue.exitCode, 0, notDue.stderr);
		t.regex(notDue.stdout + notDue.stderr, /not yet due for renewal/i, 'a re-run with the same names orders nothing');
		const hookLog = await mx(t, 'grep -c "Running deploy-hook command" /var/log/letsencrypt/letsencrypt.log');
		t.is(hookLog.stdout.trim(), '2', 'the hook ran for the renewal and not for the no-op');
	});
}

if (!unavailable) {
	const serial = async () => (await lab!.exec('mx', ['openssl', 'x509', '-in', livePaths(HOST).cert, '-noout', '-serial'])).stdout.trim();

	test.serial('acme: a name that does not point at the mx fails the order, naming it; the certificate in place is kept', async (t) => {
		await lab!.appendZone(`wrong IN A ${NET.other}\n`);
		const before = await serial();
		const t0 = Date.now();
		const r = await lab!.exec('mx', certbotArgv({email: `postmaster@${DOMAIN}`, directory: pebble!.directory, names: [...NAMES, `wrong.${DOMAIN}`]}), {env: certbotEnv(CA_BUNDLE), timeoutMs: 120_000});
		t.log(`failed order after ${Date.now() - t0} ms, certbot said:\n${(r.stdout + r.stderr).trim()}`);
		t.is(r.exitCode, 1);
		t.regex(r.stdout + r.stderr, new RegExp(`Domain: wrong\\.${DOMAIN}`));
		t.is(await serial(), before, 'the previous certificate still in place');
	});

	test.serial('acme: the ACME server unreachable: certbot fails with exit 1, the certificate in place is kept', async (t) => {
		const before = await serial();
		await pebble!.stop();
		const t0 = Date.now();
		const r = await lab!.exec('mx', certbotArgv({email: `postmaster@${DOMAIN}`, directory: pebble!.directory, names: NAMES, force: true}), {env: certbotEnv(CA_BUNDLE), timeoutMs: 120_000});
		t.log(`unreachable after ${Date.now() - t0} ms, certbot said:\n${(r.stdout + r.stderr).trim()}`);
		t.is(r.exitCode, 1);
		t.regex(r.stdout + r.stderr, /Connection refused|Failed to establish a new connection/i);
		t.is(await serial(), before);
	});
}
