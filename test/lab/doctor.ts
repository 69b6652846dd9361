// Issue 19 on a real server: `mailwizard check` is all ok on a server the wizard set up, and
// each fault, injected one at a time and then undone, turns exactly its rows. Run by the
// Debian 12 lane after its other tests, before the cleanup.
import {generateKeyPairSync} from 'node:crypto';
import test, {type ExecutionContext} from 'ava';
import {LAB_DNSBL, MX_TLS, NET} from './lab.ts';
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

	test.serial('doctor: check on the set-up server is all ok, exit 0, and every area has rows', async (t) => {
		if (!lane.needWizard(t)) return;
		const {code, report} = await check(t);
		t.deepEqual(notOk(report), []);
		t.is(code, 0);
		t.is(report.version, 1);
		for (const id of [
			'daemon:dovecot',
			'daemon:rspamd',
			'daemon:opensmtpd',
			'port:25',
			'port:993',
			'tls:25',
			'tls:465',
			'tls:587',
			'tls:993',
			'dns:dkim:mail._domainkey.example.test',
			`ptr:${NET.mx}`,
			`dnsbl:${LAB_DNSBL}:${NET.mx}`,
			'port25-out',
			'disk:/var/vmail',
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
			t.deepEqual(notOk(report), ['daemon:dovecot=fail', 'port:993=fail', 'tls:993=fail']);
			t.is(code, 1);
			t.regex(report.rows.find((x) => x.id === 'daemon:dovecot')!.fix!, /service dovecot start/);
		} finally {
			// A daemon started from here keeps any pipe it is given: its output goes nowhere.
			await l.exec('mx', ['sh', '-c', 'service dovecot start >/dev/null 2>&1 </dev/null']);
		}
		for (let i = 0; i < 20 && (await l.exec('mx', ['bash', '-c', `exec 3<>/dev/tcp/${NET.mx}/993`])).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 250));
		t.deepEqual(notOk((await check(t)).report), []);
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

	test.serial('doctor: a blocklist that answers 127.255.255.254 is unknown (exit 3), not ok and not listed', async (t) => {
		if (!lane.needWizard(t)) return;
		await lane.lab().appendZone('2.0.0.127.refusing IN A 127.255.255.254');
		const {code, report} = await check(t, [LAB_DNSBL, 'refusing.example.test']);
		t.deepEqual(notOk(report), [`dnsbl:refusing.example.test:${NET.mx}=unknown`]);
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

	test.serial('doctor: the DKIM TXT changed in DNS (another key) turns exactly the DKIM row to fail', async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const other = generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'der'}).toString('base64');
		const strings = other.match(/.{1,200}/g)!.map((c) => `"${c}"`);
		const record = `mail._domainkey.example.test. 60 IN TXT "v=DKIM1; k=rsa; p=" ${strings.join(' ')}`;
		await l.editZone((z) => {
			const lines = z.split('\n');
			const at = lines.findIndex((x) => x.startsWith('mail._domainkey.example.test.'));
			if (at < 0) throw new Error(`no DKIM record in the lab zone:\n${z}`);
			// The published record may continue over lines in parentheses: replace up to its end.
			const end = lines[at]!.includes('(') ? lines.findIndex((x, i) => i >= at && x.includes(')')) : at;
			return [...lines.slice(0, at), record, ...lines.slice(end + 1)].join('\n');
		});
		try {
			const {code, report} = await check(t);
			t.deepEqual(notOk(report), ['dns:dkim:mail._domainkey.example.test=fail']);
			t.is(code, 1);
			const row = report.rows.find((x) => x.id === 'dns:dkim:mail._domainkey.example.test')!;
			t.regex(row.detail, /DKIM record for another key/);
			t.regex(row.fix!, /the key Rspamd signs with/);
		} finally {
			await l.editZone();
		}
		t.deepEqual(notOk((await check(t)).report), []);
	});
}
