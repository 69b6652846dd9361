// The live checks against real authoritative servers: NSD on loopback (127.53.0.x:53).
// Nothing here queries anything but loopback, and only .test names.
import {generateKeyPairSync} from 'node:crypto';
import dgram from 'node:dgram';
import test from 'ava';
import {validateAnswers} from '../../source/answers.ts';
import {checkRecords, compareDkim, compareSpf, compareTagged, normAddress, parseTags, spfLookupCount} from '../../source/dns/check.ts';
import {formatServer, parseServer, query, QueryError, txtJoined} from '../../source/dns/client.ts';
import {formatZone, quoteTxt} from '../../source/dns/format.ts';
import {buildRecords, dkimTxtValue} from '../../source/dns/records.ts';
import type {CheckReport, ExpectedRecord, RecordCheck} from '../../source/dns/types.ts';
import {confirmViaResolvers, waitForRecords} from '../../source/dns/wait.ts';
import {nsdUnavailable, startNsd, zoneText, type Nsd} from '../helpers/nsd.ts';

const NS1 = '127.53.0.1';
const NS2 = '127.53.0.2';
const NS3 = '127.53.0.3'; // serves the parent zone "test": answers for lame.test with a referral (AA=0)
const NS4 = '127.53.0.4'; // serves only unrelated.test: REFUSED for anything else
const SILENT = '127.53.0.8'; // a socket that swallows every question
const NOTHING = '127.53.0.9'; // nothing listening
const RESOLVERS = [NS1];

const key = generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'der'});
const otherKey = generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'der'});

function records(domain: string, over: Record<string, unknown> = {}): ExpectedRecord[] {
	const answers = validateAnswers(
		{
			domain,
			hostname: `mail.${domain}`,
			ipv4: '192.0.2.10',
			tls: {cert: '/etc/ssl/certs/mail.pem', key: '/etc/ssl/private/mail.key'},
			users: [{name: 'alice', password_hash: '{CRYPT}$y$j9T$abc$def'}],
			dmarc: {policy: 'reject', rua: `postmaster@${domain}`},
			...over,
		},
		{},
	);
	return buildRecords(answers, {publicKeyDer: key});
}

/** The publishable records of `domain`'s own zone, optionally of some kinds only. */
function own(domain: string, kinds?: readonly string[], over?: Record<string, unknown>): ExpectedRecord[] {
	return records(domain, over).filter((r) => r.publishable && r.zone === domain && (!kinds || kinds.includes(r.kind)));
}

function rr(name: string, type: string, rdata: string): string {
	return `${name}. 300 IN ${type} ${rdata}\n`;
}

function txt(name: string, ...strings: string[]): string {
	return rr(name, 'TXT', strings.map(quoteTxt).join(' '));
}

/** Cuts a string at the given offsets. */
function cut(s: string, ...at: number[]): string[] {
	const points = [0, ...at, s.length];
	return points.slice(1).map((p, i) => s.slice(points[i], p));
}

function check(report: CheckReport, kind: string, name?: string): RecordCheck {
	const c = report.checks.find((x) => x.record.kind === kind && (name === undefined || x.record.name === name));
	if (!c) throw new Error(`no ${kind} check in the report`);
	return c;
}

function states(c: RecordCheck): string[] {
	return c.results.map((r) => `${r.server.split(' ')[0]} ${r.state}`);
}

// ---------------------------------------------------------------------------------------
// The zones

const OK_ANSWERS = {
	ipv6: '2001:db8::10',
	extra_domains: ['extra.test'],
	mta_sts: {mode: 'enforce'},
	tlsrpt: {rua: 'tls@ok.test'},
	dmarc: {policy: 'reject', rua: 'postmaster@ok.test', ruf: 'alice@ok.test'},
	aliases: {tls: 'alice'},
};
const okRecords = records('ok.test', OK_ANSWERS);
const dkimValue = dkimTxtValue(key);
const ptr4 = okRecords.find((r) => r.type === 'PTR' && r.name.endsWith('in-addr.arpa'))!;
const ptr6 = okRecords.find((r) => r.type === 'PTR' && r.name.endsWith('ip6.arpa'))!;
const MX = (d: string): string => rr(d, 'MX', `10 mail.${d}.`);

