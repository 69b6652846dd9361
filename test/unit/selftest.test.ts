// The self-test's parts (issue 19): the SMTP submission against a fake server on loopback, Rspamd's
// answer read into DKIM/SPF/DMARC and one row, doveadm's output, the table line of the test login.
import test from 'ava';
import {readFileSync} from 'node:fs';
import {createServer as createHttpServer, type IncomingHttpHeaders} from 'node:http';
import {createServer, type AddressInfo, type Socket} from 'node:net';
import {TLSSocket} from 'node:tls';
import {dotStuffed, SmtpError, submit} from '../../source/doctor/smtp.ts';
import {dkimPart, dmarcPart, rspamdCheck, selftestRow, signatureOf, spfPart, type Symbols} from '../../source/doctor/verdict.ts';
import {fetchedText, parseSearch} from '../../source/doctor/mailbox.ts';
import {dropQueued, selftestMessage, withLine, SELFTEST_HEADER} from '../../source/doctor/selftest.ts';
import {fakeExec} from '../../source/engine/exec.ts';
import {HELP, parseOptions, type Options} from '../../source/options.ts';
import {checkArgs} from '../../source/runtime.ts';
import {selfSigned} from '../helpers/tls.ts';

const HOST = 'mail.example.test';
const pair = selfSigned(HOST);

type Seen = {lines: string[]; data?: string; tls: boolean};

