// Issue 19 on a real server: `mailwizard check` is all ok on a server the wizard set up, and
// each fault, injected one at a time and then undone, turns exactly its rows. Run by the
// Debian 12 and 13 lanes after their other tests, before the cleanup.
import {generateKeyPairSync} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import test, {type ExecutionContext} from 'ava';
import {join} from 'node:path';
import {LAB_DNSBL, MX_TLS, NET, NET6, pidofHere, run} from './lab.ts';
import {DIST, STATE, tail, type Lane} from './assertions.ts';

type Row = {id: string; area: string; status: 'ok' | 'warn' | 'fail' | 'unknown'; detail: string; fix?: string; who?: string};
type Report = {version: number; rows: Row[]; summary: Record<string, number>};

export function doctor(lane: Lane): void {
	async function check(t: ExecutionContext, dnsbls: readonly string[] = [LAB_DNSBL]): Promise<{code: number | null; report: Report}> {
		const argv = [lane.NODE, DIST, 'check', '--json', '--resolver', NET.dns, '--probe', `${NET.remote}:25`, ...dnsbls.flatMap((z) => ['--dnsbl', z]), '--state-dir', STATE];
		const r = await lane.lab().exec('mx', argv, {timeoutMs: 90_000});
		let report: Report;
		try {
			report = JSON.parse(r.stdout) as Report;
		} catch {
			t.log(`check: exit ${r.exitCode}\n${tail(r.stdout)}\n${tail(r.stderr)}`);
			throw new Error('check printed no JSON');
		}
		t.log(report.rows.map((x) => `${x.status.padEnd(7)} ${x.id}: ${x.detail}${x.fix && x.status !== 'ok' ? ` -> ${x.fix}` : ''}`).join('\n'));
		return {code: r.exitCode, report};
	}

	const notOk = (r: Report) =>
		r.rows
			.filter((x) => x.status !== 'ok')
			.map((x) => `${x.id}=${x.status}`)
			.sort();

	const JOB = '/usr/local/lib/mailwizard/daily-check';
	const runJob = () => lane.lab().exec('mx', [JOB], {timeoutMs: 90_000});
	/** The notify mails in postmaster's (alice's) Maildir: their file names. */
	const notifyMails = async (wait = 20_000) => (await lane.maildirHits('Subject: mailwizard check on mail.example.test', wait)).sort();
	/** A DKIM record for a key Rspamd does not sign with, in place of the published one. */
	function otherDkim(z: string): string {
		const other = generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'der'}).toString('base64');
		const record = `mail._domainkey.example.test. 60 IN TXT "v=DKIM1; k=rsa; p=" ${other
			.match(/.{1,200}/g)!
			.map((c) => `"${c}"`)
			.join(' ')}`;
		const lines = z.split('\n');
		const at = lines.findIndex((x) => x.startsWith('mail._domainkey.example.test.'));
		if (at < 0) throw new Error(`no DKIM record in the lab zone:\n${z}`);
		// The published record continues over lines in parentheses: replaced up to its end.
		const end = lines[at]!.includes('(') ? lines.findIndex((x, i) => i >= at && x.includes(')')) : at;
		return [...lines.slice(0, at), record, ...lines.slice(end + 1)].join('\n');
	}

	const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
	/** Restarts Rspamd in the mx (its DKIM key cache goes with it) and waits until its normal worker answers. */
	async function restartRspamd(): Promise<void> {
		const l = lane.lab();
		await l.exec('mx', ['sh', '-c', `service rspamd stop >/dev/null 2>&1 </dev/null; i=0; while ${pidofHere('rspamd')} >/dev/null && [ $i -lt 80 ]; do sleep 0.25; i=$((i+1)); done`]);
		await l.exec('mx', ['sh', '-c', 'service rspamd start >/dev/null 2>&1 </dev/null']);
		for (let i = 0; i < 160 && (await l.exec('mx', ['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/11333'])).exitCode !== 0; i++) await sleep(250);
	}
	/** No test message of the self-test in any mailbox, no test login in smtpd's tables, nothing pending. */
	async function selftestLeftNothing(t: ExecutionContext): Promise<void> {
		const l = lane.lab();
		t.deepEqual(await lane.maildirHits('X-Mailwizard-Selftest:', 1), [], 'no self-test message in any Maildir');
		for (const table of ['/etc/smtpd/passwds', '/etc/smtpd/sendas']) t.notRegex(await l.readFile('mx', table), /_mailwizard-selftest/, `no test login in ${table}`);
		t.is((await l.readFile('mx', `${STATE}/selftest-pending.json`)).trim(), '{}');
		// The tables keep their owner and mode through the self-test's rewrites.
		t.is((await l.exec('mx', ['stat', '-c', '%n %a %U:%G', '/etc/smtpd/passwds', '/etc/smtpd/sendas'])).stdout, '/etc/smtpd/passwds 640 root:opensmtpd\n/etc/smtpd/sendas 644 root:root\n');
		t.notRegex((await l.exec('mx', ['smtpctl', 'show', 'queue'])).stdout, /_mailwizard-selftest/, 'nothing of it queued');
	}
	const LAB_OPTIONS = '/etc/rspamd/override.d/options.inc';

	// LAB ONLY (never the product): the lab's mx has a private address (10.77.0.25), which Rspamd
	// counts as local and skips SPF, DKIM and DMARC for; a real server's public address is not.
	test.serial("doctor (lab): Rspamd counts none of the lab's private addresses as local, as for a server on public addresses", async (t) => {
		if (!lane.needWizard(t)) return;
		await lane.lab().writeFile('mx', LAB_OPTIONS, 'local_addrs = [];\n');
		await restartRspamd();
		t.is((await lane.lab().exec('mx', ['rspamadm', 'configtest'])).exitCode, 0);
	});

	test.serial('schedule: the wizard installed a daily cron job (no systemd) running the installed mailwizard; cron runs; the job runs (exit 0 or 3)', async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const cron = await l.readFile('mx', '/etc/cron.d/mailwizard');
		t.regex(cron, new RegExp(`^\\d{1,2} 6 \\* \\* \\* root ${JOB} `, 'm'));
		t.regex(await l.readFile('mx', JOB), /^exec \/usr\/local\/sbin\/mailwizard check --notify --resolver 10\.77\.0\.53 --dnsbl bl\.remote\.test --probe 10\.77\.0\.30:25$/m);
		// The node that ran the wizard, by its absolute path (cron's PATH need not hold it).
		t.is((await l.readFile('mx', '/usr/local/sbin/mailwizard')).split('\n').at(-2), `exec ${lane.NODE} /usr/local/lib/mailwizard/mailwizard.js "$@"`);
		// The installed copy is the bundle under test, not a link to the checkout.
		t.is((await l.exec('mx', ['cmp', DIST, '/usr/local/lib/mailwizard/mailwizard.js'])).exitCode, 0);
		t.is((await l.exec('mx', ['test', '-L', '/usr/local/lib/mailwizard/mailwizard.js'])).exitCode, 1);
		t.is((await l.exec('mx', ['sh', '-c', 'service cron status'])).exitCode, 0, 'cron is running');
		const r = await runJob();
		t.log(`${JOB}: exit ${r.exitCode}\n${tail(r.stdout)}\n${r.stderr}`);
		t.true(r.exitCode === 0 || r.exitCode === 3, `exit ${r.exitCode}`);
		t.regex(r.stdout, /\d+ ok, \d+ warn, 0 fail, \d+ unknown/);
	});

	test.serial('schedule: a row that changes mails postmaster exactly once (it arrives in the Maildir); no mail while nothing changes; one when it is back to ok', async (t) => {
		t.timeout(300_000);
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		t.is((await runJob()).exitCode === 1, false, 'all ok or warnings before the fault');
		const before = await notifyMails(1);
		await l.editZone(otherDkim);
		// Rspamd keeps DKIM keys for their TTL: restarted, it asks DNS, and the self-test's signature fails too.
		await restartRspamd();
		try {
			const first = await runJob();
			t.is(first.exitCode, 1);
			t.regex(first.stderr, /mailed postmaster@example\.test: 2 check\(s\) changed/);
			const mails = await notifyMails();
			t.is(mails.length, before.length + 1, `one new notify mail: ${mails.join(', ')}`);
			const text = await l.readFile('mx', `/var/vmail${mails.find((m) => !before.includes(m)) ?? mails.at(-1)}`);
			t.regex(text, /dns:dkim:mail\._domainkey\.example\.test: ok -> fail/);
			t.regex(text, /fix: publish mail\._domainkey\.example\.test TXT with the key Rspamd signs with/);
			t.regex(text, /selftest: ok -> fail\n {2}DKIM fail: the signature does not verify/);
			t.regex(text, /See every check: mailwizard check/);
			const again = await runJob();
			t.is(again.exitCode, 1);
			t.notRegex(again.stderr, /mailed postmaster/);
			await new Promise((r) => setTimeout(r, 5000));
			t.is((await notifyMails(1)).length, before.length + 1, 'no mail when nothing changed');
		} finally {
			await l.editZone();
			await restartRspamd();
		}
		const back = await runJob();
		t.regex(back.stderr, /mailed postmaster@example\.test: 2 check\(s\) changed/);
		for (let i = 0; i < 40 && (await notifyMails(1)).length < before.length + 2; i++) await new Promise((r) => setTimeout(r, 500));
		t.is((await notifyMails(1)).length, before.length + 2, 'one mail when the row is back to ok');
	});

	test.serial('doctor: check on the set-up server is all ok, exit 0, and every area has rows', async (t) => {
		if (!lane.needWizard(t)) return;
		const {code, report} = await check(t);
		t.deepEqual(notOk(report), []);
		t.is(code, 0);
		t.is(report.version, 1);
		// The self-test: a signed message submitted on 587, delivered to postmaster, judged by Rspamd as from each published address, removed.
		t.regex(
			report.rows.find((x) => x.id === 'selftest')?.detail ?? '',
			new RegExp(
				`^DKIM pass \\(d=example\\.test s=mail\\), SPF pass \\(${NET.mx.replace(/\./g, '\\.')}, ${NET6.mx}\\), DMARC pass: signed mail to postmaster@example\\.test delivered in \\d+ ms, removed$`,
			),
		);
		await selftestLeftNothing(t);
		for (const id of [
			'daemon:dovecot',
			'daemon:rspamd',
			'daemon:opensmtpd',
			'schedule',
			'port:25',
			'port:993',
			'tls:25',
			'tls:465',
			'tls:587',
			'tls:993',
			'dns:dkim:mail._domainkey.example.test',
			`ptr:${NET.mx}`,
			`ptr:${NET6.mx}`,
			'dns:aaaa:mail.example.test',
			`dnsbl:${LAB_DNSBL}:${NET.mx}`,
			'port25-out',
			'disk:/var/vmail',
			'selftest',
		])
			t.true(
				report.rows.some((x) => x.id === id),
				`a row ${id}`,
			);
	});

	test.serial("doctor: Dovecot stopped turns exactly Dovecot's rows to fail (exit 1); started again, all ok", async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		await l.exec('mx', ['sh', '-c', 'service dovecot stop >/dev/null 2>&1']);
		try {
			const {code, report} = await check(t);
			// The self-test's message cannot be looked for (doveadm needs Dovecot): no verdict, and it is taken out of the queue.
			t.deepEqual(notOk(report), ['daemon:dovecot=fail', 'port:993=fail', 'selftest=unknown', 'tls:993=fail']);
			t.is(code, 1);
			t.regex(report.rows.find((x) => x.id === 'daemon:dovecot')!.fix!, /service dovecot start/);
			t.regex(
				report.rows.find((x) => x.id === 'selftest')!.detail,
				/the test message was accepted; looking for it failed: doveadm search failed: .+; it was still queued \(now removed from the queue\)/,
			);
		} finally {
			// A daemon started from here keeps any pipe it is given: its output goes nowhere.
			await l.exec('mx', ['sh', '-c', 'service dovecot start >/dev/null 2>&1 </dev/null']);
		}
		for (let i = 0; i < 20 && (await l.exec('mx', ['bash', '-c', `exec 3<>/dev/tcp/${NET.mx}/993`])).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 250));
		t.deepEqual(notOk((await check(t)).report), []);
		await selftestLeftNothing(t);
	});

	test.serial('doctor: the certificate file replaced without a restart turns the served-certificate rows to fail', async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const original = await l.readFile('mx', MX_TLS.cert);
		const fresh = await l.exec('mx', [
			'sh',
			'-c',
			`d=$(mktemp -d) && openssl req -x509 -newkey rsa:2048 -nodes -keyout $d/k -out $d/c -days 60 -subj /CN=mail.example.test -addext subjectAltName=DNS:mail.example.test 2>/dev/null && cat $d/c && rm -r $d`,
		]);
		await l.writeFile('mx', MX_TLS.cert, fresh.stdout);
		try {
			const {code, report} = await check(t);
			t.deepEqual(notOk(report), ['tls:25=fail', 'tls:465=fail', 'tls:587=fail', 'tls:993=fail']);
			t.is(code, 1);
			t.regex(report.rows.find((x) => x.id === 'tls:25')!.detail, /serves a certificate other than/);
		} finally {
			await l.writeFile('mx', MX_TLS.cert, original);
		}
		t.deepEqual(notOk((await check(t)).report), []);
	});

	test.serial('doctor: the mx listed in a lab blocklist turns exactly its row to fail, for the list operator (exit 1)', async (t) => {
		if (!lane.needWizard(t)) return;
		// Listed as a real list answers: 127.0.0.2 for the address, and for the test entry every list must list.
		await lane.lab().appendZone(`${NET.mx.split('.').reverse().join('.')}.listed IN A 127.0.0.2\n2.0.0.127.listed IN A 127.0.0.2`);
		const {code, report} = await check(t, [LAB_DNSBL, 'listed.example.test']);
		t.deepEqual(notOk(report), [`dnsbl:listed.example.test:${NET.mx}=fail`]);
		t.is(code, 1);
		t.like(
			report.rows.find((x) => x.id === `dnsbl:listed.example.test:${NET.mx}`),
			{who: 'list'},
		);
	});

	test.serial('doctor: a blocklist that answers 127.255.255.254 is unknown (exit 3), not ok and not listed', async (t) => {
		if (!lane.needWizard(t)) return;
		await lane.lab().appendZone('2.0.0.127.refusing IN A 127.255.255.254');
		const {code, report} = await check(t, [LAB_DNSBL, 'refusing.example.test']);
		// Asked for each address the server publishes (IPv4 and IPv6).
		t.deepEqual(notOk(report), [`dnsbl:refusing.example.test:${NET.mx}=unknown`, `dnsbl:refusing.example.test:${NET6.mx}=unknown`]);
		t.is(code, 3);
	});

	test.serial('doctor: a blocklist whose name servers do not answer is unknown (exit 3): said as no answer, never ok or listed', async (t) => {
		if (!lane.needWizard(t)) return;
		// silent.example.test is delegated to an address where no name server listens.
		await lane.lab().appendZone(`silent IN NS ns.silent\nns.silent IN A ${NET.other}`);
		const {code, report} = await check(t, [LAB_DNSBL, 'silent.example.test']);
		t.deepEqual(notOk(report), [`dnsbl:silent.example.test:${NET.mx}=unknown`, `dnsbl:silent.example.test:${NET6.mx}=unknown`]);
		t.regex(report.rows.find((x) => x.id === `dnsbl:silent.example.test:${NET.mx}`)!.detail, /does not answer|no verdict/);
		t.is(code, 3);
	});

	test.serial('doctor: SPF needing 11 DNS lookups through includes fails with its chain; the record itself differs too', async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		// 2 (mx, include) + 5 (a, mx, ptr, exists, include) + 4 (a, mx, ptr, exists) = 11
		const chain = ['s1.example.test. IN TXT "v=spf1 a mx ptr exists:x.example.test include:s2.example.test ~all"', 's2.example.test. IN TXT "v=spf1 a mx ptr exists:y.example.test ?all"'].join('\n');
		await l.editZone((z) => `${z.replace('"v=spf1 mx -all"', '"v=spf1 mx include:s1.example.test -all"')}\n${chain}`);
		try {
			const {code, report} = await check(t);
			t.deepEqual(notOk(report), ['dns:spf:example.test=fail', 'spf:lookups:example.test=fail']);
			t.is(code, 1);
			const row = report.rows.find((x) => x.id === 'spf:lookups:example.test')!;
			t.regex(row.detail, /needs 11 DNS lookups, over the limit of 10.*example\.test \(2\) -> s1\.example\.test \(5\) -> s2\.example\.test \(4\)/);
			t.is(row.who, 'dns');
		} finally {
			await l.editZone();
		}
		const after = await check(t);
		t.deepEqual(notOk(after.report), []);
		t.regex(after.report.rows.find((x) => x.id === 'spf:lookups:example.test')!.detail, /needs 1 of 10/);
	});

	test.serial('doctor: the DKIM TXT changed in DNS (another key) turns exactly the DKIM row and the self-test (its signature fails with the key now in DNS) to fail', async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		await l.editZone(otherDkim);
		await restartRspamd();
		try {
			const {code, report} = await check(t);
			// The self-test's signature, checked by Rspamd with the key now in DNS, fails as well: receivers see the same.
			t.deepEqual(notOk(report), ['dns:dkim:mail._domainkey.example.test=fail', 'selftest=fail']);
			t.is(code, 1);
			const row = report.rows.find((x) => x.id === 'dns:dkim:mail._domainkey.example.test')!;
			t.regex(row.detail, /DKIM record for another key/);
			t.regex(row.fix!, /the key Rspamd signs with/);
			t.regex(report.rows.find((x) => x.id === 'selftest')!.detail, /^DKIM fail: the signature does not verify with the key published at mail\._domainkey\.example\.test.*, SPF pass .*, DMARC pass: /);
		} finally {
			await l.editZone();
			await restartRspamd();
		}
		t.deepEqual(notOk((await check(t)).report), []);
	});

	test.serial('doctor: Rspamd signing with a key other than the one in DNS turns exactly the self-test to fail on DKIM, with its fix; restored, all ok', async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		// A hand-made override (the kind of change that makes mail fail silently): another key for the same selector.
		const key = '/etc/rspamd/dkim/other.key';
		const made = await l.exec('mx', [
			'sh',
			'-c',
			`openssl genrsa -out ${key} 2048 2>/dev/null && chown --reference=/etc/rspamd/dkim/example.test.mail.key ${key} && chmod --reference=/etc/rspamd/dkim/example.test.mail.key ${key}`,
		]);
		t.is(made.exitCode, 0, made.stderr);
		await l.writeFile('mx', '/etc/rspamd/override.d/dkim_signing.conf', `domain {\n  example.test {\n    path = "${key}";\n    selector = "mail";\n  }\n}\n`);
		await restartRspamd();
		try {
			const {code, report} = await check(t);
			t.deepEqual(notOk(report), ['selftest=fail'], 'the DNS row compares the key file mailwizard wrote: only the signed message shows what Rspamd does');
			t.is(code, 1);
			const row = report.rows.find((x) => x.id === 'selftest')!;
			t.regex(
				row.detail,
				/^DKIM fail: the signature does not verify with the key published at mail\._domainkey\.example\.test.*, SPF pass \(.*\), DMARC pass: signed mail to postmaster@example\.test delivered in \d+ ms, removed$/,
			);
			t.regex(row.fix!, /^the key Rspamd signs with differs from the one in DNS: .*override\.d/);
			t.is(row.who, 'admin');
			await selftestLeftNothing(t);
		} finally {
			await l.exec('mx', ['rm', '-f', key, '/etc/rspamd/override.d/dkim_signing.conf']);
			await restartRspamd();
		}
		t.deepEqual(notOk((await check(t)).report), []);
		await selftestLeftNothing(t);
	});

	test.serial('doctor: a message stuck for a destination that refuses turns exactly its queue row to warn, with the last error (exit 3)', async (t) => {
		t.timeout(180_000);
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		// other.test's MX is an address where nothing answers: smtpd defers and retries.
		const sent = await l.exec('mx', ['sh', '-c', "printf 'Subject: stuck\\n\\nstuck\\n' | /usr/sbin/sendmail -f postmaster@example.test nobody@other.test"]);
		t.is(sent.exitCode, 0, sent.stderr);
		const stuckIds = async () =>
			(await l.exec('mx', ['smtpctl', 'show', 'queue'])).stdout
				.split('\n')
				.map((x) => x.split('|'))
				.filter((f) => f[6]?.endsWith('@other.test') && Number(f[10]) > 0)
				.map((f) => f[0]!);
		for (let i = 0; i < 120 && (await stuckIds()).length === 0; i++) await new Promise((r) => setTimeout(r, 500));
		try {
			t.not((await stuckIds()).length, 0, 'smtpd tried and deferred it');
			const {code, report} = await check(t);
			t.deepEqual(notOk(report), ['queue:other.test=warn']);
			t.is(code, 3);
			const row = report.rows.find((x) => x.id === 'queue:other.test')!;
			t.regex(row.detail, /1 message\(s\) to other\.test not delivered, oldest 0 h, 1 deferred; last error: .+/);
			t.regex(row.fix!, /smtpctl show queue/);
		} finally {
			for (const id of await stuckIds()) await l.exec('mx', ['smtpctl', 'remove', id]);
		}
		t.deepEqual(notOk((await check(t)).report), []);
	});

	test.serial('doctor: a certificate with 3 days left, served after a restart, turns exactly the certificate rows to fail with the days and the renewal fix', async (t) => {
		t.timeout(240_000);
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const ca = join(l.base, 'ca');
		const original = await l.readFile('mx', MX_TLS.cert);
		// The same key, the lab CA, 3 days: only the expiry differs from the certificate served now.
		const csr = await run(['openssl', 'req', '-new', '-key', l.hostPath('mx', MX_TLS.key), '-subj', '/CN=mail.example.test', '-out', join(ca, 'short.csr')]);
		t.is(csr.exitCode, 0, csr.stderr);
		const signed = await run(['openssl', 'x509', '-req', '-in', 'short.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3', '-extfile', 'leaf.ext', '-out', 'short.pem'], {
			cwd: ca,
		});
		t.is(signed.exitCode, 0, signed.stderr);
		const chain = original
			.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g)!
			.slice(1)
			.join('');
		const reload = async () => {
			const r = await l.exec('mx', [
				'sh',
				'-c',
				'service opensmtpd stop >/dev/null 2>&1; i=0; while pidof -q smtpd && [ $i -lt 40 ]; do sleep 0.25; i=$((i+1)); done; service opensmtpd start >/dev/null 2>&1 </dev/null; service dovecot reload >/dev/null 2>&1 </dev/null',
			]);
			for (let i = 0; i < 40 && (await l.exec('mx', ['bash', '-c', `exec 3<>/dev/tcp/${NET.mx}/25`])).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 250));
			return r;
		};
		await l.writeFile('mx', MX_TLS.cert, (await readFile(join(ca, 'short.pem'), 'utf8')) + chain);
		try {
			await reload();
			const {code, report} = await check(t);
			t.deepEqual(notOk(report), ['tls:25=fail', 'tls:465=fail', 'tls:587=fail', 'tls:993=fail']);
			t.is(code, 1);
			const row = report.rows.find((x) => x.id === 'tls:465')!;
			t.regex(row.detail, /the certificate expires in [23] days/);
			t.regex(row.fix!, /^renew .* now$/);
		} finally {
			await l.writeFile('mx', MX_TLS.cert, original);
			await reload();
		}
		t.deepEqual(notOk((await check(t)).report), []);
	});

	test.serial('doctor (lab): check --no-self-test has no self-test row; the lab override of local_addrs is taken away again', async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		try {
			const r = await l.exec('mx', [lane.NODE, DIST, 'check', '--json', '--no-self-test', '--resolver', NET.dns, '--probe', `${NET.remote}:25`, '--dnsbl', LAB_DNSBL, '--state-dir', STATE], {
				timeoutMs: 90_000,
			});
			const report = JSON.parse(r.stdout) as Report;
			t.false(report.rows.some((x) => x.id === 'selftest'));
			t.deepEqual(notOk(report), []);
		} finally {
			await l.exec('mx', ['rm', '-f', LAB_OPTIONS]);
			await restartRspamd();
		}
		t.is((await l.exec('mx', ['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/11333'])).exitCode, 0);
	});
}
