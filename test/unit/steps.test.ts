// Table tests: answers + facts in, actions out.
import test from 'ava';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {StepError, type Action} from '../../source/engine/types.ts';
import {checkTls} from '../../source/platform/tls.ts';
import {preflight} from '../../steps/01-preflight.ts';
import {needsOf, packages, parseSources} from '../../steps/02-packages.ts';
import {vmail} from '../../steps/03-vmail.ts';
import {dovecot} from '../../steps/07-dovecot.ts';
import {opensmtpd} from '../../steps/09-opensmtpd.ts';
import {STEPS} from '../../steps/index.ts';
import {recipients, virtuals} from '../../source/mail/addresses.ts';
import {publicIpv6} from '../../source/platform/addresses.ts';
import {lint24} from '../../templates/dovecot.ts';
import {DEBIAN12, DEBIAN13, HOST, answers} from '../helpers/fixtures.ts';

const argvs = (actions: Action[]) => actions.filter((a) => a.kind === 'run').map((a) => (a.kind === 'run' ? a.cmd.argv.join(' ') : ''));
const files = (actions: Action[]) => actions.filter((a) => a.kind === 'file').map((a) => (a.kind === 'file' ? a.path : ''));

const GiB = 1024 ** 3;

test('preflight refuses an unsupported system before anything runs', (t) => {
	const e = t.throws(() => preflight.plan(answers(), {memBytes: 2 * GiB, systemHostname: 'mail', otherMtas: []}, {...DEBIAN12, id: 'ubuntu', version: '24.04', supported: false}), {
		instanceOf: StepError,
	});
	t.regex(e!.message, /ubuntu 24\.04 is not supported/);
});

test('preflight removes exim4 only with consent', (t) => {
	const facts = {memBytes: 2 * GiB, systemHostname: 'mail', otherMtas: ['exim4-base', 'exim4-daemon-light']};
	t.throws(() => preflight.plan(answers(), facts, DEBIAN12), {instanceOf: StepError, message: /exim4-base/});
	t.deepEqual(argvs(preflight.plan(answers({remove_mta: true}), facts, DEBIAN12)), ['apt-get purge -y exim4-base exim4-daemon-light']);
});

test('preflight picks SHA512-CRYPT on a small machine, ARGON2ID otherwise', (t) => {
	const note = (mem: number) => JSON.stringify(preflight.plan(answers(), {memBytes: mem, systemHostname: 'mail', otherMtas: []}, DEBIAN12));
	t.regex(note(512 * 1024 ** 2), /SHA512-CRYPT/);
	t.regex(note(4 * GiB), /ARGON2ID/);
});

const none = {
	opensmtpd: undefined,
	'opensmtpd-filter-rspamd': undefined,
	'dovecot-core': undefined,
	'dovecot-imapd': undefined,
	'dovecot-lmtpd': undefined,
	rspamd: undefined,
	'ca-certificates': '2023',
	'dovecot-sieve': undefined,
	'redis-server': undefined,
	fail2ban: undefined,
	nftables: undefined,
	'python3-systemd': undefined,
};
// Issue 18's packages (spam and bans stages), installed where the release has them.
const DEFENCE = {'dovecot-sieve': '1:2.3.19.1', 'redis-server': '5:7.0.15', fail2ban: '1.0.2-2', nftables: '1.0.6', 'python3-systemd': '235'};

// The mail packages (with systemd: the daily check's cron is for hosts without it, see schedule.test.ts).
const W12 = needsOf(STEPS, '12', answers(), 'systemd');
const W13 = needsOf(STEPS, '13', answers(), 'systemd');
const PINNED = W12.filter((n) => n.from === 'next');
/** Every apt-get waits for dpkg's lock (another apt, e.g. unattended-upgrades on a fresh server). */
const L = ' -o DPkg::Lock::Timeout=300';

