// The lab's end-to-end assertions, shared by the lanes (test/lab/debian12.test.ts,
// test/lab/debian13.test.ts, test/lab/upgrade.test.ts): the wizard run → exit 75 →
// dns --zone published → resume exit 0 → third run no change; then send, receive and
// refuse with real clients on the remote host. A lane differs only in how its mx is
// built (the machine's own root, or a Debian 13 root) and which node runs the wizard.
import test, {type ExecutionContext} from 'ava';
import {randomBytes} from 'node:crypto';
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {Lab, LAB_DNSBL, LAB_LOCK_WAIT_MS, MX_TLS, NET, NET6, pidofHere, type ExecResult, type SinkMessage} from './lab.ts';
import {claimsNothingChanged, refusedConnection, type ImapPlain} from './claims.ts';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');
/** The bundle under test; MAILWIZARD_LAB_DIST points at another build (it must be visible in the mx: not under /tmp, /var, /root, /home). */
export const DIST = process.env.MAILWIZARD_LAB_DIST || join(REPO, 'dist/mailwizard.js');
export const STATE = '/var/lib/mailwizard';
export const ANSWERS = '/root/mailwizard.yaml';

export const answersText = (writtenBy: string) => `# written by ${writtenBy}
domain: example.test
hostname: mail.example.test
ipv4: ${NET.mx}
ipv6: ${NET6.mx}
tls:
  cert: ${MX_TLS.cert}
  key: ${MX_TLS.key}
users:
  - name: alice
    password_file: /root/alice.pass
  - name: bob
    password_file: /root/bob.pass
aliases:
  info: alice
  team: [alice, bob]
  fwd: someone@remote.test
dmarc: {policy: reject, rua: postmaster@example.test}
bans: {ban: 20s}
ignore: [192.0.2.200]
`;

/** One wizard run: ~10 s cold (Rspamd compiles its rules: ~15 s more without the cache), ~1 s when nothing changes. */
export const WIZARD_TIMEOUT_MS = 4 * 60_000;

export type LaneConfig = {
	/** The test file (written into the answers' first line). */
	readonly file: string;
	/** The node binary inside the mx that runs the wizard. */
	readonly node: string;
	/** Brings the lab up (Lab.up with this lane's options). */
	readonly up: (log: (l: string) => void) => Promise<Lab>;
	/** What the "opensmtpd is installed" check of the lab test says. */
	readonly packagesNote: string;
	/** The before hook's time limit (it may wait for the other lab runs' lock): the lock's wait + 3 min unless given. */
	readonly setupTimeoutMs?: number;
	/** More environment for the wizard's runs (the fresh lane's http_proxy for apt). */
	readonly wizardEnv?: Readonly<Record<string, string>>;
	/** The answers file (answersText unless given: the ACME lane's tls.acme). */
	readonly answers?: (writtenBy: string) => string;
	/** The users' passwords (random unless given: the upgrade test uses the same ones on both servers). */
	readonly passwords?: {readonly alice: string; readonly bob: string};
};

export type Shared = {lab?: Lab; wizardDone: boolean; times: Record<string, number>; runs: ExecResult[]; assertionsFrom?: number};

export const tag = () => randomBytes(6).toString('hex');
export const tail = (s: string, n = 40) => s.trim().split('\n').slice(-n).join('\n');

/** Files under a directory (recursive), as machine paths. */
export function filesUnder(dir: string): string[] {
	if (!existsSync(dir)) return [];
	const out: string[] = [];
	for (const e of readdirSync(dir, {withFileTypes: true})) {
		const p = join(dir, e.name);
		if (e.isDirectory()) out.push(...filesUnder(p));
		else if (e.isFile()) out.push(p);
	}
	return out;
}

type Verify = {
	dkim_pass: boolean;
	dkim_d: string[];
	dkim_s: string[];
	dkim_error?: string;
	spf: [string, string];
	spf_domain: string;
	from_domain: string;
	dmarc_aligned: boolean;
	dmarc_record: string[];
	mail_from: string;
	peer: string;
};

