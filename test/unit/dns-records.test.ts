import {generateKeyPairSync} from 'node:crypto';
import test from 'ava';
import {validateAnswers, type Answers} from '../../source/answers.ts';
import {formatJson, formatTable, formatZone, quoteTxt} from '../../source/dns/format.ts';
import {buildRecords, DKIM_PENDING, dkimTxtValue, ipv6Hex, mtaStsId, mtaStsPolicy, reverseName, splitTxt} from '../../source/dns/records.ts';
import type {ExpectedRecord} from '../../source/dns/types.ts';

function answers(over: Record<string, unknown> = {}): Answers {
	return validateAnswers(
		{
			domain: 'example.test',
			hostname: 'mail.example.test',
			ipv4: '192.0.2.10',
			ipv6: '2001:db8::10',
			tls: {cert: '/etc/ssl/certs/mail.pem', key: '/etc/ssl/private/mail.key'},
			users: [{name: 'alice', password_hash: '{CRYPT}$y$j9T$abc$def'}],
			dmarc: {policy: 'reject', rua: 'postmaster@example.test', ruf: 'alice@example.test'},
			...over,
		},
		{},
	);
}

const rsa = generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'der'});
const bytes = (s: string): number => Buffer.byteLength(s);

function find(records: readonly ExpectedRecord[], kind: string, name: string): ExpectedRecord {
	const r = records.find((x) => x.kind === kind && x.name === name);
	if (!r) throw new Error(`no ${kind} record at ${name}`);
	return r;
}

test('splitTxt: at most 255 bytes per string, split exactly at the limit', (t) => {
	t.deepEqual(splitTxt(''), ['']);
	t.deepEqual(splitTxt('a'.repeat(255)), ['a'.repeat(255)]);
	t.deepEqual(splitTxt('a'.repeat(256)), ['a'.repeat(255), 'a']);
	t.deepEqual(
		splitTxt('a'.repeat(600)).map((s) => s.length),
		[255, 255, 90],
	);
});

test('splitTxt: counts bytes, never cuts a UTF-8 character', (t) => {
	const value = 'é'.repeat(200); // 400 bytes
	const parts = splitTxt(value);
	t.deepEqual(parts.map(bytes), [254, 146]);
	t.is(parts.join(''), value);
	const mixed = `${'a'.repeat(254)}€b`; // the euro sign (3 bytes) would straddle the limit
	t.deepEqual(splitTxt(mixed), ['a'.repeat(254), '€b']);
});

test('MX, A/AAAA and SPF for the domain and every extra domain', (t) => {
	const records = buildRecords(answers({extra_domains: ['other.test']}), {publicKeyDer: rsa});
	for (const d of ['example.test', 'other.test']) {
		const mx = find(records, 'mx', d);
		t.like(mx, {type: 'MX', host: '@', zone: d, value: '10 mail.example.test.', publishable: true});
		t.is(records.filter((r) => r.kind === 'spf' && r.name === d).length, 1, `one SPF record for ${d}`);
		t.is(find(records, 'spf', d).value, 'v=spf1 mx -all');
	}
	t.like(find(records, 'a', 'mail.example.test'), {type: 'A', host: 'mail', zone: 'example.test', value: '192.0.2.10'});
	t.like(find(records, 'aaaa', 'mail.example.test'), {type: 'AAAA', host: 'mail', zone: 'example.test', value: '2001:db8::10'});
	t.is(find(records, 'a', 'mail.example.test').note, undefined);
	t.true(records.every((r) => r.ttl > 0 && r.name === r.name.toLowerCase() && !r.name.endsWith('.')));
});

test('a host name outside the mail domains: publishable, in its own zone, with a note', (t) => {
	const records = buildRecords(answers({hostname: 'mx1.hosting.test'}), {publicKeyDer: rsa});
	const a = find(records, 'a', 'mx1.hosting.test');
	t.like(a, {zone: 'hosting.test', host: 'mx1', publishable: true});
	t.regex(a.note ?? '', /hosting\.test.*not in example\.test/);
	t.is(find(records, 'mx', 'example.test').value, '10 mx1.hosting.test.');
});

test('a host name inside an extra domain belongs to that zone', (t) => {
	const records = buildRecords(answers({hostname: 'mail.other.test', extra_domains: ['other.test']}), {publicKeyDer: rsa});
	t.like(find(records, 'a', 'mail.other.test'), {zone: 'other.test', host: 'mail', note: undefined});
});

test('DKIM: p= is base64 of the SPKI DER, split into <=255-byte strings that join back', (t) => {
	const records = buildRecords(answers({dkim: {selector: 'mw2026'}}), {publicKeyDer: rsa});
	const dkim = find(records, 'dkim', 'mw2026._domainkey.example.test');
	t.is(dkim.host, 'mw2026._domainkey');
	t.is(dkim.value, `v=DKIM1; k=rsa; t=s; h=sha256; p=${rsa.toString('base64')}`);
	t.is(dkim.value, dkimTxtValue(rsa));
	t.true(bytes(dkim.value) > 255);
	t.true((dkim.strings?.length ?? 0) >= 2);
	t.true(dkim.strings!.every((s) => bytes(s) <= 255));
	t.is(dkim.strings!.join(''), dkim.value);
	t.is(dkim.pending, undefined);
});