function zonesFor(server: 1 | 2): Record<string, string> {
	return {
		// formatZone's output appended to SOA and NS, unchanged.
		'ok.test': zoneText('ok.test', {minimum: 60}) + formatZone(okRecords, 'ok.test'),
		'extra.test': zoneText('extra.test') + formatZone(okRecords, 'extra.test'),
		'2.0.192.in-addr.arpa': zoneText('2.0.192.in-addr.arpa') + rr(ptr4.name, 'PTR', ptr4.value),
		'8.b.d.0.1.0.0.2.ip6.arpa': zoneText('8.b.d.0.1.0.0.2.ip6.arpa') + rr(ptr6.name, 'PTR', ptr6.value),
		'missing.test': zoneText('missing.test', {ttl: 40, minimum: 600}) + MX('missing.test'),
		'split.test':
			zoneText('split.test') +
			txt('s1._domainkey.split.test', ...cut(dkimValue, 7, 100, 300)) +
			rr('s2._domainkey.split.test', 'TXT', quoteTxt(dkimValue.slice(0, 200))) +
			rr('s2._domainkey.split.test', 'TXT', quoteTxt(dkimValue.slice(200))) +
			txt('s3._domainkey.split.test', dkimValue.slice(0, 200), dkimValue.slice(201)),
		'spf.test': zoneText('spf.test') + txt('spf.test', 'v=spf1 mx -all') + txt('spf.test', 'v=spf1 a -all') + txt('spf.test', 'google-site-verification=abc'),
		'dkim.test': zoneText('dkim.test') + txt('mail._domainkey.dkim.test', ...cut(dkimTxtValue(otherKey), 255)),
		'cname.test':
			zoneText('cname.test') +
			rr('_dmarc.cname.test', 'CNAME', 'policy.cname.test.') +
			txt('policy.cname.test', 'v=DMARC1; p=reject; sp=reject; pct=100; aspf=s; adkim=s; fo=1; rua=mailto:postmaster@cname.test'),
		'serial.test': server === 1 ? zoneText('serial.test', {serial: 1}) + MX('serial.test') : zoneText('serial.test', {serial: 2}) + MX('serial.test') + txt('serial.test', 'v=spf1 mx -all'),
		'dead.test': zoneText('dead.test', {ns: {ns1: NS1, ns8: SILENT, ns9: NOTHING}}) + MX('dead.test'),
		'lame.test': zoneText('lame.test', {ns: {ns1: NS1, ns3: NS3, ns4: NS4}}) + MX('lame.test'),
		'wait.test': zoneText('wait.test', {serial: 1}) + MX('wait.test'),
		'big.test': zoneText('big.test') + txt('big.test', ...Array.from({length: 5}, (_, i) => String(i).repeat(200))),
	};
}

const parentZone = zoneText('test', {ns: {ns3: NS3}}) + rr('lame.test', 'NS', 'ns1.lame.test.') + rr('ns1.lame.test', 'A', NS1);

const unavailable = nsdUnavailable();
const servers: Nsd[] = [];
let silent: dgram.Socket | undefined;

test.before(async () => {
	if (unavailable) return;
	silent = dgram.createSocket('udp4');
	await new Promise<void>((resolve, reject) => {
		silent!.once('error', reject);
		silent!.bind(53, SILENT, resolve);
	});
	const started = await Promise.allSettled([
		startNsd(NS1, zonesFor(1)),
		startNsd(NS2, zonesFor(2)),
		startNsd(NS3, {test: parentZone}),
		startNsd(NS4, {'unrelated.test': zoneText('unrelated.test', {ns: {ns4: NS4}})}),
	]);
	for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
	const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
	if (failed) throw failed.reason;
});

test.after.always(async () => {
	await Promise.all(servers.map((s) => s.stop()));
	silent?.close();
});

/** A test that needs the NSD servers; where NSD cannot run, a skipped test whose title says why. */
function live(title: string, fn: (t: import('ava').ExecutionContext) => Promise<void>): void {
	if (unavailable) test.skip(`${title} (skipped: ${unavailable})`, fn);
	else test(title, fn);
}

// ---------------------------------------------------------------------------------------
// Pure: parsing and semantic comparison