export type Lane = ReturnType<typeof makeLane>;

export function makeLane(cfg: LaneConfig) {
	const NODE = cfg.node;
	const PASSWORDS = cfg.passwords ?? {alice: `alice-${randomBytes(9).toString('base64url')}`, bob: `bob-${randomBytes(9).toString('base64url')}`};
	// Port 25 is probed at the remote MTA of the lab and the blocklist is the lab's own: no
	// public name is ever asked for, even of the lab's DNS.
	const WIZARD = [NODE, DIST, '--answers', ANSWERS, '--yes', '--no-wait', '--resolver', NET.dns, '--probe', `${NET.remote}:25`, '--dnsbl', LAB_DNSBL, '--state-dir', STATE];
	const S: Shared = {wizardDone: false, times: {}, runs: []};

	function lab(): Lab {
		if (!S.lab) throw new Error('the lab is not up (see the before hook)');
		return S.lab;
	}

	/** Fails the test early, with a pointer, when the wizard did not finish. */
	function needWizard(t: ExecutionContext): boolean {
		if (S.wizardDone) return true;
		t.fail('the wizard did not finish (see "wizard: resumes after the records are published"): nothing to test');
		return false;
	}

	async function mxEvidence(t: ExecutionContext, lines = 40): Promise<void> {
		t.log(`mx syslog (last ${lines} lines):\n${tail(await lab().mxLog(), lines)}`);
	}

	/** The mx's queue and syslog: why a message did not arrive. */
	async function queueEvidence(t: ExecutionContext): Promise<void> {
		const q = await lab().exec('mx', ['smtpctl', 'show', 'queue']);
		t.log(`smtpctl show queue:\n${q.stdout.trim() || '(empty)'}`);
		await mxEvidence(t, 25);
	}

	async function wizard(t: ExecutionContext, argv: readonly string[], label: string): Promise<ExecResult> {
		const t0 = Date.now();
		const r = await lab().exec('mx', argv, {timeoutMs: WIZARD_TIMEOUT_MS, env: {NO_COLOR: '1', TERM: 'dumb', ...cfg.wizardEnv}});
		S.times[label] = Date.now() - t0;
		if (Date.now() - t0 >= WIZARD_TIMEOUT_MS) {
			// Hung: show what it was waiting for (a daemon holding its output pipe, a lock...).
			const ps = await lab().exec('mx', ['ps', '-eo', 'pid,ppid,user,stat,etime,args', '--forest']);
			t.log(`${label} killed after ${WIZARD_TIMEOUT_MS} ms; mx processes:\n${ps.stdout}`);
		}
		S.runs.push(r);
		t.log(`${label}: exit ${r.exitCode} after ${S.times[label]} ms`);
		return r;
	}

	function logRun(t: ExecutionContext, r: ExecResult, n = 60): void {
		t.log(`stdout:\n${tail(r.stdout, n)}`);
		if (r.stderr.trim()) t.log(`stderr:\n${tail(r.stderr, n)}`);
	}

	/** Maildir files of the mx whose text contains the token (path relative to /var/vmail). */
	async function maildirHits(token: string, timeoutMs = 20_000): Promise<string[]> {
		const root = lab().hostPath('mx', '/var/vmail');
		const end = Date.now() + timeoutMs;
		for (;;) {
			const hits = filesUnder(root)
				.filter((f) => /\/(new|cur)\//.test(f) && statSync(f).size < 1_000_000 && readFileSync(f, 'latin1').includes(token))
				.map((f) => f.slice(root.length));
			if (hits.length || Date.now() > end) return hits;
			await new Promise((r) => setTimeout(r, 250));
		}
	}

	/** Sends from the remote host to the mx on port 25 (as another domain's MTA would). */
	function inbound(rcpts: string[], token: string, over: Record<string, unknown> = {}) {
		return lab().client<{banner?: [number, string]; mail?: [number, string]; rcpts: [number, string][]; data?: [number, string]; error?: string}>('session', {
			source: NET.remote,
			helo: 'mx.remote.test',
			from: 'carol@remote.test',
			rcpts,
			subject: `inbound ${token}`,
			token,
			...over,
		});
	}

	/** A client from an address without PTR (args: its source, the address family): 550, no recipient accepted. */
	async function refusedWithoutPtr(t: ExecutionContext, from: Record<string, unknown>): Promise<void> {
		const s = await inbound(['alice@example.test'], tag(), {...from, data: false});
		t.log(JSON.stringify(s));
		const codes = [s.banner?.[0], s.mail?.[0], ...s.rcpts.map((r) => r[0])].filter((c): c is number => typeof c === 'number');
		t.true(codes.includes(550) || /550/.test(s.error ?? ''), `refused with 550: ${JSON.stringify(s)}`);
		t.false(
			s.rcpts.some((r) => r[0] === 250),
			'no recipient accepted',
		);
	}

	async function verifyAtRemote(t: ExecutionContext, m: SinkMessage): Promise<Verify> {
		const v = await lab().client<Verify>('verify', {file: m.file});
		t.log(
			`at remote: MAIL FROM ${m.mail_from} from ${m.peer}: DKIM ${v.dkim_pass ? 'pass' : 'FAIL'} d=${v.dkim_d?.join(',')} s=${v.dkim_s?.join(',')}${v.dkim_error ? ` (${v.dkim_error})` : ''}; SPF ${v.spf?.join(': ')}; From domain ${v.from_domain}; DMARC ${v.dmarc_record?.join(' ')}`,
		);
		return v;
	}

	/** The passwords and the answers file, on the mx. */
	async function prepareMx(l: Lab): Promise<void> {
		await l.writeFile('mx', '/root/alice.pass', `${PASSWORDS.alice}\n`, 0o600);
		await l.writeFile('mx', '/root/bob.pass', `${PASSWORDS.bob}\n`, 0o600);
		await l.writeFile('mx', ANSWERS, (cfg.answers ?? answersText)(cfg.file), 0o600);
	}

	function hooks(): void {
		test.before(async (t) => {
			t.timeout(cfg.setupTimeoutMs ?? LAB_LOCK_WAIT_MS + 3 * 60_000);
			const t0 = Date.now();
			S.lab = await cfg.up((l) => t.log(`[lab] ${l}`));
			await prepareMx(S.lab);
			S.times.setup = Date.now() - t0;
		});

		test.after.always(async () => {
			await S.lab?.down();
		});
	}

	function labChecks(): void {
		test.serial('lab: DNS, isolation of the mx, the remote sink', async (t) => {
			const l = lab();
			t.deepEqual(await l.dig('mail.example.test', 'A', 'mx'), [NET.mx], 'the mx resolves its own name through the lab DNS');
			t.deepEqual(await l.dig(NET.mx.split('.').reverse().join('.') + '.in-addr.arpa', 'PTR', 'remote'), ['mail.example.test.']);
			t.deepEqual(await l.dig(NET.remote.split('.').reverse().join('.') + '.in-addr.arpa', 'PTR', 'mx'), ['mx.remote.test.']);
			t.deepEqual(await l.dig(NET.remoteNoPtr.split('.').reverse().join('.') + '.in-addr.arpa', 'PTR', 'mx'), [], 'the second remote address has no PTR');
			t.deepEqual(await l.dig('remote.test', 'MX', 'mx'), ['10 mx.remote.test.']);
			for (const h of ['dns', 'mx', 'remote'] as const) {
				const routes = await l.probe(h, ['ip', 'route', 'show', 'default']);
				t.is(routes.stdout.trim(), '', `no default route on ${h}`);
			}
			const probe = `/etc/mwlab-probe-${tag()}`;
			await l.writeFile('mx', probe, 'x\n');
			t.true(existsSync(l.hostPath('mx', probe)), 'written inside the mx');
			t.false(existsSync(probe), "the machine's /etc is untouched");
			t.is((await l.exec('mx', ['hostname'])).stdout.trim(), 'mail.example.test');
			t.is((await l.exec('mx', ['dpkg-query', '-W', '-f', '${Status}', 'opensmtpd'])).stdout, 'install ok installed', cfg.packagesNote);
			const token = tag();
			const sw = await l.probe('mx', ['swaks', '--server', NET.remote, '--from', 'probe@example.test', '--to', 'bob@remote.test', '--h-Subject', `probe ${token}`, '--helo', 'mail.example.test']);
			t.is(sw.exitCode, 0, sw.stdout);
			t.truthy(await l.waitSink((m) => m.data.includes(token), 5000), 'the remote sink stores what the mx sends it');
		});
	}

	function wizardRuns(): void {
		test.serial('wizard: the first run installs, configures and stops at the DNS wait (exit 75)', async (t) => {
			t.timeout(WIZARD_TIMEOUT_MS + 60_000);
			if (!existsSync(DIST)) return t.fail(`${DIST} is missing: run "npm run build" first`);
			const r = await wizard(t, WIZARD, 'wizard run 1');
			if (r.exitCode !== 75) {
				logRun(t, r);
				await mxEvidence(t);
			}
			t.is(r.exitCode, 75);
		});

		dnsZone('wizard: dns --zone is published in the lab DNS');

		test.serial('wizard: resumes after the records are published and finishes (exit 0)', async (t) => {
			t.timeout(WIZARD_TIMEOUT_MS + 60_000);
			const r = await wizard(t, WIZARD, 'wizard run 2');
			logRun(t, r, r.exitCode === 0 ? 25 : 80);
			if (r.exitCode !== 0) await mxEvidence(t, 60);
			t.is(r.exitCode, 0);
			S.wizardDone = r.exitCode === 0;
			// What the operator cannot fix from the server, checked at the end and told plainly.
			t.regex(r.stdout, new RegExp(`ok +reverse DNS of ${NET.mx.replace(/\./g, '\\.')}: mail\\.example\\.test, and mail\\.example\\.test resolves back`));
			t.regex(r.stdout, new RegExp(`ok +outbound SMTP to ${NET.remote.replace(/\./g, '\\.')}:25: banner: 220 `));
			t.regex(r.stdout, new RegExp(`ok +${LAB_DNSBL.replace(/\./g, '\\.')} for ${NET.mx.replace(/\./g, '\\.')}: not listed`));
		});

		thirdRun('wizard: a third run changes nothing', 'wizard run 3');

		test.serial.afterEach.always(() => {
			// The assertions' wall time starts when the wizard's runs are over.
			if (S.assertionsFrom === undefined && S.times['wizard run 3'] !== undefined) S.assertionsFrom = Date.now();
		});
	}

	/** `mailwizard dns --zone`, appended to the lab's example.test zone. */
	function dnsZone(title: string): void {
		test.serial(title, async (t) => {
			const r = await wizard(t, [NODE, DIST, 'dns', '--zone', '--answers', ANSWERS, '--state-dir', STATE, '--resolver', NET.dns], 'dns --zone');
			t.is(r.exitCode, 0, r.stderr);
			t.log(`zone fragment:\n${r.stdout.trim()}`);
			t.regex(r.stdout, /_domainkey\.example\.test\.\s+\d*\s*IN\s+TXT\s+\(?\s*"v=DKIM1;/);
			await lab().appendZone(r.stdout);
			const mx = await lab().dig('example.test', 'MX');
			t.deepEqual(mx, ['10 mail.example.test.']);
		});
	}

	function thirdRun(title: string, label: string): void {
		test.serial(title, async (t) => {
			t.timeout(5 * 60_000);
			if (!needWizard(t)) return;
			const before = await lab().exec('mx', [
				'sh',
				'-c',
				'ls -l --time-style=full-iso /etc/smtpd.conf /etc/smtpd /etc/dovecot/dovecot.conf /etc/dovecot/conf.d /etc/rspamd/local.d 2>&1; ' + pidofHere('smtpd', 'dovecot', 'rspamd'),
			]);
			const r = await wizard(t, WIZARD, label);
			logRun(t, r, 25);
			t.is(r.exitCode, 0);
			t.true(claimsNothingChanged(r.stdout), 'the run ends with "Nothing changed: the system already matches the answers."');
			const after = await lab().exec('mx', [
				'sh',
				'-c',
				'ls -l --time-style=full-iso /etc/smtpd.conf /etc/smtpd /etc/dovecot/dovecot.conf /etc/dovecot/conf.d /etc/rspamd/local.d 2>&1; ' + pidofHere('smtpd', 'dovecot', 'rspamd'),
			]);
			t.is(after.stdout, before.stdout, 'no file touched, no daemon restarted');
		});
	}

	// ------------------------------------------------------------------ sending (issue 5)

	function send(): void {
		for (const [port, mode] of [
			[587, 'starttls'],
			[465, 'smtps'],
		] as const) {
			test.serial(`send: submission on ${port} (${mode} + AUTH) reaches remote.test, DKIM verifies, SPF passes, DMARC aligns`, async (t) => {
				t.timeout(120_000);
				if (!needWizard(t)) return;
				const token = tag();
				const s = await lab().client<{ok: boolean; tls?: string; auth?: [number, string]; error?: string; stage?: string}>('submit', {
					port,
					mode,
					user: 'alice@example.test',
					password: PASSWORDS.alice,
					from: 'alice@example.test',
					to: ['bob@remote.test'],
					subject: `submission ${port} ${token}`,
					token,
				});
				t.true(s.ok, JSON.stringify(s));
				if (!s.ok) return mxEvidence(t);
				t.log(`submitted over ${s.tls}, AUTH ${s.auth?.join(' ')}`);
				const m = await lab().waitSink((x) => x.data.includes(token));
				if (!m) {
					await mxEvidence(t);
					t.log((await lab().exec('mx', ['smtpctl', 'show', 'queue'])).stdout);
					return t.fail('nothing arrived at remote.test within 30 s');
				}
				// remote.test's MX has A and AAAA: either address of the mx (OpenSMTPD 7.6 prefers IPv6).
				t.true(([NET.mx, NET6.mx] as string[]).includes(m.peer), `from an address of the mx: ${m.peer}`);
				t.deepEqual(m.rcpt_tos, ['bob@remote.test']);
				const v = await verifyAtRemote(t, m);
				t.true(v.dkim_pass, 'DKIM signature verifies against the lab DNS');
				t.true(v.dkim_d.includes('example.test'), 'signed for d=example.test');
				t.is(v.spf[0], 'pass', 'SPF passes for the mx address');
				t.is(v.from_domain, 'example.test');
				t.is(v.spf_domain, 'example.test');
				t.true(v.dmarc_aligned, 'DMARC: From domain == d= == SPF domain');
				t.regex(v.dmarc_record.join(''), /^v=DMARC1;/, 'the DMARC record is published');
				if (!v.dkim_pass) await mxEvidence(t);
			});
		}
	}

	// ------------------------------------------------------------------ receiving

	function receive(): void {
		test.serial("receive: mail from remote.test lands in alice's Maildir and is readable over IMAPS 993", async (t) => {
			t.timeout(120_000);
			if (!needWizard(t)) return;
			const token = tag();
			const s = await inbound(['alice@example.test'], token);
			t.is(s.banner?.[0], 220, JSON.stringify(s));
			t.is(s.rcpts[0]?.[0], 250, JSON.stringify(s));
			t.is(s.data?.[0], 250, JSON.stringify(s));
			const hits = await maildirHits(token);
			t.log(`Maildir: ${hits.join(', ') || '(nothing)'}`);
			const i = await lab().client<{ok: boolean; tls?: string; login?: unknown; messages?: {subject: string}[]; error?: string}>('imap', {
				user: 'alice@example.test',
				password: PASSWORDS.alice,
				token,
				wait: 10,
			});
			if (!i.ok || hits.length !== 1) await queueEvidence(t);
			t.true(hits.length === 1 && /alice/.test(hits[0]!), "one file, in alice's Maildir");
			t.true(i.ok, JSON.stringify(i));
			t.is(i.messages?.length, 1, JSON.stringify(i));
		});

		test.serial("issue 15.8: mail for root on the mx (cron, apt: sendmail root) lands in postmaster's (alice's) Maildir", async (t) => {
			t.timeout(120_000);
			if (!needWizard(t)) return;
			const token = tag();
			const r = await lab().exec('mx', ['sh', '-c', `printf 'Subject: cron ${token}\\n\\n${token}\\n' | /usr/sbin/sendmail root`]);
			t.is(r.exitCode, 0, r.stderr);
			const hits = await maildirHits(token);
			if (hits.length !== 1) await queueEvidence(t);
			t.true(hits.length === 1 && /^\/?alice\//.test(hits[0]!), `one file, in alice's Maildir: ${hits.join(', ') || '(nothing)'}`);
		});

		for (const [rcpt, what] of [
			['postmaster@example.test', "postmaster@ (RFC 5321) lands in alice's INBOX"],
			['abuse@example.test', "abuse@ (RFC 2142) lands in alice's INBOX"],
			['info@example.test', "the local alias info@ lands in alice's INBOX"],
			['ALICE@EXAMPLE.TEST', "the upper-case ALICE@EXAMPLE.TEST is accepted and lands in alice's INBOX"],
		] as const) {
			test.serial(`receive: ${what}`, async (t) => {
				t.timeout(120_000);
				if (!needWizard(t)) return;
				const token = tag();
				const s = await inbound([rcpt], token);
				t.is(s.rcpts[0]?.[0], 250, JSON.stringify(s));
				t.is(s.data?.[0], 250, JSON.stringify(s));
				const i = await lab().client<{ok: boolean; messages?: unknown[]; error?: string}>('imap', {user: 'alice@example.test', password: PASSWORDS.alice, token, wait: 15});
				if (i.messages?.length !== 1) {
					t.log(`Maildir hits: ${(await maildirHits(token, 1)).join(', ') || '(none)'}`);
					await queueEvidence(t);
				}
				t.is(i.messages?.length, 1, JSON.stringify(i));
			});
		}

		test.serial('receive: the alias team@ (a list) reaches alice and bob', async (t) => {
			t.timeout(120_000);
			if (!needWizard(t)) return;
			const token = tag();
			const s = await inbound(['team@example.test'], token);
			t.is(s.rcpts[0]?.[0], 250, JSON.stringify(s));
			const a = await lab().client<{messages?: unknown[]}>('imap', {user: 'alice@example.test', password: PASSWORDS.alice, token, wait: 15});
			const b = await lab().client<{messages?: unknown[]}>('imap', {user: 'bob@example.test', password: PASSWORDS.bob, token, wait: 15});
			if (a.messages?.length !== 1 || b.messages?.length !== 1) await queueEvidence(t);
			t.is(a.messages?.length, 1, `alice: ${JSON.stringify(a)}`);
			t.is(b.messages?.length, 1, `bob: ${JSON.stringify(b)}`);
		});

		test.serial('receive: the external alias fwd@ forwards to remote.test with an SRS sender for which SPF passes', async (t) => {
			t.timeout(120_000);
			if (!needWizard(t)) return;
			const token = tag();
			const s = await inbound(['fwd@example.test'], token);
			t.is(s.rcpts[0]?.[0], 250, JSON.stringify(s));
			t.is(s.data?.[0], 250, JSON.stringify(s));
			const m = await lab().waitSink((x) => x.data.includes(token));
			if (!m) {
				await mxEvidence(t);
				return t.fail('nothing forwarded to remote.test within 30 s');
			}
			t.deepEqual(m.rcpt_tos, ['someone@remote.test']);
			t.log(`envelope sender at remote: ${m.mail_from}`);
			t.regex(m.mail_from, /^SRS0=/i, 'SRS envelope sender');
			t.regex(m.mail_from, /@example\.test$/i, 'in the forwarding domain');
			const spf = await lab().client<{spf: [string, string]}>('spfcheck', {ip: m.peer, sender: m.mail_from, helo: m.helo});
			t.is(spf.spf?.[0], 'pass', JSON.stringify(spf));
		});
	}

	// ------------------------------------------------------------------ refusals

	function refuse(): void {
		test.serial('refuse: relaying from remote.test to other.test (5xx)', async (t) => {
			if (!needWizard(t)) return;
			const s = await inbound(['victim@other.test'], tag(), {data: false});
			t.log(JSON.stringify(s));
			t.true((s.rcpts[0]?.[0] ?? 0) >= 500 && (s.rcpts[0]?.[0] ?? 0) < 600, JSON.stringify(s));
		});

		test.serial('refuse: an unknown recipient at RCPT time (5xx), nothing queued', async (t) => {
			if (!needWizard(t)) return;
			const s = await inbound(['nobody@example.test'], tag(), {data: false});
			t.log(JSON.stringify(s));
			t.true((s.rcpts[0]?.[0] ?? 0) >= 500 && (s.rcpts[0]?.[0] ?? 0) < 600, JSON.stringify(s));
			const q = await lab().exec('mx', ['smtpctl', 'show', 'queue']);
			t.is(q.exitCode, 0, q.stderr);
			t.false(q.stdout.toLowerCase().includes('nobody@example.test'), `nothing for nobody@ in the queue:\n${q.stdout}`);
			t.is(q.stdout.trim(), '', 'the queue is empty (anything there was left by an earlier failure: see its last column)');
		});

		test.serial('refuse: AUTH on 587 before STARTTLS', async (t) => {
			if (!needWizard(t)) return;
			const s = await lab().client<{auth?: [number, string]; ehlo_advertises_auth?: boolean; error?: string}>('session', {port: 587, auth: {user: 'alice@example.test', password: PASSWORDS.alice}});
			t.log(JSON.stringify(s));
			t.false(s.ehlo_advertises_auth, 'AUTH is not offered before STARTTLS');
			t.true((s.auth?.[0] ?? 0) >= 500, `AUTH refused: ${JSON.stringify(s)}`);
		});

		test.serial('refuse: IMAP LOGIN without TLS on 143', async (t) => {
			if (!needWizard(t)) return;
			const s = await lab().client<ImapPlain>('imap_plain', {user: 'alice@example.test', password: PASSWORDS.alice});
			t.log(JSON.stringify(s));
			t.true(refusedConnection(s), `port 143 refuses the connection (only IMAPS listens): ${JSON.stringify(s)}`);
		});

		test.serial('refuse: a client without reverse DNS (550)', async (t) => {
			if (!needWizard(t)) return;
			await refusedWithoutPtr(t, {source: NET.remoteNoPtr});
		});

		test.serial('refuse: a wrong password on 587 and on IMAPS', async (t) => {
			if (!needWizard(t)) return;
			const s = await lab().client<{ok: boolean; stage?: string; response?: [number, string]}>('submit', {
				port: 587,
				mode: 'starttls',
				user: 'alice@example.test',
				password: 'wrong-password',
				from: 'alice@example.test',
				to: ['bob@remote.test'],
				subject: 'x',
				token: tag(),
			});
			t.log(JSON.stringify(s));
			t.false(s.ok);
			t.is(s.stage, 'auth');
			t.true((s.response?.[0] ?? 0) >= 500, JSON.stringify(s));
			const i = await lab().client<{ok: boolean; error?: string}>('imap', {user: 'alice@example.test', password: 'wrong-password', token: 'x'});
			t.false(i.ok, JSON.stringify(i));
			t.regex(i.error ?? '', /AUTHENTICATIONFAILED|failed/i);
		});
	}

	// ------------------------------------------------------------------ planted links (issue 14 #2)

	/**
	 * The layout before issue 14 kept the key in /var/lib/rspamd/dkim, a directory the _rspamd
	 * user can change: a link planted there as the key must make the re-run stop, name the file,
	 * publish nothing and leave what it points at (the TLS key) as it is.
	 */
	function plantedDkimLink(): void {
		test.serial('refuse: a symlink planted as the DKIM key makes the re-run stop with a clear message and publish nothing', async (t) => {
			t.timeout(2 * WIZARD_TIMEOUT_MS + 60_000);
			if (!needWizard(t)) return;
			const key = '/etc/rspamd/dkim/example.test.mail.key';
			const old = '/var/lib/rspamd/dkim/example.test.mail.key';
			const tlsKey = () => lab().exec('mx', ['sh', '-c', `sha256sum ${MX_TLS.key}; stat -c '%a %U:%G' ${MX_TLS.key}`]);
			const tlsBefore = (await tlsKey()).stdout;
			const plant = await lab().exec('mx', [
				'sh',
				'-c',
				`mv ${key} /root/dkim.saved && { [ ! -e /var/lib/rspamd/dkim ] || mv /var/lib/rspamd/dkim /root/dkim.old-dir; } && install -d -o _rspamd -g _rspamd -m 0750 /var/lib/rspamd/dkim && ln -s ${MX_TLS.key} ${old} && chown -h _rspamd:_rspamd ${old}`,
			]);
			t.is(plant.exitCode, 0, plant.stderr);
			try {
				const r = await wizard(t, WIZARD, 'wizard run with a planted link');
				logRun(t, r, 20);
				t.not(r.exitCode, 0, 'the run stops');
				t.regex(r.stdout + r.stderr, /\/var\/lib\/rspamd\/dkim\/example\.test\.mail\.key is a symbolic link, not a regular file/);
				const z = await wizard(t, [NODE, DIST, 'dns', '--zone', '--answers', ANSWERS, '--state-dir', STATE, '--resolver', NET.dns], 'dns --zone with a planted link');
				t.not(z.exitCode, 0);
				t.notRegex(z.stdout, /DKIM1/, 'no DKIM record is published');
				t.false(existsSync(lab().hostPath('mx', key)), 'nothing copied where Rspamd signs from');
				t.is((await tlsKey()).stdout, tlsBefore, 'the TLS key: same bytes, same mode and owner');
			} finally {
				await lab().exec('mx', ['sh', '-c', `rm -f ${old} && rmdir /var/lib/rspamd/dkim; mv /root/dkim.saved ${key}; [ ! -e /root/dkim.old-dir ] || mv /root/dkim.old-dir /var/lib/rspamd/dkim`]);
			}
		});
	}

	// ------------------------------------------------------------------ the end

	function cleanup(): void {
		test.serial('lab: cleanup leaves no namespace, mount or process behind', async (t) => {
			t.timeout(120_000);
			const l = lab();
			const tA = Date.now();
			await l.saveRspamdCache();
			const {killed, left} = await l.downAndCheck();
			t.log(`stopped ${killed.length} processes by pid`);
			t.deepEqual(left, []);
			const wizardMs = Object.entries(S.times)
				.filter(([k]) => k.startsWith('wizard') || k === 'dns --zone')
				.reduce((a, [, v]) => a + v, 0);
			const assertions = S.assertionsFrom ? tA - S.assertionsFrom : 0;
			t.log(`wall time: setup ${S.times.setup} ms (${JSON.stringify(l.timings)}), wizard ${wizardMs} ms (${JSON.stringify(S.times)}), assertions ${assertions} ms, teardown ${Date.now() - tA} ms`);
		});
	}

	/** Every test of a lane, in the Debian 12 lane's order. */
	function all(): void {
		hooks();
		labChecks();
		wizardRuns();
		send();
		receive();
		refuse();
		plantedDkimLink();
		cleanup();
	}

	return {
		S,
		PASSWORDS,
		WIZARD,
		NODE,
		lab,
		needWizard,
		mxEvidence,
		queueEvidence,
		wizard,
		logRun,
		maildirHits,
		inbound,
		refusedWithoutPtr,
		prepareMx,
		hooks,
		labChecks,
		wizardRuns,
		dnsZone,
		thirdRun,
		send,
		receive,
		refuse,
		cleanup,
		all,
	};
}
