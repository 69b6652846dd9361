// node --import tsx scripts/bench-dns.mjs
// One full DNS check round (every record on every authoritative server, in parallel)
// against the same questions asked one after another: with kdig (a process per question,
// as a shell script would) and with our own client awaited in turn. Real NSD servers on
// loopback (port 53; needs root), reached directly and through UDP relays that add a
// network delay (loopback answers in microseconds; real name servers are tens of ms
// away). Prints medians and ratios.
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import dgram from 'node:dgram';
import {generateKeyPairSync} from 'node:crypto';
import {validateAnswers} from '../source/answers.ts';
import {checkRecords} from '../source/dns/check.ts';
import {query} from '../source/dns/client.ts';
import {formatZone} from '../source/dns/format.ts';
import {buildRecords} from '../source/dns/records.ts';
import {nsdUnavailable, startNsd, zoneText} from '../test/helpers/nsd.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 10); // one way: a 20 ms round trip
const NS = {ns1: '127.53.1.1', ns2: '127.53.1.2'}; // NSD itself
const FAR = {ns1: '127.53.1.11', ns2: '127.53.1.12'}; // relays to NSD, DELAY_MS each way
const SILENT = '127.53.1.8';
const ZONE = 'bench.test';

const why = nsdUnavailable();
if (why) {
	console.log(`bench-dns skipped: ${why}`);
	process.exit(0);
}

const answers = validateAnswers(
	{
		domain: ZONE,
		hostname: `mail.${ZONE}`,
		ipv4: '192.0.2.10',
		ipv6: '2001:db8::10',
		tls: {cert: '/etc/ssl/certs/mail.pem', key: '/etc/ssl/private/mail.key'},
		users: [{name: 'alice', password_hash: '{CRYPT}$y$j9T$abc$def'}],
		aliases: {tls: 'alice'},
		dmarc: {policy: 'reject', rua: `postmaster@${ZONE}`, ruf: `alice@${ZONE}`},
		mta_sts: {mode: 'enforce'},
		tlsrpt: {rua: `tls@${ZONE}`},
	},
	{readPasswords: false},
);
const key = generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'der'});
const records = buildRecords(answers, {publicKeyDer: key}).filter((r) => r.publishable && r.zone === ZONE);
const zone = zoneText(ZONE, {ns: NS}) + formatZone(records, ZONE);
const FAR_ZONE = 'far.test';
const farRecords = buildRecords({...answers, domain: FAR_ZONE, hostname: `mail.${FAR_ZONE}`, extraDomains: []}, {publicKeyDer: key}).filter((r) => r.publishable && r.zone === FAR_ZONE);
const farZone = zoneText(FAR_ZONE, {ns: FAR}) + formatZone(farRecords, FAR_ZONE);
const slowZone =
	zoneText('slow.test', {ns: {...NS, ns8: SILENT}}) + formatZone(buildRecords({...answers, domain: 'slow.test', hostname: 'mail.slow.test', extraDomains: []}, {publicKeyDer: key}), 'slow.test');

// kdig runs as a child, awaited (the relays live in this process's event loop).
const run = promisify(execFile);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;

// The questions one round asks: the apex SOA, its NS, each NS's A and AAAA (via the
// resolver, RD=1); then per server the SOA and every record (RD=0).
function questionsFor(zoneName, ns, recs) {
	const resolver = Object.values(ns)[0];
	const setup = [
		[resolver, zoneName, 'SOA', true],
		[resolver, zoneName, 'NS', true],
		...Object.keys(ns).flatMap((n) => [
			[resolver, `${n}.${zoneName}`, 'A', true],
			[resolver, `${n}.${zoneName}`, 'AAAA', true],
		]),
	];
	return [...setup, ...Object.values(ns).flatMap((ip) => [[ip, zoneName, 'SOA', false], ...recs.map((r) => [ip, r.name, r.type, false])])];
}

