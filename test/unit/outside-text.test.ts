// Issue 14, finding 10: text from outside (DNS answers, blocklist reasons, a banner) reaches
// the operator's terminal with its control characters made visible, never raw. A fake DNS
// server on loopback answers with ESC sequences; the formatted output must not carry them.
import test from 'ava';
import dgram from 'node:dgram';
import {createServer, type AddressInfo} from 'node:net';
import {render} from 'ink-testing-library';
import React from 'react';
import * as packet from 'dns-packet';
import {checkRecords, checkViaResolvers} from '../../source/dns/check.ts';
import type {ExpectedRecord} from '../../source/dns/types.ts';
import {checkDnsbl, checkPtr, probePort25, resolverFor} from '../../source/platform/reputation.ts';
import {plainReporter} from '../../source/report/plain.ts';
import {printable} from '../../source/text/safe.ts';
import {WaitPanel} from '../../source/ui/WaitPanel.tsx';

const CLEAR = '\u001b[2J\u001b[H';
const TITLE = '\u001b]0;pwned\u0007';
/** Any raw C0 (but the newlines between output lines), DEL or C1 control. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

test('printable: C0, DEL, C1 and text-reordering characters become visible escapes; other text is kept', (t) => {
	t.is(printable(`a${CLEAR}b`), 'a\\x1b[2J\\x1b[Hb');
	t.is(printable('\u009b31m red \u0007\u007f\r\n\t'), '\\x9b31m red \\x07\\x7f\\x0d\\x0a\\x09');
	t.is(printable('evil\u202etxt.exe \u2066x\u2069'), 'evil\\u{202e}txt.exe \\u{2066}x\\u{2069}');
	t.is(printable('v=DMARC1; p=reject; rua=mailto:é@example.test ✓'), 'v=DMARC1; p=reject; rua=mailto:é@example.test ✓');
});

type Rr = packet.Answer;
/** A DNS server on 127.0.0.1 (random port) answering from a table, authoritative for example.test. */
async function fakeDns(answer: (name: string, type: string) => Rr[]): Promise<{port: number; close: () => void}> {
	const sock = dgram.createSocket('udp4');
	sock.on('message', (msg, from) => {
		const q = packet.decode(msg);
		const question = q.questions?.[0];
		if (!question) return;
		const answers = answer(question.name.toLowerCase(), question.type);
		const reply = packet.encode({type: 'response', id: q.id, flags: packet.AUTHORITATIVE_ANSWER, questions: q.questions, answers});
		sock.send(reply, from.port, from.address);
	});
	await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
	return {port: (sock.address() as AddressInfo).port, close: () => sock.close()};
}

const SOA: Rr = {name: 'example.test', type: 'SOA', ttl: 300, data: {mname: 'ns1.example.test', rname: 'hostmaster.example.test', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 300}};

const DMARC: ExpectedRecord = {kind: 'dmarc', type: 'TXT', name: '_dmarc.example.test', host: '_dmarc', zone: 'example.test', ttl: 300, value: 'v=DMARC1; p=reject', publishable: true};

test('check, the plain reporter and the wait panel: a TXT record holding ESC[2J is shown as \\x1b[2J, never sent raw', async (t) => {
	const dns = await fakeDns((name, type) => {
		if (type === 'SOA' && name === 'example.test') return [SOA];
		if (type === 'NS' && name === 'example.test') return [{name, type: 'NS', ttl: 300, data: `ns1${CLEAR}.example.test`}];
		if (type === 'A' && name.startsWith('ns1')) return [{name, type: 'A', ttl: 300, data: '127.0.0.1'}];
		if (type === 'TXT' && name === '_dmarc.example.test') return [{name, type: 'TXT', ttl: 300, data: [`v=DMARC1; p=none; x=${CLEAR}\u0007`]}];
		return [];
	});
	try {
		const server = `127.0.0.1:${dns.port}`;
		for (const report of [
			await checkRecords([DMARC], {resolvers: [server], authPort: dns.port, timeoutMs: 1000, retries: 1}),
			await checkViaResolvers([DMARC], [server], {timeoutMs: 1000, retries: 1}),
		]) {
			const lines: string[] = [];
			plainReporter((l) => lines.push(l), 'sysv')({type: 'wait', id: 'check', report, nextPollIn: 0});
			const out = lines.join('\n');
			t.log(out);
			t.regex(out, /x=\\x1b\[2J\\x1b\[H\\x07/, 'the found value, its controls visible');
			t.notRegex(out, RAW, 'no raw control character in the plain output');
			const panel = render(React.createElement(WaitPanel, {report, nextIn: 0, width: 200, quitHint: false}));
			const frame = panel.lastFrame() ?? '';
			panel.unmount();
			t.true(frame.includes('\\x1b[2J'), frame);
			t.false(frame.includes(CLEAR) || frame.includes('\u0007'), 'the wait panel shows no raw sequence from the DNS');
		}
		t.false(JSON.stringify(await checkRecords([DMARC], {resolvers: [server], authPort: dns.port, timeoutMs: 1000, retries: 1})).includes('\\u001b'), 'the name server name is made printable too');
	} finally {
		dns.close();
	}
});

test('blocklist reason and reverse DNS names from the DNS are shown with their controls made visible', async (t) => {
	const dns = await fakeDns((name, type) => {
		if (type === 'A' && (name === '2.0.0.127.bl.test' || name === '10.2.0.192.bl.test')) return [{name, type: 'A', ttl: 300, data: '127.0.0.2'}];
		if (type === 'TXT' && name === '10.2.0.192.bl.test') return [{name, type: 'TXT', ttl: 300, data: [`listed${CLEAR}see${TITLE}`]}];
		if (type === 'PTR' && name === '10.2.0.192.in-addr.arpa') return [{name, type: 'PTR', ttl: 300, data: 'evil\u001b[2J.example.test'}];
		return [];
	});
	try {
		const r = resolverFor([`127.0.0.1:${dns.port}`], 1000, 1);
		const listed = await checkDnsbl(r, '192.0.2.10', 'bl.test');
		t.false(listed.ok);
		t.log(listed.detail);
		t.regex(listed.detail, /listed\\x1b\[2J\\x1b\[Hsee\\x1b\]0;pwned\\x07/);
		t.notRegex(listed.detail, RAW);
		const ptr = await checkPtr(r, '192.0.2.10', 'mail.example.test');
		t.log(ptr.detail);
		t.notRegex(ptr.detail, RAW);
	} finally {
		dns.close();
	}
});

test('the port-25 banner of the remote server is shown with its controls made visible', async (t) => {
	const server = createServer((s) => s.end(`220 mx.remote.test ESMTP${CLEAR}${TITLE}\u009b2J\r\n`));
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	try {
		const f = await probePort25('127.0.0.1', (server.address() as AddressInfo).port, 2000);
		t.log(f.detail);
		t.true(f.ok);
		t.is(f.detail, 'banner: 220 mx.remote.test ESMTP\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\x9b2J');
	} finally {
		server.close();
	}
});