test('parseServer: IP, IP:PORT, [v6]:PORT, bare v6; formatServer shows the port only when not 53', (t) => {
	t.deepEqual(parseServer('192.0.2.53'), {host: '192.0.2.53', port: 53});
	t.deepEqual(parseServer('192.0.2.53:5353'), {host: '192.0.2.53', port: 5353});
	t.deepEqual(parseServer('[2001:db8::53]:5353'), {host: '2001:db8::53', port: 5353});
	t.deepEqual(parseServer('[2001:db8::53]'), {host: '2001:db8::53', port: 53});
	t.deepEqual(parseServer('2001:db8::53'), {host: '2001:db8::53', port: 53});
	t.throws(() => parseServer('ns1.example.test'), {message: /not an IP address/});
	t.throws(() => parseServer('192.0.2.53:70000'), {message: /out of range/});
	t.is(formatServer({host: '2001:db8::53', port: 5353}), '[2001:db8::53]:5353');
	t.is(formatServer({host: '192.0.2.53', port: 53}), '192.0.2.53');
});

test('SPF: terms compared as a set, default qualifier, one record, at most 10 lookups', (t) => {
	t.is(compareSpf('v=spf1 mx -all', ['v=spf1 +MX -all']).state, 'ok');
	t.is(compareSpf('v=spf1 mx -all', ['v=spf1 -all mx']).state, 'ok');
	t.like(compareSpf('v=spf1 mx -all', ['v=spf1 mx ~all']), {state: 'wrong'});
	t.regex(compareSpf('v=spf1 mx -all', ['v=spf1 mx ~all']).detail!, /lacks -all; has ~all too/);
	t.regex(compareSpf('v=spf1 mx -all', ['v=spf1 mx -all', 'v=spf1 a -all']).detail!, /^two SPF records/);
	t.like(compareSpf('v=spf1 mx -all', ['some-verification=1']), {state: 'missing'});
	t.like(compareSpf('v=spf1 mx -all', []), {state: 'missing'});
	t.is(compareSpf('v=spf1 mx -all', ['v=spf10 mx -all']).state, 'missing');
	const many = `v=spf1 mx ${Array.from({length: 10}, (_, i) => `include:s${i}.test`).join(' ')} -all`;
	t.is(spfLookupCount(many), 11);
	t.is(spfLookupCount('v=spf1 ip4:192.0.2.0/24 a:x.test mx/24 redirect=_spf.test -all'), 3);
	t.regex(compareSpf(many, [many]).detail!, /needs 11 DNS lookups \(SPF allows 10\)/);
});

test('DKIM: key bytes compared (whitespace ignored), then k, t, h', (t) => {
	const p = key.toString('base64');
	t.is(compareDkim(dkimValue, [dkimValue]).state, 'ok');
	t.is(compareDkim(dkimValue, [`v=DKIM1; k=rsa; t=s; h=sha256; p=${p.slice(0, 100)} ${p.slice(100)}`]).state, 'ok');
	t.is(compareDkim(dkimValue, [`v=DKIM1;h=sha256;t=s;p=${p}`]).state, 'ok', 'k defaults to rsa; tag order does not matter');
	t.regex(compareDkim(dkimValue, [dkimTxtValue(otherKey)]).detail!, /^DKIM record for another key/);
	t.regex(compareDkim(dkimValue, ['v=DKIM1; k=rsa; p=']).detail!, /revoked/);
	t.regex(compareDkim(dkimValue, [`v=DKIM1; k=rsa; h=sha256; p=${p}`]).detail!, /right key, but no t= \(expected t=s\)/);
	t.regex(compareDkim(dkimValue, [`v=DKIM1; k=rsa; t=s; h=sha256; p=${p.slice(0, 200)}`]).detail!, /not a valid rsa public key/);
	t.is(compareDkim('v=DKIM1; k=rsa; t=s; h=sha256; p=<placeholder>', [dkimValue], true).state, 'ok', 'a pending record: any key will do');
});

test('DMARC: tags with their defaults, report addresses as sets', (t) => {
	const rules = {label: 'DMARC', version: 'DMARC1', defaults: {sp: (m: Map<string, string>) => m.get('p'), pct: '100', aspf: 'r', adkim: 'r', fo: '0'}, lists: ['rua', 'ruf'], flags: ['fo']};
	const want = 'v=DMARC1; p=reject; sp=reject; pct=100; aspf=s; adkim=s; fo=1; rua=mailto:a@x.test,mailto:b@x.test';
	t.is(compareTagged(want, ['v=DMARC1; p=REJECT; aspf=s; adkim=s; fo=1; rua=mailto:b@x.test, mailto:A@x.test'], rules).state, 'ok');
	t.regex(compareTagged(want, ['v=DMARC1; p=none; aspf=s; adkim=s; fo=1; rua=mailto:a@x.test,mailto:b@x.test'], rules).detail!, /p=none \(expected p=reject\), sp=none \(expected sp=reject\)/);
	t.regex(compareTagged(want, ['v=DMARC1; p=reject; sp=reject; fo=1; rua=mailto:a@x.test,mailto:b@x.test'], rules).detail!, /aspf=r \(expected aspf=s\)/);
	t.regex(compareTagged(want, [want, want.replace('fo=1', 'fo=0')], rules).detail!, /^two DMARC records/);
	t.is(parseTags('v=DMARC1; p'), undefined);
	t.is(normAddress('2001:DB8:0:0::10'), normAddress('2001:db8::10'));
});