/** A submission server: greeting, EHLO, STARTTLS, then (over TLS) AUTH PLAIN for one login, MAIL, RCPT, DATA. */
async function fakeSubmission(login: string, password: string, refuse: {mail?: boolean} = {}): Promise<{port: number; seen: Seen[]; close: () => void}> {
	const seen: Seen[] = [];
	const serve = (sock: Socket | TLSSocket, s: Seen) => {
		let buf = '';
		let inData = false;
		sock.on('data', (d: Buffer) => {
			buf += d.toString('latin1');
			for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
				const line = buf.slice(0, i);
				buf = buf.slice(i + 2);
				if (inData) {
					if (line === '.') {
						inData = false;
						sock.write('250 2.0.0 queued\r\n');
					} else s.data = `${s.data ?? ''}${line}\r\n`;
					continue;
				}
				s.lines.push(line);
				const verb = line.split(' ')[0]!.toUpperCase();
				if (verb === 'EHLO') sock.write(`250-${HOST}\r\n250-8BITMIME\r\n${s.tls ? '250 AUTH PLAIN LOGIN' : '250 STARTTLS'}\r\n`);
				else if (verb === 'STARTTLS') {
					sock.write('220 2.0.0 ready\r\n');
					sock.removeAllListeners('data');
					const secure = new TLSSocket(sock as Socket, {isServer: true, cert: readFileSync(pair.cert), key: readFileSync(pair.key)});
					s.tls = true;
					serve(secure, s);
				} else if (verb === 'AUTH') {
					const ok = line === `AUTH PLAIN ${Buffer.from(`\0${login}\0${password}`).toString('base64')}`;
					sock.write(ok && s.tls ? '235 2.0.0 Authentication succeeded\r\n' : '535 Authentication failed\r\n');
				} else if (verb === 'MAIL') sock.write(refuse.mail ? '550 5.7.1 Sender address rejected: not owned by you\r\n' : '250 2.0.0 Ok\r\n');
				else if (verb === 'RCPT') sock.write('250 2.1.5 Destination address valid\r\n');
				else if (verb === 'DATA') {
					inData = true;
					sock.write('354 Enter mail\r\n');
				} else if (verb === 'QUIT') sock.end('221 2.0.0 Bye\r\n');
				else sock.write('502 5.5.2 what\r\n');
			}
		});
		sock.on('error', () => {});
	};
	const server = createServer((c) => {
		const s: Seen = {lines: [], tls: false};
		seen.push(s);
		c.write(`220 ${HOST} ESMTP\r\n`);
		serve(c, s);
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	return {port: (server.address() as AddressInfo).port, seen, close: () => server.close()};
}

const sub = (port: number, over: Partial<Parameters<typeof submit>[0]> = {}) =>
	submit({
		host: '127.0.0.1',
		port,
		helo: HOST,
		servername: HOST,
		login: '_mailwizard-selftest@example.test',
		password: 'pw-1',
		from: '_mailwizard-selftest@example.test',
		to: 'postmaster@example.test',
		message: 'Subject: x\r\n\r\n.a line with a dot\r\nend\r\n',
		timeoutMs: 5000,
		...over,
	});

test('smtp: STARTTLS, AUTH PLAIN over TLS only, MAIL FROM, RCPT TO and DATA (dot-stuffed); the message arrives whole', async (t) => {
	const srv = await fakeSubmission('_mailwizard-selftest@example.test', 'pw-1');
	try {
		await sub(srv.port);
		const s = srv.seen[0]!;
		t.true(s.tls);
		t.deepEqual(
			s.lines.map((l) => l.split(' ')[0]),
			['EHLO', 'STARTTLS', 'EHLO', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'QUIT'],
		);
		t.true(s.lines.includes('MAIL FROM:<_mailwizard-selftest@example.test>'));
		t.is(s.data, 'Subject: x\r\n\r\n..a line with a dot\r\nend\r\n');
	} finally {
		srv.close();
	}
});

test('smtp: a wrong password fails at AUTH with the reply; a refused sender at MAIL FROM; a closed port at connect; silence at the time limit', async (t) => {
	const srv = await fakeSubmission('_mailwizard-selftest@example.test', 'another');
	const strict = await fakeSubmission('_mailwizard-selftest@example.test', 'pw-1', {mail: true});
	const silent = createServer(() => {});
	await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
	try {
		const auth = await t.throwsAsync(sub(srv.port), {instanceOf: SmtpError});
		t.is(auth!.step, 'AUTH');
		t.regex(auth!.reply, /^535 /);
		const mail = await t.throwsAsync(sub(strict.port), {instanceOf: SmtpError});
		t.is(mail!.step, 'MAIL FROM');
		t.regex(mail!.message, /MAIL FROM: 550 5\.7\.1 Sender address rejected/);
		const closed = await t.throwsAsync(sub(1), {instanceOf: SmtpError});
		t.is(closed!.step, 'connect');
		const t0 = Date.now();
		const slow = await t.throwsAsync(sub((silent.address() as AddressInfo).port, {timeoutMs: 300}), {instanceOf: SmtpError});
		t.is(slow!.step, 'timeout');
		t.true(Date.now() - t0 < 2000);
	} finally {
		srv.close();
		strict.close();
		silent.close();
	}
});

test('smtp: dot-stuffing doubles a leading dot and ends the message with CRLF', (t) => {
	t.is(dotStuffed('.x\r\n..y\r\nz'), '..x\r\n...y\r\nz\r\n');
});

// Rspamd 3.x /checkv2 symbols, as the lab's Rspamd answers for the self-test message.
const PASS: Symbols = {
	R_DKIM_ALLOW: {options: ['example.test:s=mail']},
	R_SPF_ALLOW: {options: ['+mx']},
	DMARC_POLICY_ALLOW: {options: ['example.test', 'reject']},
	DKIM_TRACE: {options: ['example.test:+']},
};
const SIGNED = {d: 'example.test', s: 'mail'};
const TRIP = {to: 'postmaster@example.test', deliveredMs: 412, removed: true};
const row = (s: Symbols, ips = ['10.77.0.25'], trip = TRIP, signed: typeof SIGNED | undefined = SIGNED) =>
	selftestRow(
		dkimPart(s, signed),
		ips.map((ip) => spfPart(s, ip, 'example.test')),
		dmarcPart(s, 'example.test'),
		trip,
	);

test('verdict: DKIM, SPF and DMARC passing, delivered and removed, is one ok row that says so', (t) => {
	const r = row(PASS, ['10.77.0.25', '2001:db8:77::25']);
	t.is(r.status, 'ok');
	t.is(r.id, 'selftest');
	t.is(r.detail, 'DKIM pass (d=example.test s=mail), SPF pass (10.77.0.25, 2001:db8:77::25), DMARC pass: signed mail to postmaster@example.test delivered in 412 ms, removed');
	t.is(r.fix, undefined);
});

test('verdict: a signature that does not verify with the key in DNS fails on DKIM with the fix; SPF and DMARC still pass', (t) => {
	const {R_DKIM_ALLOW: _, ...rest} = PASS;
	const r = row({...rest, R_DKIM_REJECT: {options: ['example.test:s=mail']}});
	t.is(r.status, 'fail');
	t.regex(r.detail, /^DKIM fail: the signature does not verify with the key published at mail\._domainkey\.example\.test .*, SPF pass \(10\.77\.0\.25\), DMARC pass: /);
	t.regex(r.fix!, /the key Rspamd signs with differs from the one in DNS: publish mail\._domainkey\.example\.test TXT as "mailwizard dns" shows/);
	t.is(r.who, 'admin');
});

test('verdict: unsigned, SPF fail, no DMARC record: each fails with its own fix; DNS failures and a local address are unknown', (t) => {
	const unsigned = row({R_DKIM_NA: {}, R_SPF_ALLOW: {}, DMARC_POLICY_ALLOW: {}}, undefined, undefined, undefined);
	t.is(unsigned.status, 'fail');
	t.regex(unsigned.detail, /DKIM fail: the mail was not signed/);
	const {R_SPF_ALLOW: _, ...noSpf} = PASS;
	const spf = row({...noSpf, R_SPF_FAIL: {options: ['-all']}});
	t.is(spf.status, 'fail');
	t.regex(spf.detail, /SPF fail: 10\.77\.0\.25: fail \(-all\)/);
	t.regex(spf.fix!, /SPF record of example\.test .* must allow 10\.77\.0\.25/);
	t.is(spf.who, 'dns');
	const noDmarc = row({R_DKIM_ALLOW: {}, R_SPF_ALLOW: {}, DMARC_NA: {}});
	t.is(noDmarc.status, 'fail');
	t.regex(noDmarc.fix!, /publish _dmarc\.example\.test TXT/);
	const dns = row({R_DKIM_TEMPFAIL: {}, R_SPF_DNSFAIL: {}, DMARC_DNSFAIL: {}});
	t.is(dns.status, 'unknown');
	t.regex(dns.detail, /DKIM unknown: DNS failure/);
	// Rspamd checks nothing for a "local" address (its local_addrs): no verdict, said so.
	const local = row({ARC_NA: {}});
	t.is(local.status, 'unknown');
	t.regex(local.fix!, /local_addrs/);
});

test('verdict: a message that could not be removed is a warning with the command to remove it', (t) => {
	const r = row(PASS, undefined, {...TRIP, removed: false});
	t.is(r.status, 'warn');
	t.regex(r.detail, /NOT removed$/);
	t.regex(r.fix!, /doveadm expunge -A header X-Mailwizard-Selftest/);
});

test('verdict: the d= and s= of the DKIM-Signature, folded over lines', (t) => {
	const m = 'Received: x\r\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n\td=example.test; s=mw202612;\r\n\th=from:to; b=abc\r\nSubject: y\r\n\r\nDKIM-Signature: d=no; s=no\r\n';
	t.deepEqual(signatureOf(m), {d: 'example.test', s: 'mw202612'});
	t.is(signatureOf('Subject: y\n\nbody'), undefined);
});

test('rspamd: the message goes to /checkv2 with the envelope as headers and CRLF lines; the symbols come back', async (t) => {
	let got: {headers: IncomingHttpHeaders; body: string; url?: string} | undefined;
	const srv = createHttpServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			got = {headers: req.headers, body: Buffer.concat(chunks).toString(), url: req.url};
			res.end(JSON.stringify({is_skipped: false, action: 'no action', symbols: PASS}));
		});
	});
	await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
	try {
		const r = await rspamdCheck(
			'Subject: a\n\nb\n',
			{ip: '10.77.0.25', from: 'x@example.test', rcpt: 'postmaster@example.test', helo: HOST, hostname: HOST},
			2000,
			(srv.address() as AddressInfo).port,
		);
		t.deepEqual(r, {symbols: PASS, skipped: false});
		t.is(got!.url, '/checkv2');
		t.like(got!.headers, {ip: '10.77.0.25', from: 'x@example.test', rcpt: 'postmaster@example.test', helo: HOST});
		t.is(got!.headers.user, undefined, 'no user: judged as inbound, not as an authenticated client');
		t.is(got!.body, 'Subject: a\r\n\r\nb\r\n');
	} finally {
		srv.close();
	}
	await t.throwsAsync(rspamdCheck('x', {ip: '1.2.3.4', from: 'a@b', rcpt: 'c@d', helo: 'h', hostname: 'h'}, 500, 1));
});