test('DKIM without a key yet: a placeholder marked pending', (t) => {
	const records = buildRecords(answers(), {});
	const dkim = find(records, 'dkim', 'mail._domainkey.example.test');
	t.is(dkim.pending, DKIM_PENDING);
	t.regex(dkim.value, /^v=DKIM1; k=rsa; t=s; h=sha256; p=<.*apply time>$/);
	t.true(records.filter((r) => r.kind !== 'dkim').every((r) => r.pending === undefined));
});

test('DKIM with an Ed25519 key: k=ed25519 and the raw 32-byte key (RFC 8463)', (t) => {
	const der = generateKeyPairSync('ed25519').publicKey.export({type: 'spki', format: 'der'});
	const value = dkimTxtValue(der);
	t.regex(value, /^v=DKIM1; k=ed25519; t=s; h=sha256; p=/);
	t.is(Buffer.from(value.split('p=')[1]!, 'base64').length, 32);
	t.throws(() => dkimTxtValue(Buffer.from('not a key')), {message: /SubjectPublicKeyInfo/});
});

test("DMARC: the guide's strict policy, with the report addresses when given", (t) => {
	const full = find(buildRecords(answers(), {publicKeyDer: rsa}), 'dmarc', '_dmarc.example.test');
	t.is(full.value, 'v=DMARC1; p=reject; sp=reject; pct=100; aspf=s; adkim=s; fo=1; rua=mailto:postmaster@example.test; ruf=mailto:alice@example.test');
	t.is(full.host, '_dmarc');
	const bare = find(buildRecords(answers({dmarc: {policy: 'quarantine'}}), {publicKeyDer: rsa}), 'dmarc', '_dmarc.example.test');
	t.is(bare.value, 'v=DMARC1; p=quarantine; sp=quarantine; pct=100; aspf=s; adkim=s; fo=1');
});

test('PTR for both addresses: not publishable, the provider is named in the note', (t) => {
	const records = buildRecords(answers(), {publicKeyDer: rsa});
	const v4 = find(records, 'ptr', '10.2.0.192.in-addr.arpa');
	t.like(v4, {type: 'PTR', value: 'mail.example.test.', publishable: false, zone: '10.2.0.192.in-addr.arpa'});
	t.is(v4.note, 'ask the provider of 192.0.2.10 to set the reverse DNS (PTR) of 192.0.2.10 to mail.example.test');
	const v6name = `${'0.1.0.0.'}${'0.0.0.0.'.repeat(5)}8.b.d.0.1.0.0.2.ip6.arpa`;
	t.like(find(records, 'ptr', v6name), {publishable: false, value: 'mail.example.test.'});
	t.regex(find(records, 'ptr', v6name).note!, /provider of 2001:db8::10 /);
	const v4only = buildRecords(answers({ipv6: undefined}), {publicKeyDer: rsa});
	t.deepEqual(
		v4only.filter((r) => r.kind === 'ptr' || r.kind === 'aaaa').map((r) => r.type),
		['PTR'],
	);
});

test('reverse names and IPv6 expansion', (t) => {
	t.is(reverseName('198.51.100.7'), '7.100.51.198.in-addr.arpa');
	t.is(ipv6Hex('2001:db8::1'), '20010db8000000000000000000000001');
	t.is(ipv6Hex('::'), '0'.repeat(32));
	t.is(ipv6Hex('::ffff:192.0.2.1'), '00000000000000000000ffffc0000201');
	t.is(reverseName('2001:db8::1').split('.').length, 34);
	t.throws(() => ipv6Hex('2001:db8::1::2'), {message: /not an IPv6 address/});
	t.throws(() => ipv6Hex('1:2:3:4:5:6:7:8::9'), {message: /not an IPv6 address/});
	t.throws(() => ipv6Hex('1:2:3'), {message: /not an IPv6 address/});
});