// ---------------------------------------------------------------------------------------
// Against NSD

live('every record correct (zone fragments from formatZone loaded as they are): all ok on both servers', async (t) => {
	const report = await checkRecords(okRecords, {resolvers: RESOLVERS});
	for (const c of report.checks) t.is(c.state, 'ok', `${c.record.kind} ${c.record.name}: ${JSON.stringify(c.results)}`);
	t.true(report.complete);
	t.deepEqual(report.problems, []);
	t.true(report.checks.length === okRecords.length);
	t.deepEqual(states(check(report, 'dkim', 'mail._domainkey.ok.test')), ['ns1.ok.test ok', 'ns2.ok.test ok']);
	t.deepEqual(
		check(report, 'dkim', 'mail._domainkey.ok.test').results.map((r) => r.server),
		['ns1.ok.test (127.53.0.1)', 'ns2.ok.test (127.53.0.2)'],
	);
	t.deepEqual(states(check(report, 'mx', 'extra.test')), ['ns1.extra.test ok', 'ns2.extra.test ok']);
	t.true(report.servers.includes('ns1.ok.test (127.53.0.1)') && report.servers.includes('ns2.extra.test (127.53.0.2)'));
	t.is(check(report, 'mx', 'ok.test').results[0]!.ttl, 3600);
	// PTRs are someone else's zone: looked up through the resolver.
	t.deepEqual(
		report.checks.filter((c) => c.record.type === 'PTR').map((c) => c.results.map((r) => `${r.server} ${r.state}`).join()),
		['resolver 127.53.0.1 ok', 'resolver 127.53.0.1 ok'],
	);
	t.is(report.negativeTtl, 60, 'min(SOA TTL 300, minimum 60)');
	t.true(report.durationMs >= 0 && report.durationMs < 3000);
});

live('missing records: NXDOMAIN or NODATA on every server; negative TTL is min(SOA TTL, minimum)', async (t) => {
	const report = await checkRecords(own('missing.test'), {resolvers: RESOLVERS});
	t.false(report.complete);
	t.is(check(report, 'mx').state, 'ok');
	for (const kind of ['spf', 'dkim', 'dmarc', 'a']) t.is(check(report, kind).state, 'missing', kind);
	t.regex(check(report, 'dmarc').results[0]!.detail!, /NXDOMAIN/);
	t.regex(check(report, 'spf').results[0]!.detail!, /no TXT record \(NODATA\)/);
	t.is(report.negativeTtl, 40, 'min(SOA TTL 40, minimum 600)');
});

live('TXT strings: split anywhere, joined right is ok; a value changed at the split or cut into two records is wrong', async (t) => {
	const expected = ['s1', 's2', 's3'].flatMap((s) => own('split.test', ['dkim'], {dkim: {selector: s}}));
	const report = await checkRecords(expected, {resolvers: RESOLVERS});
	t.is(check(report, 'dkim', 's1._domainkey.split.test').state, 'ok');
	const s2 = check(report, 'dkim', 's2._domainkey.split.test');
	t.is(s2.state, 'wrong');
	t.regex(s2.results[0]!.detail!, /not a valid rsa public key.*separate TXT records/);
	const s3 = check(report, 'dkim', 's3._domainkey.split.test');
	t.is(s3.state, 'wrong');
	t.true(s3.results.every((r) => r.state === 'wrong'));
	t.false(report.complete);
});

live('two SPF records at one name: wrong, both shown', async (t) => {
	const report = await checkRecords(own('spf.test', ['spf']), {resolvers: RESOLVERS});
	const spf = check(report, 'spf');
	t.is(spf.state, 'wrong');
	t.regex(spf.results[0]!.detail!, /^two SPF records: "v=spf1 (mx|a) -all" and "v=spf1 (mx|a) -all"/);
});

