// Our configurations against the REAL Debian 13 daemons (Dovecot 2.4.1, OpenSMTPD 7.6,
// Rspamd 3.12): a cached debootstrapped trixie root, used through a throwaway overlay in
// private mount/network/PID namespaces (test/lab/debian13/). Daemons started here bind
// only inside that network namespace. Needs root; otherwise every test is reported skipped, the
// reason in its title.
import test, {type ExecutionContext} from 'ava';
import {randomBytes} from 'node:crypto';
import {performance} from 'node:perf_hooks';
import {ensureTrixieRoot, readVersions, type TrixieVersions} from '../lab/debian13/root.ts';
import {openTrixieOverlay, type Sandbox} from '../lab/debian13/overlay.ts';
import {DOVECOT_CONF, lint24, usersFile, type DovecotVars} from '../../templates/dovecot.ts';
import {SMTPD_PATHS, sendersLines, smtpdConf, srsConf, tableFile} from '../../templates/smtpd.ts';
import {recipients, virtuals} from '../../source/mail/addresses.ts';
import {DKIM_DIR, DOVECOT_PATHS, FILTER_RSPAMD, LMTP_SOCKET, RSPAMD_DKIM_CONF} from '../../source/mail/paths.ts';
import {dkimKeyPath, dkimSigningConf} from '../../templates/rspamd.ts';
import {answers} from '../helpers/fixtures.ts';

type Lab = {sb: Sandbox; versions: TrixieVersions; password: string; argon?: string; yescrypt?: string};

let lab: Lab | undefined;

/** The cached Debian 13 root, or why these tests cannot run here. */
async function trixie(): Promise<{readonly root: string; readonly ms: number} | {readonly skip: string}> {
	if (process.getuid?.() !== 0) return {skip: 'not root: the Debian 13 root needs debootstrap, chroot, mount and namespaces'};
	const t0 = performance.now();
	try {
		return {root: await ensureTrixieRoot({log: () => undefined}), ms: performance.now() - t0};
	} catch (e) {
		return {skip: `the Debian 13 root could not be built: ${e instanceof Error ? e.message : String(e)}`};
	}
}

const prepared = await trixie();
/** test.serial where the root is there; elsewhere a skipped test that says why. */
function serial(title: string, fn: (t: ExecutionContext) => void | Promise<void>): void {
	if ('skip' in prepared) test.skip(`${title} (skipped: ${prepared.skip})`, fn);
	else test.serial(title, fn);
}

const CERT = '/etc/ssl/certs/mail.pem';
const KEY = '/etc/ssl/private/mail.key';
const VARS: DovecotVars = {domain: 'example.test', cert: CERT, key: KEY, usersFile: DOVECOT_PATHS.users, vmailHome: '/var/vmail', scheme: 'ARGON2ID', firstValidUid: 500};

const ms = (t0: number) => `${Math.round(performance.now() - t0)} ms`;

test.before(async (t) => {
	if ('skip' in prepared) return;
	const {root} = prepared;
	t.log(`Debian 13 root ready in ${Math.round(prepared.ms)} ms`);
	const t1 = performance.now();
	const sb = await openTrixieOverlay(root);
	t.log(`overlay sandbox (tmpfs upper, mount+net+pid namespaces) up in ${ms(t1)}`);
	lab = {sb, versions: readVersions(root)!, password: `pw-${randomBytes(9).toString('base64url')}`};
	// What every check needs: a certificate for mail.example.test and the vmail user.
	const prep = await sb.sh(
		`set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ${KEY} -out ${CERT} -days 30 -subj /CN=mail.example.test -addext subjectAltName=DNS:mail.example.test 2>/dev/null
chmod 600 ${KEY}
groupadd --gid 5000 vmail
useradd --uid 5000 --gid vmail --home-dir /var/vmail --no-create-home --shell /usr/sbin/nologin --comment 'virtual mail' vmail
install -d -o vmail -g vmail -m 0750 /var/vmail
mkdir -p /etc/smtpd`,
	);
	if (prep.code !== 0) throw new Error(`sandbox preparation failed: ${prep.stderr}`);
});

test.after.always(async (t) => {
	if (!lab) return;
	const t0 = performance.now();
	const {killed} = await lab.sb.close();
	t.log(`sandbox closed in ${ms(t0)} (${killed.length} processes ended)`);
});

/** The sandbox (the before hook brought it up, or failed and no test runs). */
function need(): Lab {
	if (!lab) throw new Error('the Debian 13 sandbox is not up (see the before hook)');
	return lab;
}