test('doveadm: search -A lines (user, mailbox GUID, UID); fetch text without its field name; errors are not hits', (t) => {
	t.deepEqual(parseSearch('alice 4cb0a2362dee106b4b34000083ecc375 1\nbob@example.test 9b0865382dee106b5134000083ecc375 17\n'), [
		{user: 'alice', guid: '4cb0a2362dee106b4b34000083ecc375', uid: '1'},
		{user: 'bob@example.test', guid: '9b0865382dee106b5134000083ecc375', uid: '17'},
	]);
	t.deepEqual(parseSearch('doveadm(carol): Error: User lookup failed\n'), []);
	t.is(fetchedText('text:\nFrom: a@b\n\nbody\n'), 'From: a@b\n\nbody\n');
	t.throws(() => fetchedText('Error: no such mailbox'));
});

test("the test login's table line: added, replaced, removed; the other lines kept as they are; nothing to do is undefined", (t) => {
	const table = 'alice@example.test $6$a\nalice $6$a\n';
	const login = '_mailwizard-selftest@example.test';
	const added = withLine(table, login, `${login} $6$t`)!;
	t.is(added, `${table}${login} $6$t\n`);
	t.is(withLine(added, login, `${login} $6$u`), `${table}${login} $6$u\n`);
	t.is(withLine(added, login, undefined), table);
	t.is(withLine(table, login, undefined), undefined, 'no line: the file is not rewritten');
	t.is(withLine(`${login} $6$t\n`, login, undefined), '');
	// A user whose name only starts like the login keeps their line.
	t.is(withLine(`${login}x $6$a\n`, login, undefined), undefined);
});