live('a DKIM record for another key: wrong, named', async (t) => {
	const report = await checkRecords(own('dkim.test', ['dkim']), {resolvers: RESOLVERS});
	t.is(check(report, 'dkim').state, 'wrong');
	t.regex(check(report, 'dkim').results[1]!.detail!, /^DKIM record for another key/);
});

live('a CNAME where the DMARC TXT belongs: wrong, the CNAME named', async (t) => {
	const report = await checkRecords(own('cname.test', ['dmarc']), {resolvers: RESOLVERS});
	const dmarc = check(report, 'dmarc');
	t.is(dmarc.state, 'wrong');
	t.regex(dmarc.results[0]!.detail!, /a CNAME \(to policy\.cname\.test\.\) is where the TXT record belongs/);
});

live('servers disagree (serial 1 without SPF, serial 2 with it): record not ok, "serials differ"', async (t) => {
	const report = await checkRecords(own('serial.test', ['mx', 'spf']), {resolvers: RESOLVERS});
	t.deepEqual(states(check(report, 'spf')), ['ns1.serial.test missing', 'ns2.serial.test ok']);
	t.is(check(report, 'spf').state, 'missing');
	t.is(check(report, 'mx').state, 'ok');
	t.false(report.complete);
	t.true(
		report.problems.some((p) => /^serials differ: ns1\.serial\.test \(127\.53\.0\.1\) has 1, ns2\.serial\.test \(127\.53\.0\.2\) has 2/.test(p)),
		report.problems.join('\n'),
	);
});

live('a silent server and a closed port: unreachable within the bounded timeout, the rest still checked', async (t) => {
	const started = Date.now();
	const report = await checkRecords(own('dead.test', ['mx']), {resolvers: RESOLVERS, timeoutMs: 400, retries: 2});
	const elapsed = Date.now() - started;
	const mx = check(report, 'mx');
	t.deepEqual(states(mx), ['ns1.dead.test ok', 'ns8.dead.test unreachable', 'ns9.dead.test unreachable']);
	t.regex(mx.results[1]!.detail!, /127\.53\.0\.8: no answer after 2 tries of 400 ms/);
	t.regex(mx.results[2]!.detail!, /127\.53\.0\.9: UDP: connection refused/);
	t.is(mx.state, 'unreachable');
	t.false(report.complete);
	t.true(report.problems.some((p) => p.startsWith('ns8.dead.test (127.53.0.8) does not answer')));
	t.true(elapsed >= 700, `waited for the retries (${elapsed} ms)`);
	t.true(elapsed < 2000, `bounded: 2 tries x 400 ms, in parallel (${elapsed} ms)`);
});

live('an abort stops a check in flight at once, even with a silent server', async (t) => {
	const controller = new AbortController();
	const started = Date.now();
	setTimeout(() => controller.abort(new Error('operator pressed Ctrl-C')), 100);
	await t.throwsAsync(checkRecords(own('dead.test', ['mx']), {resolvers: RESOLVERS, timeoutMs: 5000, retries: 3, signal: controller.signal}), {message: 'operator pressed Ctrl-C'});
	t.true(Date.now() - started < 1000, `stopped after ${Date.now() - started} ms, not after 3 x 5000 ms`);
});

live('lame servers: a referral (AA=0) and REFUSED are unreachable, named in the problems', async (t) => {
	const report = await checkRecords(own('lame.test', ['mx']), {resolvers: RESOLVERS});
	const mx = check(report, 'mx');
	t.deepEqual(states(mx), ['ns1.lame.test ok', 'ns3.lame.test unreachable', 'ns4.lame.test unreachable']);
	t.regex(mx.results[1]!.detail!, /lame delegation: not authoritative for lame\.test \(AA=0\)/);
	t.regex(mx.results[2]!.detail!, /REFUSED/);
	t.true(report.problems.includes('ns3.lame.test (127.53.0.3) is lame: not authoritative for lame.test (AA=0)'));
	t.true(report.problems.some((p) => p.startsWith('ns4.lame.test (127.53.0.4) is lame: it answers REFUSED')));
	t.false(report.complete);
});