async function dovecotHash(l: Lab): Promise<string> {
	if (l.argon) return l.argon;
	// The password on stdin, twice, under setsid (no controlling terminal).
	const r = await l.sb.exec(['doveadm', 'pw', '-s', 'ARGON2ID'], {stdin: `${l.password}\n${l.password}\n`, setsid: true});
	if (r.code !== 0) throw new Error(`doveadm pw: ${r.stderr}`);
	l.argon = r.stdout.trim().split('\n').pop()!.trim();
	return l.argon;
}

async function smtpdHash(l: Lab): Promise<string> {
	if (l.yescrypt) return l.yescrypt;
	const r = await l.sb.exec(['smtpctl', 'encrypt'], {stdin: `${l.password}\n`});
	if (r.code !== 0) throw new Error(`smtpctl encrypt: ${r.stderr}`);
	l.yescrypt = r.stdout.trim();
	return l.yescrypt;
}

const verify = (l: Lab, hash: string, password: string) => l.sb.exec(['doveadm', 'pw', '-t', hash], {stdin: `${password}\n`, setsid: true});

serial('Debian 13 root: the versions the notes promise', (t) => {
	const l = need();
	const v = l.versions;
	t.log(`versions: ${JSON.stringify(v.packages)}; dovecot --version ${v.dovecot}; node ${v.node}; mirror ${v.mirror}; cold build ${v.buildSeconds} s`);
	t.regex(v.dovecot, /^2\.4\./);
	t.regex(v.packages.opensmtpd ?? '', /^7\.6\./);
	t.regex(v.packages['opensmtpd-filter-rspamd'] ?? '', /^0\.1\.8/);
	t.regex(v.packages.rspamd ?? '', /^3\.12/);
	t.regex(v.node, /^v20\./);
});

serial('Debian 13 users and groups are the names our steps chown to', async (t) => {
	const l = need();
	const r = await l.sb.exec(['getent', 'group', 'opensmtpd', '_rspamd', 'dovecot']);
	t.is(r.code, 0, `getent group: ${r.stdout}`);
	const groups = new Map(
		r.stdout
			.trim()
			.split('\n')
			.map((line) => [line.split(':')[0], line]),
	);
	t.true(groups.has('opensmtpd'), 'group opensmtpd (steps/09: /etc/smtpd/passwds)');
	t.true(groups.has('_rspamd'), 'group _rspamd (steps/05: the DKIM key)');
	t.true(groups.has('dovecot'), 'group dovecot (steps/07: /etc/dovecot/users)');
	const u = await l.sb.exec(['getent', 'passwd', 'opensmtpd', 'opensmtpq', '_rspamd', 'dovecot', 'dovenull']);
	t.is(u.code, 0, `getent passwd: ${u.stdout}`);
	t.log(`groups:\n${r.stdout.trim()}\nusers:\n${u.stdout.trim()}`);
});

serial('Dovecot 2.4: a hash from doveadm pw -s ARGON2ID verifies, a wrong password does not', async (t) => {
	const l = need();
	const hash = await dovecotHash(l);
	t.regex(hash, /^\{ARGON2ID\}\$argon2id\$/);
	const ok = await verify(l, hash, l.password);
	t.is(ok.code, 0);
	t.regex(ok.stdout + ok.stderr, /verified/);
	const bad = await verify(l, hash, 'not-the-password');
	t.not(bad.code, 0, 'a wrong password fails doveadm pw -t');
});

serial('smtpctl encrypt prints a $y$ hash that doveadm pw -t {CRYPT} verifies', async (t) => {
	const l = need();
	const hash = await smtpdHash(l);
	t.regex(hash, /^\$y\$/);
	const ok = await verify(l, `{CRYPT}${hash}`, l.password);
	t.is(ok.code, 0, ok.stderr);
	t.regex(ok.stdout + ok.stderr, /verified/);
	t.not((await verify(l, `{CRYPT}${hash}`, 'not-the-password')).code, 0);
});

