// The issue 16 templates: certbot's command line and deploy hook, the nginx site, the MTA-STS
// policy and its id, the autoconfig file. Pure functions; the hook is also run by sh here
// against stub systemctl/service commands to see what it restarts and reloads.
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import {ACME_PATHS, certbotArgv, certbotEnv, certbotRenewArgv, certificateNames, deployHook, LE_DIRECTORY, livePaths} from '../../templates/acme.ts';
import {autoconfigXml} from '../../templates/autoconfig.ts';
import {defaultMaxAge, mtaStsPolicyId, mtaStsPolicyText} from '../../templates/mta-sts.ts';
import {autoconfigFile, mtaStsFile, nginxSite} from '../../templates/nginx.ts';

/** What the ACME stage passes: the daemons serving the certificate, as the stages declare them. */
const HOOK = {restart: ['opensmtpd'], reload: ['dovecot', 'nginx'], exe: {opensmtpd: '/usr/sbin/smtpd', dovecot: '/usr/sbin/dovecot', nginx: '/usr/sbin/nginx'}};

const NAMES = certificateNames('mail.example.test', ['example.test', 'other.test'], ['example.test']);

test('certificateNames: host name first (it names the lineage), then mta-sts.* and autoconfig.*, lower case, no duplicates', (t) => {
	t.deepEqual(NAMES, ['mail.example.test', 'mta-sts.example.test', 'mta-sts.other.test', 'autoconfig.example.test']);
	t.deepEqual(certificateNames('Mail.Example.test', ['example.test', 'example.test'], []), ['mail.example.test', 'mta-sts.example.test']);
});

test('certbotArgv: webroot, non-interactive, terms agreed, the directory, the lineage, every name, the hook; no-op until due', (t) => {
	const argv = certbotArgv({email: 'postmaster@example.test', directory: 'https://acme.test/dir', names: NAMES});
	t.deepEqual(argv.slice(0, 2), ['certbot', 'certonly']);
	for (const flag of ['--non-interactive', '--agree-tos', '--webroot', '--keep-until-expiring', '--expand', '--no-eff-email']) t.true(argv.includes(flag), flag);
	const after = (f: string) => argv[argv.indexOf(f) + 1];
	t.is(after('--server'), 'https://acme.test/dir');
	t.is(after('--email'), 'postmaster@example.test');
	t.is(after('--webroot-path'), ACME_PATHS.webroot);
	t.is(after('--cert-name'), 'mail.example.test');
	t.is(after('--deploy-hook'), ACME_PATHS.hook);
	t.deepEqual(
		argv.flatMap((a, i) => (a === '-d' ? [argv[i + 1]] : [])),
		NAMES,
	);
	t.false(argv.includes('--force-renewal'));
	t.false(
		argv.some((a) => /no-verify|register-unsafely|--eab-hmac|--staging/.test(a)),
		'no TLS bypass, no secret',
	);
	const forced = certbotArgv({email: 'a@example.test', directory: LE_DIRECTORY, names: ['mail.example.test'], force: true});
	t.true(forced.includes('--force-renewal'));
	t.false(forced.includes('--keep-until-expiring'));
	t.throws(() => certbotArgv({email: 'a@example.test', directory: LE_DIRECTORY, names: []}));
});

test('certbotEnv: the CA bundle through REQUESTS_CA_BUNDLE only when given; renew argv names the lineage', (t) => {
	t.deepEqual(certbotEnv('/etc/ssl/acme-ca.pem'), {REQUESTS_CA_BUNDLE: '/etc/ssl/acme-ca.pem'});
	t.deepEqual(certbotEnv(undefined), {});
	t.deepEqual(certbotRenewArgv('mail.example.test', false), ['certbot', 'renew', '--non-interactive', '--cert-name', 'mail.example.test', '--no-random-sleep-on-renew']);
	t.is(certbotRenewArgv('mail.example.test', true).at(-1), '--force-renewal');
	t.deepEqual(livePaths('mail.example.test'), {cert: '/etc/letsencrypt/live/mail.example.test/fullchain.pem', key: '/etc/letsencrypt/live/mail.example.test/privkey.pem'});
});