live('the resolvers: the next one is asked when one fails; a zone nobody serves is a problem, not an exception', async (t) => {
	const report = await checkRecords(own('missing.test', ['mx']), {resolvers: [NOTHING, NS1]});
	t.true(report.complete);
	const none = await checkRecords(own('nowhere.test', ['mx']), {resolvers: [NS1], timeoutMs: 300});
	t.false(none.complete);
	t.is(check(none, 'mx').state, 'unreachable');
	t.regex(none.problems[0]!, /cannot look up nowhere\.test SOA: 127\.53\.0\.1: answered REFUSED/);
	await t.throwsAsync(checkRecords([], {resolvers: []}), {message: /no DNS resolver given/});
});

live('client: a truncated UDP answer is asked again over TCP; EDNS avoids the truncation', async (t) => {
	const plain = await query(parseServer(NS1), 'big.test', 'TXT', {rd: false, udpPayloadSize: 0});
	t.is(plain.transport, 'tcp');
	t.true(plain.aa);
	t.is(txtJoined(plain.answers.find((a) => a.type === 'TXT')!), Array.from({length: 5}, (_, i) => String(i).repeat(200)).join(''));
	const edns = await query(parseServer(NS1), 'big.test', 'TXT', {rd: false});
	t.is(edns.transport, 'udp');
	const started = Date.now();
	const error = await t.throwsAsync(query(parseServer(SILENT), 'big.test', 'TXT', {rd: false, timeoutMs: 150, tries: 3}), {instanceOf: QueryError});
	t.is(error?.code, 'timeout');
	t.regex(error!.message, /^127\.53\.0\.8: no answer after 3 tries of 150 ms$/);
	t.true(Date.now() - started >= 440);
});

live('waitForRecords: a record published while it polls is seen on the next round', async (t) => {
	const expected = own('wait.test', ['mx', 'spf']);
	const rounds: {complete: boolean; next: number; spf: string}[] = [];
	let publishedAt = 0;
	let publishing: Promise<void> | undefined;
	const report = await waitForRecords(expected, {
		resolvers: RESOLVERS,
		intervalMs: 300,
		onReport(r, next) {
			rounds.push({complete: r.complete, next, spf: check(r, 'spf').state});
			if (!publishing) {
				publishing = Promise.all(servers.slice(0, 2).map((s) => s.setZones({'wait.test': zoneText('wait.test', {serial: 2}) + MX('wait.test') + txt('wait.test', 'v=spf1 mx -all')}))).then(() => {
					publishedAt = Date.now();
				});
			}
		},
	});
	await publishing;
	const doneAt = Date.now();
	t.true(report.complete);
	t.deepEqual(rounds[0], {complete: false, next: 300, spf: 'missing'});
	t.deepEqual(rounds.at(-1), {complete: true, next: 0, spf: 'ok'});
	t.true(rounds.length >= 2);
	t.true(publishedAt > 0 && doneAt - publishedAt < 1500, `seen ${doneAt - publishedAt} ms after publishing`);
});

live('waitForRecords: aborting stops it promptly with the last report', async (t) => {
	const controller = new AbortController();
	let abortedAt = 0;
	let reports = 0;
	const report = await waitForRecords(own('missing.test', ['spf']), {
		resolvers: RESOLVERS,
		intervalMs: 60_000,
		signal: controller.signal,
		onReport() {
			reports++;
			abortedAt = Date.now();
			controller.abort();
		},
	});
	t.true(Date.now() - abortedAt < 200, 'returns without waiting out the interval');
	t.is(reports, 1);
	t.false(report.complete);
	t.is(check(report, 'spf').state, 'missing');
	const early = new AbortController();
	early.abort(new Error('stopped by the operator'));
	await t.throwsAsync(waitForRecords(own('ok.test', ['mx']), {resolvers: RESOLVERS, intervalMs: 10, signal: early.signal}), {message: 'stopped by the operator'});
});

live('confirmViaResolvers: asks with RD=1 and compares the same way', async (t) => {
	const report = await confirmViaResolvers(
		okRecords.filter((r) => r.zone === 'ok.test'),
		[NS1],
	);
	t.true(report.complete);
	t.true(report.checks.every((c) => c.results.length === 1 && c.results[0]!.server === 'resolver 127.53.0.1'));
	const wrong = await confirmViaResolvers(own('dkim.test', ['dkim']), [NS1]);
	t.false(wrong.complete);
	t.regex(check(wrong, 'dkim').results[0]!.detail!, /another key/);
});