serial('Dovecot 2.4: the 2.3 file is refused (exit 89): the upgrade detection matters', async (t) => {
	const l = need();
	const old = DOVECOT_CONF['2.3'](VARS);
	await l.sb.write('/tmp/dovecot-2.3.conf', old);
	const r = await l.sb.exec(['doveconf', '-n', '-c', '/tmp/dovecot-2.3.conf']);
	t.is(r.code, 89, r.stderr);
	t.regex(r.stderr, /first setting must be dovecot_config_version/);
	// Not only the version line: with it added, the 2.3 settings themselves are fatal.
	await l.sb.write('/tmp/dovecot-2.3v.conf', `dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.0\n${old}`);
	const r2 = await l.sb.exec(['doveconf', '-n', '-c', '/tmp/dovecot-2.3v.conf']);
	t.is(r2.code, 89, r2.stderr);
	t.log(`2.3 file on 2.4: ${r.stderr.trim().split('\n').pop()}\nwith the version lines added: ${r2.stderr.trim().split('\n').pop()}`);
});

serial('Dovecot 2.4: our dovecot.conf parses, lints clean, starts, and both login names reach one mailbox', async (t) => {
	const l = need();
	const {sb} = l;
	const conf = DOVECOT_CONF['2.4'](VARS);
	t.deepEqual(lint24(conf), []);
	await sb.write(DOVECOT_PATHS.conf, conf);
	await sb.write(
		DOVECOT_PATHS.users,
		usersFile([
			{name: 'alice', hash: await dovecotHash(l)},
			{name: 'carol', hash: await dovecotHash(l)},
		]),
		0o640,
		'root:dovecot',
	);
	// carol's mailbox as Dovecot 2.3 (maildir:~/Maildir, Maildir++ layout) left it before an upgrade.
	const seeded = await sb.sh(`set -e
M=/var/vmail/carol/Maildir
mkdir -p $M/cur $M/new $M/tmp $M/.Sent/cur $M/.Sent/new $M/.Sent/tmp
touch $M/.Sent/maildirfolder
printf 'From: carol@example.test\\r\\nSubject: before the upgrade\\r\\n\\r\\nold\\r\\n' > $M/cur/1700000000.M1P1.old,S=60:2,S
printf 'From: carol@example.test\\r\\nSubject: sent before\\r\\n\\r\\nold\\r\\n' > $M/.Sent/cur/1700000001.M1P1.old,S=55:2,S
chown -R vmail:vmail /var/vmail/carol`);
	t.is(seeded.code, 0, seeded.stderr);
	const n = await sb.exec(['doveconf', '-n']);
	t.is(n.code, 0, n.stderr);
	t.log(`doveconf -n: ${n.stdout.split('\n')[0]}`);

	const t0 = performance.now();
	const start = await sb.sh('dovecot </dev/null >/tmp/dovecot.start 2>&1; rc=$?; cat /tmp/dovecot.start; exit $rc');
	t.is(start.code, 0, `dovecot did not start: ${start.stdout}${start.stderr}`);
	try {
		// Up when IMAPS listens (inside the sandbox's network namespace only).
		let listening = '';
		for (let i = 0; i < 50 && !/:993\b/.test(listening); i++) {
			await new Promise((r) => setTimeout(r, 100));
			listening = (await sb.net(['ss', '-Hltn'])).stdout;
		}
		t.log(`dovecot listening after ${ms(t0)}:\n${listening.trim()}`);
		t.regex(listening, /:993\b/, 'IMAPS listens');
		t.notRegex(listening, /:143\b/, 'IMAP without TLS stays closed');
		const errors = await sb.exec(['doveadm', 'log', 'errors']);
		t.is(errors.stdout.trim(), '', `dovecot logged errors: ${errors.stdout}`);

		for (const user of ['alice@example.test', 'alice', 'Alice@Example.TEST']) {
			const u = await sb.exec(['doveadm', 'user', '-f', 'home', user]);
			t.is(u.code, 0, `doveadm user ${user}: ${u.stderr}`);
			t.is(u.stdout.trim(), '/var/vmail/alice', `doveadm user ${user}`);
		}
		const full = await sb.exec(['doveadm', 'user', 'alice']);
		t.regex(full.stdout, /^home\s+\/var\/vmail\/alice$/m);
		t.regex(full.stdout, /^user\s+alice@example\.test$/m, 'a bare login becomes alice@example.test (auth_default_domain)');
		t.is((await sb.exec(['doveadm', 'user', 'bob@example.test'])).code, 67, 'an unknown user does not exist');

		// Real mail: LMTP delivery (as smtpd does it), then IMAPS logins with each name.
		const py = `
import imaplib, json, smtplib, ssl, sys
pw = sys.stdin.read().strip()
l = smtplib.LMTP('${LMTP_SOCKET}')
l.sendmail('sender@other.test', ['alice@example.test'], 'From: sender@other.test\\r\\nTo: alice@example.test\\r\\nSubject: hello 13\\r\\n\\r\\nbody\\r\\n')
l.quit()
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
out = {}
for user in ['alice', 'alice@example.test', 'ALICE@example.test']:
    m = imaplib.IMAP4_SSL('127.0.0.1', 993, ssl_context=ctx)
    m.login(user, pw)
    typ, data = m.select('INBOX')
    typ, boxes = m.list()
    parsed = [(b.decode().split(') ', 1)[1][1], b.decode().split(') ', 1)[1][4:].strip('"')) for b in boxes]
    out[user] = {'inbox': int(data[0]), 'separators': sorted(set(p[0] for p in parsed)), 'boxes': sorted(p[1] for p in parsed)}
    m.logout()
m = imaplib.IMAP4_SSL('127.0.0.1', 993, ssl_context=ctx)
m.login('alice', pw)
m.append('Sent', r'(\\Seen)', None, b'From: alice@example.test\\r\\nSubject: sent from 13\\r\\n\\r\\nhi\\r\\n')
out['alice-sent'] = int(m.select('Sent')[1][0])
m.logout()
m = imaplib.IMAP4_SSL('127.0.0.1', 993, ssl_context=ctx)
m.login('carol', pw)
out['carol'] = {'inbox': int(m.select('INBOX')[1][0]), 'sent': int(m.select('Sent')[1][0])}
m.logout()
try:
    m = imaplib.IMAP4_SSL('127.0.0.1', 993, ssl_context=ctx); m.login('alice', 'wrong'); out['wrong'] = 'accepted'
except imaplib.IMAP4.error as e:
    out['wrong'] = 'refused'
print(json.dumps(out))
`;
		const imap = await sb.exec(['python3', '-c', py], {stdin: `${l.password}\n`});
		t.is(imap.code, 0, imap.stderr);
		const got = JSON.parse(imap.stdout) as Record<string, unknown>;
		t.log(`IMAPS: ${imap.stdout.trim()}`);
		for (const user of ['alice', 'alice@example.test', 'ALICE@example.test']) {
			t.deepEqual(got[user], {inbox: 1, separators: ['.'], boxes: ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']}, `${user} sees the one delivered message and the folders`);
		}
		t.is(got.wrong, 'refused');
		t.is(got['alice-sent'], 1, 'APPEND to Sent works');
		t.deepEqual(got.carol, {inbox: 1, sent: 1}, 'a Maildir++ mailbox written under 2.3 (INBOX and .Sent) is read by 2.4 with our file');
		const maildir = await sb.sh('cd /var/vmail/alice/Maildir && ls new cur | grep -c "^[0-9]"; stat -c %U:%G .; find . -mindepth 1 -maxdepth 1 -type d -name ".?*" | sort | tr "\\n" " "');
		t.log(`on disk: ${maildir.stdout.trim().replace(/\n/g, ' | ')}`);
		// Maildir++ folders (.Sent), the layout Dovecot 2.3 used with maildir:~/Maildir: an upgraded server keeps its folders.
		// The auto = subscribe folders are listed from the start but only get a directory when first written to.
		t.is(maildir.stdout.trim(), '1\nvmail:vmail\n./.Sent', 'the message is in /var/vmail/alice/Maildir (vmail), folders in Maildir++ layout');
	} finally {
		const stop = await sb.exec(['doveadm', 'stop']);
		t.is(stop.code, 0, `doveadm stop: ${stop.stderr}`);
	}
	let left = '';
	for (let i = 0; i < 30; i++) {
		left = (await sb.sh("ps -eo comm= | grep -c '^dovecot' || true")).stdout.trim();
		if (left === '0') break;
		await new Promise((r) => setTimeout(r, 100));
	}
	t.is(left, '0', 'doveadm stop ends every dovecot process');
});

serial('Dovecot 2.4 trap: "= </path" passes doveconf -n; lint24 catches it; the start fails', async (t) => {
	const l = need();
	const {sb} = l;
	const bad = DOVECOT_CONF['2.4'](VARS).replace(`ssl_server_cert_file = ${CERT}`, `ssl_server_cert_file = <${CERT}`);
	t.not(lint24(bad).length, 0);
	await sb.write('/tmp/dovecot-lt.conf', bad);
	const n = await sb.exec(['doveconf', '-n', '-c', '/tmp/dovecot-lt.conf']);
	t.is(n.code, 0, 'doveconf -n accepts it (the trap)');
	const start = await sb.sh('dovecot -c /tmp/dovecot-lt.conf </dev/null >/tmp/dovecot-lt.start 2>&1; rc=$?; cat /tmp/dovecot-lt.start; exit $rc');
	if (start.code === 0) {
		// Started anyway: the failure shows when the SSL context is built.
		await new Promise((r) => setTimeout(r, 500));
		const errors = await sb.exec(['doveadm', 'log', 'errors']);
		t.log(`dovecot started with "<path" (exit 0); its error log: ${errors.stdout.trim() || '(empty)'}`);
		await sb.exec(['doveadm', '-c', '/tmp/dovecot-lt.conf', 'stop']);
		t.fail('expected dovecot to refuse "ssl_server_cert_file = <path"');
	} else {
		t.log(`dovecot refused to start (exit ${start.code}): ${(start.stdout + start.stderr).trim().split('\n')[0]} … ${(start.stdout + start.stderr).trim().split('\n').pop()}`);
		t.is(start.code, 89);
	}
});

serial('OpenSMTPD 7.6: smtpdConf and its tables pass smtpd -n, start, take the $y$ hash for AUTH, and refuse MAIL FROM an address the user does not own', async (t) => {
	const l = need();
	const {sb} = l;
	const a = answers();
	const hash = await smtpdHash(l);
	const domains = [a.domain];
	const passwds = a.users.flatMap((u) => [...domains.map((d) => `${u.name}@${d} ${hash}`), `${u.name} ${hash}`]);
	await sb.write(SMTPD_PATHS.mailname, `${a.hostname}\n`);
	await sb.write(SMTPD_PATHS.srs, srsConf(randomBytes(30).toString('base64')), 0o600);
	await sb.write(SMTPD_PATHS.domains, tableFile(domains));
	await sb.write(SMTPD_PATHS.recipients, tableFile(recipients(a)));
	await sb.write(SMTPD_PATHS.virtuals, tableFile(virtuals(a)));
	await sb.write(SMTPD_PATHS.passwds, tableFile(passwds), 0o640, 'root:opensmtpd');
	await sb.write(SMTPD_PATHS.sendas, tableFile(sendersLines({users: a.users.map((u) => u.name), domains, aliases: a.aliases})));
	const render = (iface?: string) => smtpdConf({hostname: a.hostname, domains, cert: CERT, key: KEY, iface, catchAll: false, filterRspamd: FILTER_RSPAMD, lmtpSocket: LMTP_SOCKET});

	// Every address (no interface holds the answered address).
	await sb.write(SMTPD_PATHS.conf, render());
	const any = await sb.exec(['smtpd', '-n', '-f', SMTPD_PATHS.conf]);
	t.is(any.code, 0, any.stderr);
	t.regex(any.stdout + any.stderr, /configuration OK/);
	// A catch-all variant parses too.
	await sb.write('/tmp/smtpd-catchall.conf', smtpdConf({hostname: a.hostname, domains, cert: CERT, key: KEY, catchAll: true, filterRspamd: FILTER_RSPAMD, lmtpSocket: LMTP_SOCKET}));
	t.is((await sb.exec(['smtpd', '-n', '-f', '/tmp/smtpd-catchall.conf'])).code, 0);

	// The usual case: an interface holding the server's address (a veth in the sandbox's netns).
	for (const argv of [
		['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1'],
		['ip', 'addr', 'add', '192.0.2.10/24', 'dev', 'eth0'],
		['ip', 'link', 'set', 'eth0', 'up'],
		['ip', 'link', 'set', 'eth1', 'up'],
	]) {
		const r = await sb.net(argv);
		t.is(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
	}
	await sb.write(SMTPD_PATHS.conf, render('eth0'));
	const onIface = await sb.exec(['smtpd', '-n', '-f', SMTPD_PATHS.conf]);
	t.is(onIface.code, 0, onIface.stderr);
	// smtpd binds eth0's IPv6 link-local address too: wait for duplicate-address detection.
	const t0 = performance.now();
	for (let i = 0; i < 50 && (await sb.net(['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'tentative'])).stdout.trim(); i++) await new Promise((r) => setTimeout(r, 100));
	t.log(`IPv6 DAD on eth0 done after ${ms(t0)}`);

	const start = await sb.sh('smtpd </dev/null >/tmp/smtpd.start 2>&1; rc=$?; cat /tmp/smtpd.start; exit $rc');
	t.is(start.code, 0, start.stdout + start.stderr);
	let status = '';
	for (let i = 0; i < 20 && !/SMTP running/.test(status); i++) {
		await new Promise((r) => setTimeout(r, 250));
		status = (await sb.exec(['smtpctl', 'show', 'status'])).stdout;
	}
	t.regex(status, /SMTP running/, 'smtpd runs with our configuration');
	const listening = (await sb.net(['ss', '-Hltn'])).stdout;
	t.log(`smtpd listening:\n${listening.trim()}`);
	for (const port of ['192.0.2.10:25', '192.0.2.10:465', '192.0.2.10:587', '127.0.0.1:25']) t.true(listening.includes(port), `listens on ${port}`);
	// The lookup process runs as opensmtpd: group opensmtpd lets it reload the 0640 table.
	const upd = await sb.exec(['smtpctl', 'update', 'table', 'passwds']);
	t.is(upd.code, 0, upd.stderr);
	const ps = await sb.sh('ps -eo user:20,args | grep "smtpd: lookup" | grep -v grep');
	t.log(`lookup process: ${ps.stdout.trim()}`);
	// AUTH on 587 after STARTTLS, with the bare name and the full address: the $y$ hash works.
	const py = `
import smtplib, ssl, sys, json
pw = sys.stdin.read().strip()
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
out = {}
for user, p in [('alice', pw), ('alice@example.test', pw), ('alice', 'wrong')]:
    s = smtplib.SMTP('192.0.2.10', 587, local_hostname='client.other.test', timeout=20)
    s.starttls(context=ctx)
    try:
        code, _ = s.login(user, p); out[user + ('' if p == pw else ':wrong')] = code
    except smtplib.SMTPAuthenticationError as e:
        out[user + ('' if p == pw else ':wrong')] = e.smtp_code
    s.quit()
# MAIL FROM after AUTH as alice: her address and an alias of hers, then bob's and a made-up one.
s = smtplib.SMTP('192.0.2.10', 587, local_hostname='client.other.test', timeout=20)
s.starttls(context=ctx)
s.login('alice', pw)
for sender in ['alice@example.test', 'postmaster@example.test', 'bob@example.test', 'made-up@example.test']:
    code, _ = s.mail(sender); out['from ' + sender] = code; s.rset()
s.quit()
print(json.dumps(out))
`;
	const auth = await sb.exec(['python3', '-c', py], {stdin: `${l.password}\n`});
	t.is(auth.code, 0, auth.stderr);
	t.log(`AUTH on 587: ${auth.stdout.trim()}`);
	t.deepEqual(JSON.parse(auth.stdout), {
		alice: 235,
		'alice@example.test': 235,
		'alice:wrong': 535,
		// The sendas table (issue 14): alice sends as herself and as postmaster (an alias of hers), not as bob or anyone made up.
		'from alice@example.test': 250,
		'from postmaster@example.test': 250,
		'from bob@example.test': 530,
		'from made-up@example.test': 530,
	});
	// smtpctl has no "stop" in 7.6: the sandbox ends smtpd (by pid) when it closes.
});

serial('Rspamd 3.12: our dkim_signing.conf passes rspamadm configtest; _rspamd reads the 0640 root:_rspamd key', async (t) => {
	const l = need();
	const {sb} = l;
	const key = dkimKeyPath('example.test', 'mail');
	const prep = await sb.sh(`set -e
install -d -o root -g _rspamd -m 0750 ${DKIM_DIR}
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ${key} 2>/dev/null
chown root:_rspamd ${key}; chmod 0640 ${key}`);
	t.is(prep.code, 0, prep.stderr);
	await sb.write(RSPAMD_DKIM_CONF, dkimSigningConf([{domain: 'example.test', selector: 'mail', path: key}]));
	const read = await sb.exec(['runuser', '-u', '_rspamd', '--', 'head', '-c', '27', key]);
	t.is(read.code, 0, `_rspamd cannot read the DKIM key: ${read.stderr}`);
	t.is(read.stdout, '-----BEGIN PRIVATE KEY-----');
	// Offline (no route out of the sandbox): DNS errors may be printed; the exit code decides.
	const check = await sb.exec(['rspamadm', 'configtest'], {timeoutMs: 120_000});
	t.log(`rspamadm configtest: exit ${check.code}: ${(check.stdout + check.stderr).trim().split('\n').slice(-2).join(' / ')}`);
	t.is(check.code, 0, check.stdout + check.stderr);
	t.regex(check.stdout, /syntax OK/);
});
