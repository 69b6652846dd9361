// What the operator cannot fix from the server: PTR, blocklists, outbound port 25.
// Against a real NSD on loopback (the "resolver") and a local SMTP banner.
import test, {type ExecutionContext} from 'ava';
import {createServer} from 'node:net';
import {checkDnsbl, checkPtr, connectError, findingLabel, probePort25, resolverFor} from '../../source/platform/reputation.ts';
import {nsdUnavailable, startNsd, zoneText, type Nsd} from '../helpers/nsd.ts';

const ADDR = '127.53.2.1';
let nsd: Nsd | undefined;

const unavailable = nsdUnavailable();
/** A serial test that needs NSD; where NSD cannot run, a skipped test whose title says why. */
function withNsd(title: string, fn: (t: ExecutionContext) => Promise<void>): void {
	if (unavailable) test.skip(`${title} (skipped: ${unavailable})`, fn);
	else test.serial(title, fn);
}

test.before(async () => {
	if (unavailable) return;
	const ns = {ns1: ADDR};
	nsd = await startNsd(ADDR, {
		'example.test': zoneText('example.test', {ns, body: 'mail.example.test. IN A 192.0.2.10\nother.example.test. IN A 192.0.2.99\n'}),
		'2.0.192.in-addr.arpa': zoneText('2.0.192.in-addr.arpa', {ns: {ns1: ADDR}, body: '10.2.0.192.in-addr.arpa. IN PTR mail.example.test.\n11.2.0.192.in-addr.arpa. IN PTR other.example.test.\n'}),
		'bl.test': zoneText('bl.test', {ns, body: '2.0.0.127.bl.test. IN A 127.0.0.2\n10.2.0.192.bl.test. IN A 127.0.0.4\n10.2.0.192.bl.test. IN TXT "listed for spam, see bl.test"\n'}),
		'refusing.test': zoneText('refusing.test', {ns, body: '2.0.0.127.refusing.test. IN A 127.255.255.254\n'}),
	});
});

test.after.always(async () => {
	await nsd?.stop();
});

withNsd('PTR: ok when it names the host and the host resolves back; otherwise the fix is named', async (t) => {
	const r = resolverFor([ADDR], 800);
	t.like(await checkPtr(r, '192.0.2.10', 'mail.example.test'), {ok: true});
	const wrong = await checkPtr(r, '192.0.2.11', 'mail.example.test');
	t.false(wrong.ok);
	t.regex(wrong.detail, /points at other\.example\.test/);
	const none = await checkPtr(r, '192.0.2.12', 'mail.example.test');
	t.false(none.ok);
	t.regex(none.detail, /no PTR record/);
	t.regex(none.fix!, /ask the provider of 192\.0\.2\.12/);
});

withNsd('DNSBL: listed, not listed, and a list that refuses us is no verdict', async (t) => {
	const r = resolverFor([ADDR], 800);
	const listed = await checkDnsbl(r, '192.0.2.10', 'bl.test');
	t.false(listed.ok);
	t.regex(listed.detail, /LISTED \(127\.0\.0\.4\): listed for spam/);
	t.like(await checkDnsbl(r, '192.0.2.20', 'bl.test'), {ok: true, detail: 'not listed'});
	const refusing = await checkDnsbl(r, '192.0.2.10', 'refusing.test');
	t.true(refusing.ok);
	t.regex(refusing.detail, /refused/);
	t.regex((await checkDnsbl(r, '192.0.2.10', 'nothing.test')).detail, /not usable from here/);
});

test.serial('port 25: a banner is open, a silent port is reported as blocked with the fix', async (t) => {
	const banner = createServer((s) => s.end('220 sink.test ESMTP\r\n'));
	const silent = createServer(() => {});
	await new Promise<void>((res) => banner.listen(0, '127.0.0.1', res));
	await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
	try {
		const port = (s: typeof banner) => (s.address() as {port: number}).port;
		t.like(await probePort25('127.0.0.1', port(banner), 1000), {ok: true, detail: 'banner: 220 sink.test ESMTP'});
		const blocked = await probePort25('127.0.0.1', port(silent), 300);
		t.false(blocked.ok);
		t.regex(blocked.fix!, /blocks outbound port 25/);
	} finally {
		banner.close();
		silent.close();
	}
});

withNsd('issue 15.6: a blocklist that could not be asked is "unknown", never "ok"', async (t) => {
	const r = resolverFor([ADDR], 800);
	t.is(findingLabel(await checkDnsbl(r, '192.0.2.10', 'refusing.test')), 'unknown');
	t.is(findingLabel(await checkDnsbl(r, '192.0.2.10', 'nothing.test')), 'unknown');
	t.is(findingLabel(await checkDnsbl(r, '192.0.2.20', 'bl.test')), 'ok');
	t.is(findingLabel(await checkDnsbl(r, '192.0.2.10', 'bl.test')), 'PROBLEM');
});

test("issue 15.6: a port-25 probe host that cannot be looked up is told as a DNS failure, not as the provider's port 25 policy", (t) => {
	const e = Object.assign(new Error('getaddrinfo ENOTFOUND probe.example.test'), {code: 'ENOTFOUND'});
	const f = connectError('outbound SMTP to probe.example.test:25', 'probe.example.test', e);
	t.is(findingLabel(f), 'unknown');
	t.regex(f.detail, /probe\.example\.test could not be looked up \(ENOTFOUND\)/);
	t.regex(f.fix!, /resolv\.conf/);
	t.notRegex(`${f.detail} ${f.fix}`, /port 25 policy/);
});
