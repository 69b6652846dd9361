// The upgrade path of issue 10: a server set up by mailwizard on Debian 12, then upgraded to
// Debian 13, keeps a Dovecot 2.3 dovecot.conf that Dovecot 2.4 refuses (exit 89: mail stops).
// One re-run of mailwizard must fix it, keeping users, password hashes, the DKIM key, the SRS
// keys and the certificates, and the mail and folders stored before.
//
//   1. The Debian 12 lab (the machine's own Debian 12 packages): the wizard's real runs, a
//      message delivered into alice's INBOX and one APPENDed to Sent over IMAPS, all written
//      by the real Dovecot 2.3. What mailwizard wrote and the mail are archived (tar, owners
//      by name), the lab goes down.
//   2. The Debian 13 lab (a fresh overlay of the cached trixie root): the vmail user with the
//      same ids, the archive unpacked, the bookworm-backports source and the hold mailwizard
//      leaves on 12 — the state an upgraded server is in. smtpd and Rspamd are started as on
//      the upgraded server; Dovecot 2.4 refuses the 2.3 file.
//   3. status, --dry-run, dns --zone, the re-run; then what is kept, the old mail over IMAPS,
//      and every send/receive/refuse assertion of the lanes (test/lab/assertions.ts).
import test, {type ExecutionContext} from 'ava';
import {createHash, randomBytes} from 'node:crypto';
import {copyFileSync, existsSync, readFileSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {join} from 'node:path';
import {LAB_DIR, Lab, NET, PYTHON, labUnavailable, pidofHere, type HostName} from './lab.ts';
import {ANSWERS, DIST, STATE, makeLane, tail, tag} from './assertions.ts';
import {LOCK_WAIT_MS, TRIXIE_NODE, trixieRoot, upTrixieLab} from './debian13/lane.ts';
import {BACKPORTS_FILE} from '../../steps/02-packages.ts';

const unavailable = await labUnavailable();
const root = unavailable ? undefined : await trixieRoot();

/** What mailwizard writes on Debian 12, and the mail: the upgraded server keeps all of it. */
const KEPT_PATHS = [
	'etc/dovecot/dovecot.conf',
	'etc/dovecot/users',
	'etc/smtpd.conf',
	'etc/smtpd',
	'etc/mailname',
	'etc/rspamd/local.d',
	'var/lib/rspamd/dkim',
	'var/lib/mailwizard',
	'var/vmail',
	'root/mailwizard.yaml',
	'root/alice.pass',
	'root/bob.pass',
];
/** Where mailwizard kept the key before issue 14 (a directory _rspamd owns): the Debian 12 server is set up so. */
const DKIM_KEY = '/var/lib/rspamd/dkim/example.test.mail.key';
/** Where it is kept now (only root writes): the re-run moves the key there, byte for byte. */
const DKIM_KEY_NOW = '/etc/rspamd/dkim/example.test.mail.key';
/** Files whose bytes must survive the re-run. */
const SAME = {
	dkimKey: DKIM_KEY,
	dovecotUsers: '/etc/dovecot/users',
	smtpdPasswds: '/etc/smtpd/passwds',
	srs: '/etc/smtpd/srs.conf',
	cert: '/etc/ssl/certs/mail.example.test.pem',
	key: '/etc/ssl/private/mail.example.test.key',
} as const;
const DIALOG = {NO_COLOR: '1', TERM: 'dumb'};
const MACHINE_NODE = process.execPath.startsWith('/usr/') ? process.execPath : '/usr/bin/node';

if (unavailable) {
	test.skip(`lab (upgrade Debian 12 → 13) skipped: ${unavailable}`, () => {});
} else if (!root || 'error' in root) {
	test.skip(`lab (upgrade Debian 12 → 13) skipped: the Debian 13 root cannot be built: ${root && 'error' in root ? root.error : '?'}`, () => {});
} else {
	const passwords = {alice: `alice-${randomBytes(9).toString('base64url')}`, bob: `bob-${randomBytes(9).toString('base64url')}`};
	const up12 = (log: (l: string) => void) => Lab.up({log, lockWaitMs: LOCK_WAIT_MS});
	const up13 = (log: (l: string) => void) => upTrixieLab(root.dir, log);
	const lane12 = makeLane({file: 'test/lab/upgrade.test.ts', node: MACHINE_NODE, up: up12, packagesNote: '', passwords});
	const lane13 = makeLane({file: 'test/lab/upgrade.test.ts', node: TRIXIE_NODE, up: up13, packagesNote: '', passwords});
	const tokens = {inbox: `inbox-${tag()}`, sent: `sent-${tag()}`};
	const before: {snapshot?: string; vmail?: string[]; hashes12: Record<string, string>; zone12?: string; dovecot12?: string; ready13: boolean} = {hashes12: {}, ready13: false};
	const times: Record<string, number> = {};
	const lab13 = () => lane13.lab();

	const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
	async function hashes(l: Lab, names: readonly (keyof typeof SAME)[]): Promise<Record<string, string>> {
		const out: Record<string, string> = {};
		for (const n of names) out[n] = existsSync(l.hostPath('mx', SAME[n])) ? sha(readFileSync(l.hostPath('mx', SAME[n]), 'latin1')) : '(missing)';
		return out;
	}
	const dkimTxt = (zone: string) => zone.replace(/"\s+"/g, '').match(/p=[A-Za-z0-9+/=]+/)?.[0];
	function folders(l: Lab, h: HostName = 'remote') {
		return l
			.exec(h, [
				PYTHON,
				join(LAB_DIR, 'debian13/imap_folders.py'),
				'folders',
				JSON.stringify({ca: l.caCert, user: 'alice@example.test', password: passwords.alice, tokens: [tokens.inbox, tokens.sent]}),
			])
			.then((r) => {
				try {
					return JSON.parse(r.stdout) as {ok: boolean; folders?: Record<string, {messages: number | null; tokens: string[]}>; list?: string[]; error?: string};
				} catch {
					return {ok: false, error: `imap_folders.py exit ${r.exitCode}: ${r.stdout} ${r.stderr}`};
				}
			});
	}
	function need13(t: ExecutionContext): boolean {
		if (before.ready13) return true;
		t.fail('the upgraded Debian 13 mx is not in place (see the first two tests)');
		return false;
	}

	test.after.always(async () => {
		await lane12.S.lab?.down();
		await lane13.S.lab?.down();
		if (before.snapshot) await rm(before.snapshot, {recursive: true, force: true});
	});

	test.serial('upgrade: a Debian 12 server set up by mailwizard, with mail in INBOX and Sent written by Dovecot 2.3', async (t) => {
		t.timeout(LOCK_WAIT_MS + 10 * 60_000);
		const t0 = Date.now();
		lane12.S.lab = await up12((l) => t.log(`[lab 12] ${l}`));
		const l = lane12.S.lab;
		await lane12.prepareMx(l);
		times['12 setup'] = Date.now() - t0;
		const r1 = await lane12.wizard(t, lane12.WIZARD, 'debian 12 wizard run 1');
		if (r1.exitCode !== 75) lane12.logRun(t, r1);
		t.is(r1.exitCode, 75);
		const z = await lane12.wizard(t, [MACHINE_NODE, DIST, 'dns', '--zone', '--answers', ANSWERS, '--state-dir', STATE, '--resolver', NET.dns], 'debian 12 dns --zone');
		t.is(z.exitCode, 0, z.stderr);
		before.zone12 = z.stdout;
		await l.appendZone(z.stdout);
		const r2 = await lane12.wizard(t, lane12.WIZARD, 'debian 12 wizard run 2');
		if (r2.exitCode !== 0) lane12.logRun(t, r2, 80);
		t.is(r2.exitCode, 0);
		if (r2.exitCode !== 0) return;
		before.dovecot12 = (await l.exec('mx', ['dovecot', '--version'])).stdout.trim();
		t.log(`Debian 12 mx: Dovecot ${before.dovecot12}`);
		// Mail as Dovecot 2.3 stores it: delivered over LMTP, seen over IMAPS; a message APPENDed to Sent.
		const s = await lane12.inbound(['alice@example.test'], tokens.inbox);
		t.is(s.data?.[0], 250, JSON.stringify(s));
		const seen = await l.client<{ok: boolean; messages?: unknown[]}>('imap', {user: 'alice@example.test', password: passwords.alice, token: tokens.inbox, wait: 15});
		t.is(seen.messages?.length, 1, JSON.stringify(seen));
		const ap = await l.exec('remote', [
			PYTHON,
			join(LAB_DIR, 'debian13/imap_folders.py'),
			'append',
			JSON.stringify({ca: l.caCert, user: 'alice@example.test', password: passwords.alice, folder: 'Sent', token: tokens.sent}),
		]);
		t.regex(ap.stdout, /"ok": true/, ap.stdout + ap.stderr);
		const f = await folders(l);
		t.log(`Debian 12, alice over IMAPS: ${JSON.stringify(f.folders)}`);
		t.deepEqual(f.folders?.Sent?.tokens, [tokens.sent]);
		t.deepEqual(f.folders?.INBOX?.tokens, [tokens.inbox]);
		const maildir = await l.exec('mx', ['sh', '-c', 'cd /var/vmail/alice/Maildir && find . -maxdepth 2 | sort']);
		t.log(`alice's Maildir on Debian 12 (Dovecot ${before.dovecot12}):\n${maildir.stdout}`);
		// The key where releases before issue 14 kept it: the re-run on 13 must move it, never make a new one.
		const oldLayout = await l.exec('mx', [
			'sh',
			'-c',
			`install -d -o root -g _rspamd -m 0750 /var/lib/rspamd/dkim && mv ${DKIM_KEY_NOW} ${DKIM_KEY} && rmdir /etc/rspamd/dkim && sed -i 's#${DKIM_KEY_NOW}#${DKIM_KEY}#' /etc/rspamd/local.d/dkim_signing.conf`,
		]);
		t.is(oldLayout.exitCode, 0, oldLayout.stderr);
		// The server's files, owners by name (the ids of system users differ between 12 and 13).
		before.vmail = (await l.exec('mx', ['getent', 'passwd', 'vmail'])).stdout.trim().split(':');
		const tar = await l.exec('mx', ['tar', '-C', '/', '-cpf', '/tmp/mailwizard-debian12.tar', ...KEPT_PATHS]);
		t.is(tar.exitCode, 0, tar.stderr);
		before.snapshot = await mkdtemp('/tmp/mw-upgrade-');
		copyFileSync(l.hostPath('mx', '/tmp/mailwizard-debian12.tar'), join(before.snapshot, 'debian12.tar'));
		before.hashes12 = await hashes(l, ['dkimKey', 'dovecotUsers', 'smtpdPasswds', 'srs']);
		t.log(`Debian 12 files: ${JSON.stringify(before.hashes12)}; vmail ${before.vmail.join(':')}`);
		const t1 = Date.now();
		t.deepEqual((await l.downAndCheck()).left, [], 'the Debian 12 lab is gone');
		times['12 teardown'] = Date.now() - t1;
		times['12 total'] = Date.now() - t0;
	});

	test.serial('upgrade: the same server on Debian 13 (the 2.3 dovecot.conf, the backports source, the hold): Dovecot 2.4 refuses to start', async (t) => {
		t.timeout(LOCK_WAIT_MS + 5 * 60_000);
		if (!before.snapshot || !before.vmail) return t.fail('no Debian 12 server to upgrade (see the first test)');
		const t0 = Date.now();
		lane13.S.lab = await up13((l) => t.log(`[lab 13] ${l}`));
		const l = lane13.S.lab;
		const [, , uid, gid] = before.vmail;
		for (const argv of [
			['groupadd', '--gid', gid!, 'vmail'],
			['useradd', '--uid', uid!, '--gid', 'vmail', '--home-dir', '/var/vmail', '--no-create-home', '--shell', '/usr/sbin/nologin', '--comment', 'virtual mail', 'vmail'],
		]) {
			const r = await l.exec('mx', argv);
			t.is(r.exitCode, 0, `${argv.join(' ')}: ${r.stderr}`);
		}
		copyFileSync(join(before.snapshot, 'debian12.tar'), l.hostPath('mx', '/tmp/mailwizard-debian12.tar'));
		const x = await l.exec('mx', ['tar', '-C', '/', '-xpf', '/tmp/mailwizard-debian12.tar']);
		t.is(x.exitCode, 0, x.stderr);
		// What mailwizard leaves on Debian 12 when it had to add bookworm-backports and hold the filter.
		const mirror = root.versions?.mirror ?? 'http://deb.debian.org/debian';
		await l.writeFile(
			'mx',
			BACKPORTS_FILE,
			`# Added by mailwizard for OpenSMTPD 7.4+.\nTypes: deb\nURIs: ${mirror}\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
			0o644,
		);
		const hold = await l.exec('mx', ['apt-mark', 'hold', 'opensmtpd-filter-rspamd']);
		t.is(hold.exitCode, 0, hold.stderr);
		t.deepEqual(await hashes(l, ['dkimKey', 'dovecotUsers', 'smtpdPasswds', 'srs']), before.hashes12, 'the files arrived unchanged');
		const own = await l.exec('mx', [
			'sh',
			'-c',
			'ls -ln /etc/dovecot/users /etc/smtpd/passwds /var/lib/rspamd/dkim/*.key; ls -ld /var/vmail /var/vmail/alice/Maildir; stat -c "%U:%G %n" /etc/dovecot/users /etc/smtpd/passwds /var/lib/rspamd/dkim /var/lib/rspamd/dkim/*.key /var/vmail/alice/Maildir',
		]);
		t.log(own.stdout);
		// The stranded server: smtpd and Rspamd run, Dovecot 2.4 will not load the 2.3 file.
		const conf = await l.exec('mx', ['doveconf', '-n']);
		t.log(`doveconf -n: exit ${conf.exitCode}: ${conf.stderr.trim()}`);
		t.is(conf.exitCode, 89, 'Dovecot 2.4 refuses the 2.3 file (exit 89)');
		t.regex(conf.stderr, /dovecot_config_version/);
		for (const svc of ['rspamd', 'opensmtpd', 'dovecot']) {
			const r = await l.sh('mx', `service ${svc} start >/tmp/start-${svc}.log 2>&1; echo "exit $?"; cat /tmp/start-${svc}.log`, {timeoutMs: 60_000});
			t.log(`service ${svc} start: ${r.stdout.trim()}`);
		}
		t.not((await l.exec('mx', ['sh', '-c', pidofHere('dovecot')])).exitCode, 0, 'no Dovecot running: mail stops here');
		before.ready13 = true;
		times['13 setup'] = Date.now() - t0;
		lane13.S.times.setup = times['13 setup'];
	});

	test.serial('upgrade: status reports the Dovecot dialect mismatch', async (t) => {
		if (!need13(t)) return;
		const r = await lab13().exec('mx', [TRIXIE_NODE, DIST, 'status', '--answers', ANSWERS, '--state-dir', STATE], {env: DIALOG});
		t.log(r.stdout + r.stderr);
		t.is(r.exitCode, 0);
		t.regex(r.stdout, /PROBLEM: dovecot\.conf is written for Dovecot 2\.3, but Dovecot 2\.4[.\d]* is installed/);
		const j = await lab13().exec('mx', [TRIXIE_NODE, DIST, 'status', '--json', '--answers', ANSWERS, '--state-dir', STATE], {env: DIALOG});
		const parsed = JSON.parse(j.stdout) as {problems?: string[]};
		t.is(parsed.problems?.length, 1, j.stdout);
	});

	test.serial('upgrade: the dry run shows the re-rendered dovecot.conf as a diff, and keeps users, hashes, keys', async (t) => {
		if (!need13(t)) return;
		const r = await lab13().exec('mx', [TRIXIE_NODE, DIST, '--dry-run', '--answers', ANSWERS, '--resolver', NET.dns, '--state-dir', STATE], {env: DIALOG});
		t.is(r.exitCode, 0, r.stderr);
		t.log(tail(r.stdout, 400));
		t.regex(r.stdout, /^\s*-ssl_cert = </m, 'the 2.3 line goes');
		t.regex(r.stdout, /^\s*\+ssl_server_cert_file = \//m, 'the 2.4 line comes');
		t.regex(r.stdout, /^\s*\+dovecot_config_version = 2\.4\.1/m);
		t.regex(r.stdout, /mailwizard-bookworm-backports/, 'the backports source is removed');
		t.regex(r.stdout, /apt-mark unhold opensmtpd-filter-rspamd/, 'the hold is lifted');
		t.notRegex(r.stdout, /(create|update) \/etc\/dovecot\/users/, 'the users file (hashes) stays');
		t.notRegex(r.stdout, /(create|update) \/var\/lib\/rspamd\/dkim\//, 'the DKIM key at the old path is left as it is');
		t.regex(
			r.stdout,
			/create \/etc\/rspamd\/dkim\/example\.test\.mail\.key \(0640 root:_rspamd\): the DKIM key, moved unchanged from \/var\/lib\/rspamd\/dkim/,
			'the key moves to where only root writes',
		);
		t.notRegex(r.stdout, /PRIVATE KEY|generated at apply time/, 'never a new key, never its text');
		t.notRegex(r.stdout, /(create|update) \/etc\/smtpd\/(srs\.conf|passwds)/, 'the SRS keys and smtpd hashes stay');
		t.notRegex(r.stdout, /apt-get (update|install)/, 'nothing to install');
	});

	test.serial('upgrade: dns --zone publishes the DKIM key kept from Debian 12', async (t) => {
		if (!need13(t)) return;
		const r = await lane13.wizard(t, [TRIXIE_NODE, DIST, 'dns', '--zone', '--answers', ANSWERS, '--state-dir', STATE, '--resolver', NET.dns], 'dns --zone');
		t.is(r.exitCode, 0, r.stderr);
		t.truthy(dkimTxt(r.stdout));
		t.is(dkimTxt(r.stdout), dkimTxt(before.zone12 ?? ''), 'the same public key as on Debian 12');
		await lab13().appendZone(r.stdout);
		t.deepEqual(await lab13().dig('example.test', 'MX'), ['10 mail.example.test.']);
	});

	test.serial('upgrade: the re-run on Debian 13 finishes (exit 0)', async (t) => {
		t.timeout(5 * 60_000);
		if (!need13(t)) return;
		before.hashes12 = {...before.hashes12, ...(await hashes(lab13(), ['cert', 'key']))};
		const r = await lane13.wizard(t, lane13.WIZARD, 'wizard re-run');
		lane13.logRun(t, r, r.exitCode === 0 ? 60 : 120);
		if (r.exitCode !== 0) await lane13.mxEvidence(t, 60);
		t.is(r.exitCode, 0);
		lane13.S.wizardDone = r.exitCode === 0;
	});

	test.serial('upgrade: DKIM key, password hashes, SRS keys and certificate unchanged; backports source and hold gone; Dovecot 2.4 runs', async (t) => {
		if (!lane13.needWizard(t)) return;
		const l = lab13();
		t.deepEqual(await hashes(l, Object.keys(SAME) as (keyof typeof SAME)[]), before.hashes12, 'byte-identical');
		t.is<string | undefined, string | undefined>(sha(readFileSync(l.hostPath('mx', DKIM_KEY_NOW), 'latin1')), before.hashes12.dkimKey, 'the key moved from the old path is the same key');
		t.regex(await l.readFile('mx', '/etc/rspamd/local.d/dkim_signing.conf'), new RegExp(`path = "${DKIM_KEY_NOW}"`), 'Rspamd signs with the moved key');
		t.false(existsSync(l.hostPath('mx', BACKPORTS_FILE)), `${BACKPORTS_FILE} is gone`);
		t.is((await l.exec('mx', ['apt-mark', 'showhold'])).stdout.trim(), '', 'no held package');
		t.regex(await l.readFile('mx', '/etc/dovecot/dovecot.conf'), /^dovecot_config_version = 2\.4\.1\n/);
		t.is((await l.exec('mx', ['doveconf', '-n'])).exitCode, 0);
		t.is((await l.exec('mx', ['sh', '-c', pidofHere('dovecot')])).exitCode, 0, 'Dovecot runs');
		const st = await l.exec('mx', [TRIXIE_NODE, DIST, 'status', '--answers', ANSWERS, '--state-dir', STATE], {env: DIALOG});
		t.notRegex(st.stdout, /PROBLEM/, st.stdout);
	});

	test.serial('upgrade: over IMAPS alice still sees the INBOX message and the Sent folder from Debian 12', async (t) => {
		if (!lane13.needWizard(t)) return;
		const f = await folders(lab13());
		t.log(JSON.stringify(f));
		t.true(f.ok, JSON.stringify(f));
		t.deepEqual(f.folders?.INBOX?.tokens, [tokens.inbox], 'the INBOX message delivered on Debian 12');
		t.is(f.folders?.Sent?.messages, 1, 'Sent holds its one message');
		t.deepEqual(f.folders?.Sent?.tokens, [tokens.sent], 'the Sent message APPENDed on Debian 12');
		const bare = await lab13().client<{ok: boolean; messages?: unknown[]}>('imap', {user: 'alice', password: passwords.alice, token: tokens.inbox});
		t.is(bare.messages?.length, 1, `the bare login "alice" reaches the same mailbox: ${JSON.stringify(bare)}`);
	});

	lane13.thirdRun('upgrade: a further run changes nothing', 'wizard run 3');
	test.serial.afterEach.always(() => {
		if (lane13.S.assertionsFrom === undefined && lane13.S.times['wizard run 3'] !== undefined) lane13.S.assertionsFrom = Date.now();
	});

	lane13.send();
	lane13.receive();
	lane13.refuse();
	lane13.cleanup();

	// The wall times are a measurement, not a behaviour: logged by a hook, not reported as a passing test.
	test.after.always('upgrade: wall times', (t) => {
		t.log(`Debian 13 root: ${root.cold ? 'cold build' : 'cached'} ${root.ms} ms; ${JSON.stringify({...times, ...lane12.S.times})}`);
	});
}