test('MTA-STS: policy with CRLF line ends, id derived from it, mta-sts host addresses', (t) => {
	const a = answers({mta_sts: {mode: 'enforce'}});
	const policy = mtaStsPolicy(a);
	t.is(policy, 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\nmax_age: 604800\r\n');
	t.false(/[^\r]\n/.test(policy));
	t.is(mtaStsPolicy(answers({mta_sts: {mode: 'testing'}})), 'version: STSv1\r\nmode: testing\r\nmx: mail.example.test\r\nmax_age: 86400\r\n');
	const records = buildRecords(a, {publicKeyDer: rsa});
	const txt = find(records, 'mta-sts', '_mta-sts.example.test');
	const id = /^v=STSv1; id=([A-Za-z0-9]{1,32})$/.exec(txt.value)?.[1];
	t.truthy(id);
	t.is(id, mtaStsId(policy));
	t.is(mtaStsId(policy), mtaStsId(mtaStsPolicy(answers({mta_sts: {mode: 'enforce'}}))), 'deterministic');
	t.not(mtaStsId(policy), mtaStsId(mtaStsPolicy(answers({mta_sts: {mode: 'testing'}}))), 'changes with the policy');
	const hosts = records.filter((r) => r.kind === 'mta-sts-host');
	t.deepEqual(
		hosts.map((r) => [r.name, r.type, r.value]),
		[
			['mta-sts.example.test', 'A', '192.0.2.10'],
			['mta-sts.example.test', 'AAAA', '2001:db8::10'],
		],
	);
	t.false(buildRecords(answers(), {publicKeyDer: rsa}).some((r) => r.kind === 'mta-sts' || r.kind === 'mta-sts-host'));
});

test('TLSRPT record when asked for', (t) => {
	const records = buildRecords(answers({tlsrpt: {rua: 'tls@reports.test'}}), {publicKeyDer: rsa});
	t.like(find(records, 'tlsrpt', '_smtp._tls.example.test'), {type: 'TXT', host: '_smtp._tls', value: 'v=TLSRPTv1; rua=mailto:tls@reports.test'});
	t.false(buildRecords(answers(), {publicKeyDer: rsa}).some((r) => r.kind === 'tlsrpt'));
});

test('formatZone: absolute names, quoted 255-byte strings, only publishable records of the zone', (t) => {
	const records = buildRecords(answers({extra_domains: ['other.test'], mta_sts: {mode: 'testing'}}), {publicKeyDer: rsa});
	const zone = formatZone(records, 'example.test');
	const lines = zone.split('\n');
	t.true(lines.includes('example.test.\t3600\tIN\tMX\t10 mail.example.test.'));
	t.true(lines.includes('mail.example.test.\t3600\tIN\tA\t192.0.2.10'));
	t.true(lines.includes('example.test.\t3600\tIN\tTXT\t"v=spf1 mx -all"'));
	t.false(zone.includes('other.test.\t'), 'records of another zone are left out');
	t.false(zone.includes('PTR'), 'PTRs are for the provider');
	// The DKIM record: one RR, its strings in parentheses, each quoted string <= 255 bytes.
	const dkim = /mail\._domainkey\.example\.test\.\t3600\tIN\tTXT\t\(([^)]*)\)/.exec(zone);
	t.truthy(dkim);
	const strings = [...dkim![1]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
	t.true(strings.length >= 2);
	t.true(strings.every((s) => bytes(s) <= 255));
	t.is(strings.join(''), dkimTxtValue(rsa));
	// Every line is a comment, an RR with an absolute owner, or a continuation of a TXT.
	for (const l of lines.filter(Boolean)) t.regex(l, /^(;|[a-z0-9._-]+\.\t\d+\tIN\t|\t {2}")/);
	t.true(zone.endsWith('\n'));
	const all = formatZone(records);
	t.true(all.includes('; zone other.test') && all.includes('other.test.\t3600\tIN\tMX\t10 mail.example.test.'));
});

test('formatZone: a pending DKIM record is commented out; quotes and backslashes are escaped', (t) => {
	const zone = formatZone(buildRecords(answers(), {}), 'example.test');
	const dkimLines = zone.split('\n').filter((l) => l.includes('_domainkey'));
	t.true(dkimLines.length > 0);
	t.true(dkimLines.every((l) => l.startsWith(';')));
	t.is(quoteTxt('say "hi" \\ ok'), '"say \\"hi\\" \\\\ ok"');
	t.is(quoteTxt('tab\there'), '"tab\\009here"');
});

test('formatTable: whole values per zone, FQDNs with dots, PTRs under "Ask your provider"', (t) => {
	const records = buildRecords(answers(), {publicKeyDer: rsa});
	const table = formatTable(records);
	const lines = table.split('\n');
	t.is(lines[0], 'Zone example.test');
	t.regex(lines[1]!, /^\s+TYPE\s+HOST\s+FQDN\s+TTL\s+VALUE$/);
	t.true(lines.some((l) => /^\s+MX\s+@\s+example\.test\.\s+3600\s+10 mail\.example\.test\.$/.test(l)));
	t.true(
		lines.some((l) => l.endsWith(dkimTxtValue(rsa))),
		'the DKIM value is shown whole, on one line',
	);
	const ask = lines.indexOf('Ask your provider');
	t.true(ask > 0);
	t.true(lines.slice(ask).some((l) => l.includes('10.2.0.192.in-addr.arpa.') && l.includes('mail.example.test.')));
	t.true(lines.slice(ask).some((l) => l.includes('ask the provider of 192.0.2.10')));
	t.false(lines.slice(0, ask).some((l) => l.includes('in-addr.arpa')));
	t.regex(formatTable(buildRecords(answers(), {})), /pending: generated at apply time/);
});

test('formatJson round-trips the records', (t) => {
	const records = buildRecords(answers({tlsrpt: {rua: 'tls@reports.test'}}), {publicKeyDer: rsa});
	t.deepEqual(JSON.parse(formatJson(records)), JSON.parse(JSON.stringify(records)));
	t.true(Array.isArray(JSON.parse(formatJson(records))));
});