test('Debian 12 packages: smtpd from backports, the filter fetched once from trixie and held', (t) => {
	const actions = packages.plan(answers(), {wanted: W12, versions: none, backports: false, mirror: 'http://mirror.test/debian'}, DEBIAN12);
	const runs = argvs(actions);
	t.true(files(actions).includes('/etc/apt/sources.list.d/mailwizard-bookworm-backports.sources'));
	t.true(runs.includes(`apt-get install -y --no-install-recommends -t bookworm-backports opensmtpd${L}`));
	t.true(runs.includes(`apt-get install -y --no-install-recommends dovecot-core dovecot-imapd dovecot-lmtpd dovecot-sieve rspamd redis-server fail2ban nftables python3-systemd${L}`));
	t.true(runs.some((r) => r.includes('Dir::Etc::SourceList=/var/cache/mailwizard/trixie/sources.list') && r.endsWith(`download opensmtpd-filter-rspamd${L}`)));
	t.is(runs.at(-1), 'apt-mark hold opensmtpd-filter-rspamd');
	// A postinst on a host without systemd starts its daemon, which keeps the output it got.
	for (const a of actions) if (a.kind === 'run' && a.cmd.argv.join(' ').includes('apt-get')) t.true(a.cmd.daemon, `${a.cmd.argv.join(' ')} writes to a file, not a pipe`);
	const trixie = actions.find((a) => a.kind === 'file' && a.path.endsWith('trixie/sources.list'));
	t.regex(JSON.stringify(trixie), /http:\/\/mirror\.test\/debian trixie main/, 'the mirror apt already uses');
	t.false(
		files(actions).some((f) => f.startsWith('/etc/apt/') && f.includes('trixie')),
		'trixie never lands in /etc/apt',
	);
});

test('Debian 12 packages: the stock 6.8 smtpd is replaced; a complete system needs nothing', (t) => {
	const have = {
		...none,
		...DEFENCE,
		opensmtpd: '6.8.0p2-4+b4',
		'opensmtpd-filter-rspamd': '0.1.8-1+b10',
		'dovecot-core': '1:2.3.19.1',
		'dovecot-imapd': '1:2.3.19.1',
		'dovecot-lmtpd': '1:2.3.19.1',
		rspamd: '3.4-1',
	};
	const runs = argvs(packages.plan(answers(), {wanted: W12, pinned: PINNED, versions: have, backports: true, mirror: 'http://m/debian'}, DEBIAN12));
	t.true(runs.includes(`apt-get install -y --no-install-recommends -t bookworm-backports opensmtpd${L}`));
	t.false(runs.some((r) => r.includes('trixie')));
	t.deepEqual(packages.plan(answers(), {wanted: W12, pinned: PINNED, versions: {...have, opensmtpd: '7.4.0p1-1~bpo12+1'}, backports: true, mirror: 'http://m/debian'}, DEBIAN12), []);
});

test('Debian 13 packages: everything from trixie itself, no backports, no pin, no hold', (t) => {
	const actions = packages.plan(answers(), {wanted: W13, pinned: PINNED, versions: none, backports: false, mirror: 'http://m/debian'}, DEBIAN13);
	const runs = argvs(actions);
	t.deepEqual(files(actions), []);
	t.false(runs.some((r) => /backports|hold|trixie/.test(r)));
	t.true(
		runs.includes(
			`apt-get install -y --no-install-recommends ${W13.filter((n) => !none[n.name as keyof typeof none])
				.map((n) => n.name)
				.join(' ')}${L}`,
		),
	);
	t.deepEqual(W13.map((n) => n.name).sort(), Object.keys(none).sort(), 'every package the stages declare');
});

test('Debian 13 after an upgrade from 12: the backports source and the hold mailwizard added are undone', (t) => {
	const have = {
		...none,
		...DEFENCE,
		opensmtpd: '7.6.0p1-1',
		'opensmtpd-filter-rspamd': '0.1.8-1+b10',
		'dovecot-core': '1:2.4.1',
		'dovecot-imapd': '1:2.4.1',
		'dovecot-lmtpd': '1:2.4.1',
		rspamd: '3.12.1-1',
	};
	t.deepEqual(
		argvs(packages.plan(answers(), {wanted: W13, pinned: PINNED, versions: have, backports: false, mirror: 'http://m/debian', ourBackports: true, held: ['opensmtpd-filter-rspamd']}, DEBIAN13)),
		['rm -f /etc/apt/sources.list.d/mailwizard-bookworm-backports.sources', 'apt-mark unhold opensmtpd-filter-rspamd'],
	);
	t.deepEqual(packages.plan(answers(), {wanted: W13, pinned: PINNED, versions: have, backports: false, mirror: 'http://m/debian', held: []}, DEBIAN13), []);
});