/** A UDP relay front:53 -> back:53 that holds each packet delayMs in each direction. */
async function relay(front, back, delayMs) {
	const sock = dgram.createSocket('udp4');
	sock.on('message', (msg, from) => {
		const up = dgram.createSocket('udp4');
		up.on('message', (reply) =>
			setTimeout(() => {
				sock.send(reply, from.port, from.address);
				up.close();
			}, delayMs),
		);
		setTimeout(() => up.send(msg, 53, back), delayMs);
	});
	await new Promise((resolve, reject) => {
		sock.once('error', reject);
		sock.bind(53, front, resolve);
	});
	return sock;
}

async function measure(label, zoneName, ns, recs) {
	const questions = questionsFor(zoneName, ns, recs);
	const resolvers = [Object.values(ns)[0]];
	const first = await checkRecords(recs, {resolvers});
	if (!first.complete) throw new Error(`${zoneName} does not check ok: ${JSON.stringify(first.checks.filter((c) => c.state !== 'ok'))}`);
	const parallel = [];
	for (let i = 0; i < RUNS; i++) {
		const t = process.hrtime.bigint();
		await checkRecords(recs, {resolvers});
		parallel.push(ms(t));
	}
	const inProcess = [];
	for (let i = 0; i < RUNS; i++) {
		const t = process.hrtime.bigint();
		for (const [ip, name, type, rd] of questions) await query({host: ip, port: 53}, name, type, {rd});
		inProcess.push(ms(t));
	}
	const kdig = [];
	for (let i = 0; i < Math.min(RUNS, 5); i++) {
		const t = process.hrtime.bigint();
		for (const [ip, name, type, rd] of questions) await run('kdig', [`@${ip}`, '-p', '53', rd ? '+rec' : '+norec', name, type]);
		kdig.push(ms(t));
	}
	const p = median(parallel);
	const s = median(inProcess);
	const k = median(kdig);
	console.log(`${label}: ${recs.length} records x ${Object.keys(ns).length} servers = ${questions.length} questions with the SOA/NS/address look-ups; medians of ${RUNS} runs (kdig ${kdig.length})`);
	console.log(`  one check round, all in parallel (checkRecords)   ${p.toFixed(1).padStart(8)} ms   1.00x`);
	console.log(`  same questions one after another, our client     ${s.toFixed(1).padStart(8)} ms   ${(s / p).toFixed(2)}x the parallel round`);
	console.log(`  same questions one after another, kdig           ${k.toFixed(1).padStart(8)} ms   ${(k / p).toFixed(2)}x the parallel round`);
}

const servers = [];
const sockets = [];
const silent = dgram.createSocket('udp4');
sockets.push(silent);
try {
	await new Promise((resolve, reject) => {
		silent.once('error', reject);
		silent.bind(53, SILENT, resolve);
	});
	servers.push(...(await Promise.all(Object.values(NS).map((ip) => startNsd(ip, {[ZONE]: zone, [FAR_ZONE]: farZone, 'slow.test': slowZone})))));
	sockets.push(...(await Promise.all(Object.keys(FAR).map((n) => relay(FAR[n], NS[n], DELAY_MS)))));

	await measure('loopback, no added delay', ZONE, NS, records);
	await measure(`through relays adding ${DELAY_MS} ms each way (${2 * DELAY_MS} ms round trip)`, FAR_ZONE, FAR, farRecords);

	const slowRecords = buildRecords({...answers, domain: 'slow.test', hostname: 'mail.slow.test', extraDomains: []}, {publicKeyDer: key}).filter((r) => r.publishable);
	const t = process.hrtime.bigint();
	const slow = await checkRecords(slowRecords, {resolvers: [NS.ns1]});
	const slowMs = ms(t);
	console.log(
		`a round with one silent server (defaults: 1500 ms x 2 tries): ${slowMs.toFixed(0)} ms = ${(slowMs / 3000).toFixed(2)}x the 3000 ms bound; ${slow.checks.filter((c) => c.state === 'unreachable').length}/${slow.checks.length} records unreachable on it, the others answered`,
	);
} finally {
	await Promise.all(servers.map((s) => s.stop()));
	for (const s of sockets) s.close();
}