test('the test message: from the test address to postmaster, with its token header and a subject that says it is removed', (t) => {
	const m = selftestMessage({domain: 'example.test', hostname: HOST, host: '10.77.0.25', ips: [], stateDir: '/x'}, '0123456789abcdef01234567', new Date('2026-12-03T05:00:00Z'));
	t.regex(m, /^From: mailwizard self-test <_mailwizard-selftest@example\.test>\r\n/);
	t.regex(m, /\r\nTo: postmaster@example\.test\r\n/);
	t.regex(m, new RegExp(`\\r\\n${SELFTEST_HEADER}: 0123456789abcdef01234567\\r\\n`));
	t.regex(m, /\r\nSubject: mailwizard self-test 01234567 \(removed automatically\)\r\n/);
	t.regex(m, /\r\nDate: Thu, 03 Dec 2026 05:00:00 \+0000\r\n/);
	t.notRegex(m, /[^\r]\n/, 'CRLF line ends only');
});

test("smtpd's queue: only the test sender's envelopes are removed (a message not delivered must not arrive later)", async (t) => {
	const queue = [
		'0123456789abcdef|local|mta|0|_mailwizard-selftest@example.test|postmaster@example.test|postmaster@example.test|1764740000|1765000000|0|1|pending|0|Network error',
		'fedcba9876543210|local|mta|0|alice@example.test|bob@other.test|bob@other.test|1764740000|1765000000|0|1|pending|0|Network error',
		'',
	].join('\n');
	const exec = fakeExec([{match: (a) => a.join(' ') === 'smtpctl show queue', result: {exitCode: 0, stdout: queue, stderr: ''}}]);
	t.is(await dropQueued({root: '/', exec}, '_mailwizard-selftest@example.test'), 1);
	t.deepEqual(
		exec.calls.map((c) => c.argv.join(' ')),
		['smtpctl show queue', 'smtpctl remove 0123456789abcdef'],
	);
});

test('--no-self-test: check leaves the self-test out; the wizard passes it on to the daily check; any other command refuses it', (t) => {
	t.like(parseOptions(['check']), {command: 'check', selfTest: true});
	t.like(parseOptions(['check', '--no-self-test']), {command: 'check', selfTest: false});
	const wizard = parseOptions(['--no-self-test', '--dry-run']);
	t.like(wizard, {command: 'wizard', selfTest: false});
	t.deepEqual(checkArgs(wizard as Options), ['--no-self-test']);
	t.throws(() => parseOptions(['dns', '--no-self-test']), {message: /--no-self-test is for check/});
	t.regex(HELP, /--no-self-test/);
});