test('apt sources are read in both formats', (t) => {
	const deb822 =
		'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n';
	t.deepEqual(parseSources([deb822], 'bookworm'), {mirror: 'http://deb.debian.org/debian', backports: false});
	t.deepEqual(parseSources(['deb http://ftp.fr.debian.org/debian bookworm main\ndeb http://ftp.fr.debian.org/debian bookworm-backports main\n'], 'bookworm'), {
		mirror: 'http://ftp.fr.debian.org/debian',
		backports: true,
	});
});

test('vmail: created once with a free id >= 500, then only the directory is checked', (t) => {
	t.deepEqual(argvs(vmail.plan(answers(), {freeId: 5001}, DEBIAN12)), [
		'groupadd --gid 5001 vmail',
		'useradd --uid 5001 --gid vmail --home-dir /var/vmail --no-create-home --shell /usr/sbin/nologin --comment virtual mail vmail',
	]);
	const present = vmail.plan(answers(), {freeId: 5001, gid: 5000, user: {name: 'vmail', uid: 5000, gid: 5000, home: '/var/vmail', shell: '/usr/sbin/nologin'}}, DEBIAN12);
	t.deepEqual(
		present.map((a) => a.kind),
		['dir'],
	);
	t.throws(() => vmail.plan(answers(), {freeId: 5001, gid: 100, user: {name: 'vmail', uid: 100, gid: 100, home: '/', shell: ''}}, DEBIAN12), {instanceOf: StepError});
});

const dovecotFacts = {
	scheme: 'ARGON2ID' as const,
	hashes: [
		{name: 'alice', hash: '{ARGON2ID}$argon2id$x', source: 'kept' as const},
		{name: 'bob', hash: '{ARGON2ID}$argon2id$y', source: 'new' as const},
	],
};

