// The doctor's rows (mailwizard check): each row's logic against real sockets on loopback,
// a real NSD for the blocklists, and certificates made by openssl.
import test, {type ExecutionContext} from 'ava';
import {readFileSync, mkdirSync, mkdtempSync} from 'node:fs';
import {createServer, type Server, type AddressInfo} from 'node:net';
import {createServer as createTlsServer, TLSSocket} from 'node:tls';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {bounded, rowsExit, rowsJson, rowsTable, type Row} from '../../source/doctor/row.ts';
import {certRow, firstCertificate, servedCertificate, tlsRows} from '../../source/doctor/tls.ts';
import {daemonRows, portRows} from '../../source/doctor/daemons.ts';
import {diskRows, diskStatus} from '../../source/doctor/disk.ts';
import {outsideRows} from '../../source/doctor/outside.ts';
import {parseQueue, queueRows, smtpdQueueRows} from '../../source/doctor/queue.ts';
import {changes, notify} from '../../source/doctor/notify.ts';
import {EXIT} from '../../source/exit.ts';
import {selfSigned} from '../helpers/tls.ts';
import {nsdUnavailable, startNsd, zoneText, type Nsd} from '../helpers/nsd.ts';

const HOST = 'mail.example.test';
const row = (status: Row['status'], id: string = status): Row => ({id, area: 'disk', status, detail: status, fix: `fix ${id}`, who: 'admin'});

test('exit: 0 when all ok, 1 on any fail, 3 when only warn or unknown', (t) => {
	t.is(rowsExit([row('ok')]), EXIT.ok);
	t.is(rowsExit([row('ok'), row('warn'), row('unknown')]), 3);
	t.is(rowsExit([row('warn'), row('fail')]), EXIT.failed);
	t.is(rowsExit([]), EXIT.ok);
});

test('table: a fix line under each row that is not ok, none under ok; json has version, rows, summary', (t) => {
	const lines = rowsTable([row('ok', 'a'), row('fail', 'b')]);
	t.regex(lines[0]!, /^ok\s+a\s+ok$/);
	t.regex(lines[1]!, /^FAIL\s+b\s+fail$/);
	t.regex(lines[2]!, /-> fix b \(admin\)$/);
	t.is(lines.length, 4);
	t.is(lines[3], '1 ok, 0 warn, 1 fail, 0 unknown');
	const j = JSON.parse(rowsJson([row('ok', 'a'), row('unknown', 'b')])) as {version: number; rows: Row[]; summary: Record<string, number>};
	t.is(j.version, 1);
	t.deepEqual(
		j.rows.map((r) => [r.id, r.status]),
		[
			['a', 'ok'],
			['b', 'unknown'],
		],
	);
	t.deepEqual(j.summary, {ok: 1, warn: 0, fail: 0, unknown: 1});
});

test('bounded: a check that overruns or throws is one unknown row, not a hang or a crash', async (t) => {
	const slow = await bounded('slow', 'dns', 50, () => new Promise<Row[]>(() => {}));
	t.like(slow[0], {id: 'slow', status: 'unknown'});
	t.regex(slow[0]!.detail, /no result within 0.05 s/);
	const broken = await bounded('broken', 'dns', 1000, async () => {
		throw new Error('boom');
	});
	t.like(broken[0], {id: 'broken', status: 'unknown', detail: 'the check failed: boom'});
});

const a = selfSigned(HOST);
const b = selfSigned(HOST);
const other = selfSigned('other.example.test');