/** Runs the hook with stub systemctl/service on PATH; returns the calls they logged. */
function runHook(opts: {systemd: boolean; lineage: string; running: boolean}): string[] {
	const d = mkdtempSync(join(tmpdir(), 'mw-hook-'));
	try {
		const hook = deployHook({certName: 'mail.example.test', ...HOOK})
			.replace('[ -d /run/systemd/system ]', opts.systemd ? 'true' : 'false')
			// Without systemd the hook looks for the daemon's binary in /proc: make "running" a stub answer.
			.replace(/^alive\(\) \{.*$/m, `alive() { ${opts.running ? 'return 0' : 'return 1'}; }`);
		writeFileSync(join(d, 'hook'), hook);
		const log = join(d, 'calls');
		const stub = `#!/bin/sh\necho "$(basename "$0") $*" >> ${log}\ncase "$*" in *is-active*|*status*) exit ${opts.running ? 0 : 3};; esac\n`;
		for (const s of ['systemctl', 'service', 'sleep']) {
			writeFileSync(join(d, s), stub);
			chmodSync(join(d, s), 0o755);
		}
		const r = spawnSync('sh', [join(d, 'hook')], {env: {PATH: `${d}:/usr/bin:/bin`, RENEWED_LINEAGE: opts.lineage}, encoding: 'utf8'});
		if (r.status !== 0) throw new Error(`hook exit ${r.status}: ${r.stderr}`);
		let calls = '';
		try {
			calls = readFileSync(log, 'utf8');
		} catch {}
		return calls.split('\n').filter((l) => l && !/is-active|status|^sleep/.test(l));
	} finally {
		rmSync(d, {recursive: true, force: true});
	}
}

test('deployHook: systemd restarts OpenSMTPD and reloads Dovecot and nginx', (t) => {
	t.deepEqual(runHook({systemd: true, lineage: '/etc/letsencrypt/live/mail.example.test', running: true}), ['systemctl restart opensmtpd', 'systemctl reload dovecot', 'systemctl reload nginx']);
});

test('deployHook: without systemd, init scripts: OpenSMTPD stopped then started, the others reloaded', (t) => {
	t.deepEqual(runHook({systemd: false, lineage: '/etc/letsencrypt/live/mail.example.test', running: false}), [], 'nothing runs: nothing touched');
	const calls = runHook({systemd: false, lineage: '/etc/letsencrypt/live/mail.example.test', running: true});
	t.deepEqual(calls, ['service opensmtpd stop', 'service opensmtpd start', 'service dovecot reload', 'service nginx reload']);
});

test('deployHook: another lineage is ignored; the script is valid sh', (t) => {
	t.deepEqual(runHook({systemd: true, lineage: '/etc/letsencrypt/live/other.example.test', running: true}), []);
	const hook = deployHook({certName: 'mail.example.test', ...HOOK});
	t.true(hook.startsWith('#!/bin/sh\n'));
	t.is(spawnSync('sh', ['-n'], {input: hook}).status, 0);
});

test('nginxSite: before the certificate only port 80 (challenges, 404 elsewhere); after it, one 443 server per name', (t) => {
	const before = nginxSite({names: NAMES, mtaSts: ['example.test'], autoconfig: ['example.test'], ipv6: false});
	t.regex(before, /listen 80;/);
	t.notRegex(before, /443|ssl_certificate|listen \[::\]/);
	t.regex(before, new RegExp(`location \\^~ /\\.well-known/acme-challenge/ \\{\\s+root ${ACME_PATHS.webroot};`));
	t.regex(before, /server_name mail\.example\.test mta-sts\.example\.test mta-sts\.other\.test autoconfig\.example\.test;/);
	t.regex(before, /return 404;/);
	const live = livePaths('mail.example.test');
	const after = nginxSite({names: NAMES, mtaSts: ['example.test', 'other.test'], autoconfig: ['example.test'], ipv6: true, tls: live});
	t.regex(after, /return 301 https:\/\/\$host\$request_uri;/);
	t.regex(after, /listen \[::\]:80;/);
	t.is(after.match(/listen 443 ssl;/g)?.length, 3);
	t.is(after.match(new RegExp(`ssl_certificate ${live.cert};`, 'g'))?.length, 3);
	t.regex(
		after,
		/server_name mta-sts\.other\.test;\n[^}]*root \/var\/www\/mailwizard\/mta-sts\.other\.test;\n\s+location = \/\.well-known\/mta-sts\.txt \{\n\s+types \{ \}\n\s+default_type "text\/plain; charset=utf-8";/,
	);
	t.regex(after, /server_name autoconfig\.example\.test;[^]*location = \/mail\/config-v1\.1\.xml \{\n\s+types \{ \}\n\s+default_type "application\/xml; charset=utf-8";/);
	t.is(mtaStsFile('example.test'), '/var/www/mailwizard/mta-sts.example.test/.well-known/mta-sts.txt');
	t.is(autoconfigFile('example.test'), '/var/www/mailwizard/autoconfig.example.test/mail/config-v1.1.xml');
	t.throws(() => nginxSite({names: [], mtaSts: [], autoconfig: [], ipv6: false}));
});

test('mtaStsPolicyText: RFC 8461 fields in order, CRLF ends, one mx line per host', (t) => {
	const p = mtaStsPolicyText({mode: 'enforce', mx: ['mail.example.test', 'backup.example.test'], maxAge: defaultMaxAge('enforce')});
	t.is(p, 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\nmx: backup.example.test\r\nmax_age: 604800\r\n');
	t.is(defaultMaxAge('testing'), 86_400);
	t.throws(() => mtaStsPolicyText({mode: 'testing', mx: [], maxAge: 86_400}));
	t.throws(() => mtaStsPolicyText({mode: 'testing', mx: ['m.example.test'], maxAge: 31_557_601}));
	t.notThrows(() => mtaStsPolicyText({mode: 'none', mx: [], maxAge: 86_400}));
});

test('mtaStsPolicyId: [A-Za-z0-9]{1,32}, the same for the same policy, different iff the policy differs', (t) => {
	const a = mtaStsPolicyText({mode: 'testing', mx: ['mail.example.test'], maxAge: 86_400});
	const b = mtaStsPolicyText({mode: 'enforce', mx: ['mail.example.test'], maxAge: 86_400});
	const c = mtaStsPolicyText({mode: 'testing', mx: ['mail.example.test'], maxAge: 86_401});
	t.regex(mtaStsPolicyId(a), /^[A-Za-z0-9]{1,32}$/);
	t.is(mtaStsPolicyId(a), mtaStsPolicyId(`${a}`));
	t.not(mtaStsPolicyId(a), mtaStsPolicyId(b));
	t.not(mtaStsPolicyId(a), mtaStsPolicyId(c));
});

test('autoconfigXml: IMAP 993 SSL, SMTP 465 SSL and 587 STARTTLS on the host, the full address as user', (t) => {
	const x = autoconfigXml({domain: 'example.test', hostname: 'mail.example.test'});
	t.true(x.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
	t.regex(x, /<clientConfig version="1\.1">/);
	t.regex(x, /<emailProvider id="example\.test">\s+<domain>example\.test<\/domain>/);
	const servers = [...x.matchAll(/<(incoming|outgoing)Server type="(\w+)">\s+<hostname>([^<]+)<\/hostname>\s+<port>(\d+)<\/port>\s+<socketType>(\w+)<\/socketType>/g)].map((m) => m.slice(1).join(' '));
	t.deepEqual(servers, ['incoming imap mail.example.test 993 SSL', 'outgoing smtp mail.example.test 465 SSL', 'outgoing smtp mail.example.test 587 STARTTLS']);
	t.is(x.match(/<username>%EMAILADDRESS%<\/username>/g)?.length, 3);
	t.notRegex(autoconfigXml({domain: 'a&b<c', hostname: 'h'}), /a&b<c/, 'escaped');
});