test('Dovecot 2.3: the guide file, IMAPS only, passwd-file users', (t) => {
	const actions = dovecot.plan(answers(), dovecotFacts, DEBIAN12);
	const conf = actions.find((a) => a.kind === 'file' && a.path === '/etc/dovecot/dovecot.conf');
	const text = conf?.kind === 'file' ? String(conf.content) : '';
	t.regex(text, /ssl = required/);
	t.regex(text, /ssl_cert = <\/etc\/ssl\/certs\/mail\.pem/);
	t.regex(text, /disable_plaintext_auth = yes/);
	t.regex(text, /inet_listener imap \{\n {4}port = 0/);
	t.regex(text, /args = scheme=ARGON2ID username_format=%n \/etc\/dovecot\/users/);
	const users = actions.find((a) => a.kind === 'file' && a.path === '/etc/dovecot/users');
	t.is(users?.kind === 'file' ? users.content : '', 'alice:{ARGON2ID}$argon2id$x::::::\nbob:{ARGON2ID}$argon2id$y::::::\n');
	t.deepEqual(users?.kind === 'file' ? users.secrets : [], ['{ARGON2ID}$argon2id$x', '{ARGON2ID}$argon2id$y']);
});

test('Dovecot 2.4: a new language, and none of the traps that pass doveconf -n', (t) => {
	const actions = dovecot.plan(answers(), dovecotFacts, DEBIAN13);
	const conf = actions.find((a) => a.kind === 'file' && a.path === '/etc/dovecot/dovecot.conf');
	const text = conf?.kind === 'file' ? String(conf.content) : '';
	t.true(text.startsWith('dovecot_config_version = 2.4.1\n'));
	t.regex(text, /ssl_server_cert_file = \/etc\/ssl\/certs\/mail\.pem/);
	t.regex(text, /auth_allow_cleartext = no/);
	t.regex(text, /auth_default_domain = example\.test/);
	t.deepEqual(lint24(text), []);
	t.notRegex(text.replace(/^#.*$/gm, ''), /= <|%[dnu]\b/);
	t.deepEqual(lint24('ssl_server_cert_file = </x\nmail_home = /var/vmail/%d/%n\n').length, 2, 'the lint catches both traps');
});

const smtpdFacts = {
	srsKey: 'SRSKEY',
	iface: 'eth0',
	hashes: [
		{name: 'alice', hash: '$y$A', source: 'kept' as const},
		{name: 'bob', hash: '$y$B', source: 'kept' as const},
	],
};

test('OpenSMTPD: only users and aliases are recipients; aliases map to users or forward', (t) => {
	const a = answers({aliases: {info: 'alice', team: ['alice', 'bob'], fwd: 'someone@remote.test'}});
	t.deepEqual(recipients(a).sort(), ['abuse@example.test', 'alice@example.test', 'bob@example.test', 'fwd@example.test', 'info@example.test', 'postmaster@example.test', 'team@example.test']);
	t.deepEqual(virtuals(a), [
		'alice@example.test vmail',
		'bob@example.test vmail',
		'info@example.test alice@example.test',
		'team@example.test alice@example.test, bob@example.test',
		'fwd@example.test someone@remote.test',
		'postmaster@example.test alice@example.test',
		'abuse@example.test alice@example.test',
	]);
	const conf = opensmtpd.plan(a, smtpdFacts, DEBIAN12).find((x) => x.kind === 'file' && x.path === '/etc/smtpd.conf');
	const text = conf?.kind === 'file' ? String(conf.content) : '';
	t.regex(text, /match from any for domain <domains> rcpt-to <recipients> action "RECV"/);
	t.regex(text, /listen on eth0 port 587 tls-require pki "mail\.example\.test" hostname "mail\.example\.test" auth <passwds> senders <sendas> masquerade filter "rspamd"/);
	t.regex(text, /listen on eth0 port 465 smtps pki "mail\.example\.test" hostname "mail\.example\.test" auth <passwds> senders <sendas> masquerade filter "rspamd"/);
	t.regex(text, /filter "rdns" phase connect match !rdns disconnect "550 DNS error"/);
	t.notRegex(text, /SRSKEY/, 'the SRS key lives in the root-only include, not in smtpd.conf');
});

test('OpenSMTPD: with no interface holding the address (NAT), every IPv4 address and no second listener on port 25 of lo', (t) => {
	const text = (iface?: string) => {
		const conf = opensmtpd.plan(answers(), {...smtpdFacts, iface}, DEBIAN12).find((x) => x.kind === 'file' && x.path === '/etc/smtpd.conf');
		return conf?.kind === 'file' ? String(conf.content) : '';
	};
	t.regex(text('eth0'), /^listen on lo port 25 /m);
	const nat = text(undefined);
	t.regex(nat, /^listen on 0\.0\.0\.0 port 25 tls /m);
	t.notRegex(nat, /^listen on lo /m, '0.0.0.0:25 already covers 127.0.0.1: a second bind would fail');
});

test('OpenSMTPD on systemd: a drop-in starts smtpd after the network is online and restarts it on failure', (t) => {
	const sysv = opensmtpd.plan(answers(), smtpdFacts, DEBIAN12);
	t.false(files(sysv).some((f) => f.startsWith('/etc/systemd/')));
	const systemd = opensmtpd.plan(answers(), smtpdFacts, {...DEBIAN12, init: 'systemd'});
	const dropin = systemd.find((x) => x.kind === 'file' && x.path === '/etc/systemd/system/opensmtpd.service.d/mailwizard.conf');
	t.regex(dropin?.kind === 'file' ? String(dropin.content) : '', /After=network-online\.target[\s\S]*Restart=on-failure/);
	t.like(dropin, {restarts: 'opensmtpd'});
});

test('OpenSMTPD: a catch-all only on request, and a new alias touches only the tables', (t) => {
	const withCatch = opensmtpd.plan(answers({catch_all: 'bob'}), smtpdFacts, DEBIAN12);
	t.true(withCatch.some((a) => a.kind === 'notice' && a.level === 'warn'));
	const conf = withCatch.find((x) => x.kind === 'file' && x.path === '/etc/smtpd.conf');
	t.regex(conf?.kind === 'file' ? String(conf.content) : '', /match from any for domain <domains> action "RECV"/);
	const before = opensmtpd.plan(answers(), smtpdFacts, DEBIAN12);
	const after = opensmtpd.plan(answers({aliases: {sales: 'bob'}}), smtpdFacts, DEBIAN12);
	const changed = after.filter((x, i) => JSON.stringify(x) !== JSON.stringify(before[i])).map((x) => (x.kind === 'file' ? x.path : x.kind));
	t.deepEqual(changed, ['/etc/smtpd/recipients', '/etc/smtpd/virtuals', '/etc/smtpd/sendas']);
	const virt = after.find((x) => x.kind === 'file' && x.path === '/etc/smtpd/virtuals');
	t.deepEqual(virt?.kind === 'file' ? virt.onChange : [], [{argv: ['smtpctl', 'update', 'table', 'virtuals']}]);
});

function cert(dir: string, name: string, host: string, days = 30): {cert: string; key: string} {
	const cert = join(dir, `${name}.pem`);
	const key = join(dir, `${name}.key`);
	execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', String(days), '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`], {
		stdio: 'ignore',
	});
	return {cert, key};
}

test('TLS: a precise message for each failure', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-tls-'));
	const good = cert(dir, 'good', 'mail.example.test');
	const other = cert(dir, 'other', 'www.example.test');
	const read = (p: string) => execFileSync('cat', [p], {encoding: 'utf8'});
	const input = (c: string, k: string) => ({certPath: c, keyPath: k, cert: read(c), key: read(k)});
	t.deepEqual(checkTls(input(good.cert, good.key), 'mail.example.test').errors, []);
	t.regex(checkTls(input(good.cert, other.key), 'mail.example.test').errors.join(), /is not the key of the certificate/);
	t.regex(checkTls(input(other.cert, other.key), 'mail.example.test').errors.join(), /does not cover mail\.example\.test/);
	t.regex(checkTls(input(good.cert, good.key), 'mail.example.test', new Date(Date.now() + 90 * 86_400_000)).errors.join(), /expired on/);
	t.regex(checkTls({certPath: '/nope.pem', keyPath: '/nope.key', certError: 'ENOENT'}, 'mail.example.test').errors.join(), /\/nope\.pem does not exist/);
	writeFileSync(join(dir, 'junk.pem'), 'hello\n');
	t.regex(checkTls({...input(join(dir, 'junk.pem'), good.key)}, 'mail.example.test').errors.join(), /holds no PEM certificate/);
	t.regex(checkTls({...input(good.cert, good.key), key: undefined, keyError: 'EACCES'}, 'mail.example.test').warnings.join(), /cannot be read by this user/);
});

test('finish: what mailwizard cannot fix is checked at the end of a real run and told plainly; a dry run asks the network nothing', async (t) => {
	const {finish} = await import('../../steps/11-finish.ts');
	const {fakeExec} = await import('../../source/engine/exec.ts');
	const {createServer} = await import('node:net');
	// A receiving MTA on loopback for the port 25 probe; no DNS server at 127.0.0.1:9 for the PTR.
	const smtp = createServer((s) => s.end('220 mx.remote.test ESMTP\r\n'));
	await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
	t.teardown(() => smtp.close());
	const port = (smtp.address() as {port: number}).port;
	const a = answers();
	const ctx = {root: '/', exec: fakeExec(), profile: DEBIAN12, readOnly: false, resolvers: ['127.0.0.1:9'], host: HOST, reputation: {dnsbls: [], probe: `127.0.0.1:${port}`}};
	t.is(await finish.facts({...ctx, readOnly: true}, a, STEPS), null, 'a dry run: nothing checked');
	t.is(await finish.facts({...ctx, reputation: undefined}, a, STEPS), null);
	const facts = await finish.facts(ctx, a, STEPS);
	const notices = finish.plan(a, facts, DEBIAN12).filter((x) => x.kind === 'notice');
	const warn = notices.find((n) => n.kind === 'notice' && n.level === 'warn');
	const info = notices.find((n) => n.kind === 'notice' && n.level === 'info');
	t.is(warn?.kind === 'notice' && warn.title, '1 thing mailwizard cannot fix from this server');
	t.deepEqual(warn?.kind === 'notice' && warn.lines[0], `reverse DNS of ${a.ipv4}: lookup failed (ECONNREFUSED): no DNS server answered`);
	t.regex(warn?.kind === 'notice' ? warn.lines[1]! : '', new RegExp(`^  -> ask the provider of ${a.ipv4!.replace(/\./g, '\\.')} to set its reverse DNS \\(PTR\\) to ${a.hostname}`));
	t.deepEqual(info?.kind === 'notice' && info.lines, [`ok  outbound SMTP to 127.0.0.1:${port}: banner: 220 mx.remote.test ESMTP`]);
	t.is(finish.plan(a, null, DEBIAN12).length, 1, 'without checks: the summary alone');
});

test('preflight: what takes others days to fix (PTR, port 25, a blocklist) is said before anything runs; a passed check says nothing', (t) => {
	const base = {memBytes: 2 * GiB, systemHostname: 'mail.example.com', otherMtas: []};
	const outside = [
		{ok: false, what: 'outbound SMTP to mx.remote.test:25', detail: 'no answer in 3 s', fix: 'your provider probably blocks outbound port 25'},
		{ok: true, what: 'reverse DNS of 192.0.2.10', detail: 'mail.example.com'},
	];
	const warn = preflight.plan(answers(), {...base, outside}, DEBIAN12).find((x) => x.kind === 'notice' && x.level === 'warn' && x.title.includes('cannot fix'));
	t.truthy(warn);
	t.deepEqual(warn?.kind === 'notice' && warn.lines, ['outbound SMTP to mx.remote.test:25: no answer in 3 s', '  -> your provider probably blocks outbound port 25']);
	const quiet = preflight.plan(answers(), {...base, outside: [outside[1]!]}, DEBIAN12);
	t.false(quiet.some((x) => x.kind === 'notice' && x.title.includes('cannot fix')));
});

test('TLS (issue 15.4): one verdict per property; a self-signed certificate is a warning that says what others will do', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-tls-'));
	const good = cert(dir, 'good', 'mail.example.test');
	const other = cert(dir, 'other', 'www.example.test');
	const read = (p: string) => execFileSync('cat', [p], {encoding: 'utf8'});
	const input = (c: string, k: string) => ({certPath: c, keyPath: k, cert: read(c), key: read(k)});
	const wrong = checkTls(input(other.cert, other.key), 'mail.example.test');
	t.regex(wrong.errors.join(), /does not cover mail\.example\.test/);
	t.false(
		[...wrong.info, ...wrong.warnings].some((l) => l.includes('mail.example.test')),
		'no line claims the certificate is for the host it does not cover',
	);
	const self = checkTls(input(good.cert, good.key), 'mail.example.test');
	t.deepEqual(self.errors, []);
	t.regex(self.warnings.join('\n'), /is self-signed: .*mail clients will show a certificate warning/);
	t.regex(self.info.join(), /certificate for mail\.example\.test valid until/);
});

test('finish (issue 15.6): a check that could not be made is printed as unknown, not ok', async (t) => {
	const {outsideNotices} = await import('../../steps/11-finish.ts');
	const lines = outsideNotices([
		{ok: true, unknown: true, what: 'bl.example.test for 192.0.2.10', detail: 'not usable from here: its test entry does not answer'},
		{ok: true, what: 'reverse DNS of 192.0.2.10', detail: 'mail.example.test'},
	]).flatMap((a) => (a.kind === 'notice' ? a.lines : []));
	t.true(lines.includes('unknown  bl.example.test for 192.0.2.10: not usable from here: its test entry does not answer'));
	t.true(lines.includes('ok  reverse DNS of 192.0.2.10: mail.example.test'));
});

test('issue 15.8: mail for root goes to postmaster: /etc/aliases says so, smtpd delivers local mail through it, the plan says so', async (t) => {
	const {rootAliases, smtpdConf} = await import('../../templates/smtpd.ts');
	t.is(rootAliases(undefined, 'postmaster@example.test'), '# See aliases(5). root: added by mailwizard.\nroot: postmaster@example.test\n');
	t.is(rootAliases('# x\npostmaster: root\nroot: someone\n', 'postmaster@example.test'), '# x\npostmaster: root\nroot: postmaster@example.test\n');
	const conf = smtpdConf({hostname: 'mail.example.test', domains: ['example.test'], cert: '/c', key: '/k', catchAll: false, filterRspamd: '/f', lmtpSocket: '/s'});
	t.regex(conf, /^table aliases file:\/etc\/aliases$/m);
	t.regex(conf, /^action "LOCAL" mbox alias <aliases>$/m);
	t.true(conf.indexOf('match from local for local action "LOCAL"') >= 0 && conf.indexOf('match from local for local') < conf.indexOf('match from local for any action "SEND"'));
	const plan = opensmtpd.plan(answers(), smtpdFacts, DEBIAN12);
	const file = plan.find((x) => x.kind === 'file' && x.path === '/etc/aliases');
	t.regex(file?.kind === 'file' ? `${file.why}\n${String(file.content)}` : '', /root \(cron, apt\) goes to postmaster@example\.test[\s\S]*root: postmaster@example\.test/);
});

test('issue 15.5: an IPv6 address no interface holds (NAT) is served: smtpd also listens on ::, and the plan says so', async (t) => {
	const {interfaceOf} = await import('../../steps/09-opensmtpd.ts');
	const host = {memBytes: 0, hostname: 'mx', interfaces: {eth0: [{address: '192.0.2.10'}, {address: 'fe80::1'}]}};
	t.is(interfaceOf(host, ['192.0.2.10', undefined]), 'eth0');
	t.is(interfaceOf(host, ['192.0.2.10', '2001:db8::10']), undefined, 'eth0 does not hold the published IPv6 address');
	const plan = opensmtpd.plan(answers({ipv6: '2001:db8::10'}), {...smtpdFacts, iface: undefined}, DEBIAN12);
	const conf = plan.find((x) => x.kind === 'file' && x.path === '/etc/smtpd.conf');
	const text = conf?.kind === 'file' ? String(conf.content) : '';
	for (const port of [25, 465, 587]) {
		t.regex(text, new RegExp(`^listen on 0\\.0\\.0\\.0 port ${port} `, 'm'));
		t.regex(text, new RegExp(`^listen on :: port ${port} `, 'm'));
	}
	t.regex(conf?.kind === 'file' ? conf.why : '', /every IPv4 and IPv6 \(::\) address: no interface holds 192\.0\.2\.10, 2001:db8::10/);
});

test('preflight: a public IPv6 address the server holds but nobody answered is a warning that says what receivers will do', (t) => {
	const facts = {memBytes: 2 * GiB, systemHostname: 'mail', otherMtas: [], ipv6Held: publicIpv6({eth0: [{address: '2a01:4f8:c0c:1::25'}, {address: 'fe80::1'}], lo: [{address: '::1'}]})};
	t.deepEqual(facts.ipv6Held, ['2a01:4f8:c0c:1::25'], 'link-local and loopback are not public');
	const plain = JSON.stringify(preflight.plan(answers(), facts, DEBIAN12));
	t.regex(plain, /holds the public IPv6 address 2a01:4f8:c0c:1::25, but no ipv6 is answered/);
	t.regex(plain, /Answer \\"ipv6: 2a01:4f8:c0c:1::25\\"/);
	t.notRegex(JSON.stringify(preflight.plan(answers({ipv6: '2a01:4f8:c0c:1::25'}), facts, DEBIAN12)), /no ipv6 is answered/);
	t.deepEqual(publicIpv6({eth0: [{address: '2001:db8:77::25'}, {address: 'fd00::5'}, {address: '192.0.2.1'}]}), [], 'documentation, ULA and IPv4 are not');
});

test('20: an install interrupted earlier (dpkg journal not empty) is finished first with dpkg --configure -a; apt failures say what to do', (t) => {
	const actions = packages.plan(answers(), {wanted: W13, pinned: PINNED, versions: none, backports: false, mirror: 'http://m/debian', interrupted: true}, DEBIAN13);
	const runs = argvs(actions);
	t.is(runs[0], 'dpkg --configure -a', 'before apt, which refuses to run until dpkg is finished');
	const apt = actions.filter((a) => a.kind === 'run' && a.cmd.argv[0] === 'apt-get');
	t.true(apt.length > 0);
	for (const a of apt) if (a.kind === 'run') t.regex(a.cmd.failHint ?? '', /Nothing was left half-installed[\s\S]*run mailwizard again/);
	const complete = Object.fromEntries(W13.map((n) => [n.name, '99']));
	t.deepEqual(
		argvs(packages.plan(answers(), {wanted: W13, pinned: PINNED, versions: complete, backports: false, mirror: 'http://m/debian', interrupted: true}, DEBIAN13)),
		['dpkg --configure -a'],
		'even when every package looks installed',
	);
});