function listen(server: Server): Promise<number> {
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A direct-TLS server (like 465 and 993) serving pair. */
async function tlsServer(pair: {cert: string; key: string}): Promise<{port: number; close: () => void}> {
	const s = createTlsServer({cert: readFileSync(pair.cert), key: readFileSync(pair.key)}, (c) => c.end());
	return {port: await listen(s), close: () => s.close()};
}

/** A minimal SMTP server (like 25 and 587): greeting, EHLO, STARTTLS, then TLS with pair. */
async function smtpServer(pair: {cert: string; key: string}, offerTls = true): Promise<{port: number; close: () => void}> {
	const s = createServer((c) => {
		c.write('220 mail.example.test ESMTP\r\n');
		c.on('data', (d) => {
			const line = d.toString();
			if (/^EHLO/i.test(line)) c.write(`250-mail.example.test\r\n${offerTls ? '250-STARTTLS\r\n' : ''}250 HELP\r\n`);
			else if (/^STARTTLS/i.test(line) && offerTls) {
				c.write('220 go ahead\r\n');
				c.removeAllListeners('data');
				new TLSSocket(c, {isServer: true, cert: readFileSync(pair.cert), key: readFileSync(pair.key)}).on('error', () => {});
			} else c.write('502 no\r\n');
		});
		c.on('error', () => {});
	});
	return {port: await listen(s), close: () => s.close()};
}

test('tls: the served certificate equal to the file is ok with its days; another one fails with "restart"', async (t) => {
	const srv = await tlsServer(a);
	try {
		const [ok] = await tlsRows('127.0.0.1', HOST, a.cert, readFileSync(a.cert, 'utf8'), [{port: srv.port, smtp: false}]);
		t.is(ok!.status, 'ok', ok!.detail);
		t.regex(ok!.detail, /covers mail\.example\.test, valid until \d{4}-\d\d-\d\d \((29|30) days\)/);
		const [bad] = await tlsRows('127.0.0.1', HOST, b.cert, readFileSync(b.cert, 'utf8'), [{port: srv.port, smtp: false}]);
		t.is(bad!.status, 'fail');
		t.regex(bad!.detail, /serves a certificate other than/);
		t.regex(bad!.fix!, /restart the daemon/);
	} finally {
		srv.close();
	}
});

test('tls: STARTTLS on an SMTP port reaches the certificate; a server without STARTTLS fails', async (t) => {
	const srv = await smtpServer(a);
	const plain = await smtpServer(a, false);
	try {
		const [ok] = await tlsRows('127.0.0.1', HOST, a.cert, readFileSync(a.cert, 'utf8'), [{port: srv.port, smtp: true}]);
		t.is(ok!.status, 'ok', ok!.detail);
		const [none] = await tlsRows('127.0.0.1', HOST, a.cert, readFileSync(a.cert, 'utf8'), [{port: plain.port, smtp: true}]);
		t.is(none!.status, 'fail');
		t.regex(none!.detail, /STARTTLS refused \(502\)/);
	} finally {
		srv.close();
		plain.close();
	}
});

test('tls: expiry warns under 21 days, fails under 7 and once expired; a wrong name fails; a closed port fails', async (t) => {
	const srv = await tlsServer(other);
	try {
		const served = await servedCertificate('127.0.0.1', srv.port, HOST, false);
		const file = firstCertificate(readFileSync(other.cert, 'utf8'));
		t.regex(certRow(srv.port, served, file, other.cert, HOST).detail, /does not cover mail\.example\.test/);
		const mine = await servedCertificate('127.0.0.1', srv.port, 'other.example.test', false);
		const days = (n: number) => new Date(Date.now() + n * 86_400_000);
		t.is(certRow(1, mine, file, other.cert, 'other.example.test', days(0)).status, 'ok');
		t.like(certRow(1, mine, file, other.cert, 'other.example.test', days(15)), {status: 'warn'});
		t.like(certRow(1, mine, file, other.cert, 'other.example.test', days(27)), {status: 'fail'});
		t.regex(certRow(1, mine, file, other.cert, 'other.example.test', days(40)).detail, /expired/);
		t.is(certRow(1, mine, undefined, other.cert, 'other.example.test').status, 'unknown');
	} finally {
		srv.close();
	}
	const closed = await servedCertificate('127.0.0.1', srv.port, HOST, false);
	t.true('error' in closed);
	t.is(certRow(9, closed, undefined, a.cert, HOST).status, 'fail');
});

test('ports: a listening port is ok, a closed one fails with the service named', async (t) => {
	const s = createServer((c) => c.end());
	const port = await listen(s);
	s.close();
	const open = createServer((c) => c.end());
	const openPort = await listen(open);
	try {
		const rows = await portRows('127.0.0.1', [
			{port: openPort, service: 'dovecot'},
			{port, service: 'opensmtpd'},
		]);
		t.is(rows[0]!.status, 'ok');
		t.like(rows[1], {status: 'fail', who: 'admin'});
		t.regex(rows[1]!.detail, /ECONNREFUSED/);
		t.regex(rows[1]!.fix!, /opensmtpd/);
	} finally {
		open.close();
	}
});

test('daemons: a running service is ok, a stopped one fails with the command to start it', async (t) => {
	const asked: string[][] = [];
	const exec = {run: async (cmd: {argv: readonly string[]}) => (asked.push([...cmd.argv]), {exitCode: cmd.argv.includes('dovecot') ? 3 : 0, stdout: '', stderr: ''})};
	const rows = await daemonRows({profile: {init: 'systemd'}, exec} as never, [
		{service: 'dovecot', exe: '/usr/sbin/dovecot'},
		{service: 'rspamd', exe: '/usr/bin/rspamd'},
	]);
	t.deepEqual(asked[0], ['systemctl', 'is-active', '--quiet', 'dovecot']);
	t.like(rows[0], {id: 'daemon:dovecot', status: 'fail'});
	t.regex(rows[0]!.fix!, /systemctl start dovecot/);
	t.like(rows[1], {id: 'daemon:rspamd', status: 'ok'});
});

test('disk: thresholds, and a directory that does not exist is unknown', async (t) => {
	const G = 2 ** 30;
	t.is(diskStatus(50 * G, 100 * G), 'ok');
	t.is(diskStatus(5 * G, 100 * G), 'warn');
	t.is(diskStatus(0.5 * G, 2 * G), 'warn');
	t.is(diskStatus(1 * G, 100 * G), 'fail');
	t.is(diskStatus(100 * 2 ** 20, 150 * 2 ** 20), 'fail');
	const root = mkdtempSync(join(tmpdir(), 'mw-disk-'));
	mkdirSync(join(root, 'var/vmail'), {recursive: true});
	const [vmail, spool] = await diskRows(root);
	t.regex(vmail!.detail, /GiB free of .* GiB \(\d+%\)/);
	t.like(spool, {id: 'disk:/var/spool/smtpd', status: 'unknown'});
});

const ADDR = '127.53.19.1';
const unavailable = nsdUnavailable();
let nsd: Nsd | undefined;
function withNsd(title: string, fn: (t: ExecutionContext) => Promise<void>): void {
	if (unavailable) test.skip(`${title} (skipped: ${unavailable})`, fn);
	else test.serial(title, fn);
}

withNsd('blocklists: listed fails, not listed is ok, a refusing or silent list is unknown; PTR ok', async (t) => {
	const ns = {ns1: ADDR};
	nsd = await startNsd(ADDR, {
		'example.test': zoneText('example.test', {ns, body: 'mail.example.test. IN A 192.0.2.10\n'}),
		'2.0.192.in-addr.arpa': zoneText('2.0.192.in-addr.arpa', {ns, body: '10.2.0.192.in-addr.arpa. IN PTR mail.example.test.\n'}),
		'bl.test': zoneText('bl.test', {ns, body: '2.0.0.127.bl.test. IN A 127.0.0.2\n10.2.0.192.bl.test. IN A 127.0.0.4\n'}),
		'clean.test': zoneText('clean.test', {ns, body: '2.0.0.127.clean.test. IN A 127.0.0.2\n'}),
		'refusing.test': zoneText('refusing.test', {ns, body: '2.0.0.127.refusing.test. IN A 127.255.255.254\n'}),
	});
	try {
		const rows = await outsideRows([ADDR], {hostname: HOST, ips: ['192.0.2.10'], dnsbls: ['bl.test', 'clean.test', 'refusing.test', 'silent.invalid']}, 800);
		const by = Object.fromEntries(rows.map((r) => [r.id, r]));
		t.like(by['ptr:192.0.2.10'], {status: 'ok'});
		t.like(by['dnsbl:bl.test:192.0.2.10'], {status: 'fail', who: 'list'});
		t.like(by['dnsbl:clean.test:192.0.2.10'], {status: 'ok'});
		t.like(by['dnsbl:refusing.test:192.0.2.10'], {status: 'unknown'});
		t.like(by['dnsbl:silent.invalid:192.0.2.10'], {status: 'unknown'});
		t.is(rows.length, 5, 'no probe asked: no port-25 row');
	} finally {
		await nsd.stop();
	}
});

test("queue: smtpctl's lines parsed; mail older than an hour or deferred is a row per destination with its last error", (t) => {
	const now = 1_800_000_000;
	const line = (id: string, dest: string, age: number, retry: number, error: string) =>
		`${id}|inet4|mta||alice@example.test|${dest}|${dest}|${now - age}|${now - age + 345600}|${now - 60}|${retry}|pending|120|${error}`;
	const text = [
		line('0123456789abcdef', 'bob@remote.test', 7200, 3, '450 4.7.1 try again | later'),
		line('0123456789abcde0', 'eve@remote.test', 60, 1, ''),
		line('0123456789abcde1', 'carol@fresh.test', 30, 0, ''),
		'garbage line',
	].join('\n');
	const envs = parseQueue(text);
	t.is(envs.length, 3);
	t.like(envs[0], {dest: 'remote.test', retries: 3, error: '450 4.7.1 try again | later'});
	const rows = queueRows(envs, now);
	t.like(rows[0], {id: 'queue', status: 'ok'});
	t.regex(rows[0]!.detail, /3 message\(s\) queued, 2 older than an hour or deferred/);
	t.is(rows.length, 2, 'fresh.test: one fresh message, not deferred: no row');
	t.like(rows[1], {id: 'queue:remote.test', status: 'warn', who: 'admin'});
	t.regex(rows[1]!.detail, /2 message\(s\) to remote\.test not delivered, oldest 2 h, 2 deferred; last error: 450 4\.7\.1 try again \| later/);
	t.is(queueRows(parseQueue(line('0123456789abcdef', 'bob@remote.test', 90_000, 9, 'x')), now)[1]!.status, 'fail', 'older than a day: fail');
	t.deepEqual(queueRows([], now), [{id: 'queue', area: 'queue', status: 'ok', detail: '0 message(s) queued, 0 older than an hour or deferred'}]);
});

test('queue: smtpctl failing (smtpd not running, not root) is unknown, not ok', async (t) => {
	const rows = await smtpdQueueRows({exec: {run: async () => ({exitCode: 1, stdout: '', stderr: "smtpctl: smtpd doesn't seem to be running\n"}), which: async () => true}});
	t.like(rows[0], {id: 'queue', status: 'unknown'});
	t.regex(rows[0]!.detail, /doesn't seem to be running/);
});

test('notify: postmaster gets one mail when a row changes state, none when nothing changed; unsent changes are kept', async (t) => {
	const file = join(mkdtempSync(join(tmpdir(), 'mw-notify-')), 'state', 'check-last.json');
	const sent: string[] = [];
	let fail = false;
	const exec = {
		run: async (cmd: {argv: readonly string[]; stdin?: string}) => (sent.push(`${cmd.argv.join(' ')}\n${cmd.stdin}`), {exitCode: fail ? 75 : 0, stdout: '', stderr: fail ? 'queue full' : ''}),
		which: async () => true,
	};
	const ok = [row('ok', 'daemon:dovecot'), row('ok', 'tls:25')];
	t.deepEqual(await notify(exec, file, HOST, 'postmaster@example.test', ok), {sent: 0}, 'first run, all ok: no mail');
	t.deepEqual(await notify(exec, file, HOST, 'postmaster@example.test', ok), {sent: 0});
	t.is(sent.length, 0);
	const down = [row('fail', 'daemon:dovecot'), row('ok', 'tls:25')];
	t.deepEqual(await notify(exec, file, HOST, 'postmaster@example.test', down), {sent: 1});
	t.is(sent.length, 1);
	t.regex(sent[0]!, /^sendmail -t\nTo: postmaster@example\.test\nSubject: mailwizard check on mail\.example\.test: 1 check\(s\) changed, 1 need attention/);
	t.regex(sent[0]!, /daemon:dovecot: ok -> fail\n {2}fail\n {2}fix: fix daemon:dovecot \(admin\)/);
	t.regex(sent[0]!, /See every check: mailwizard check/);
	t.notRegex(sent[0]!, /tls:25/, 'only the changed row');
	t.deepEqual(await notify(exec, file, HOST, 'postmaster@example.test', down), {sent: 0}, 'still failing: no second mail');
	fail = true;
	t.like(await notify(exec, file, HOST, 'postmaster@example.test', ok), {sent: 0, error: 'sendmail: exit 75 queue full'});
	fail = false;
	t.deepEqual(await notify(exec, file, HOST, 'postmaster@example.test', ok), {sent: 1}, 'the unsent change is mailed next time');
	t.regex(sent.at(-1)!, /all back to ok/);
	t.deepEqual(changes(undefined, [row('warn', 'x')]), [{row: row('warn', 'x'), was: 'ok'}]);
	t.deepEqual(changes({}, [row('ok', 'new-row')]), [], 'a new row that is ok is no news');
});
