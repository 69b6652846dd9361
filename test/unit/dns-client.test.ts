// The DNS client against a tiny scripted UDP server on 127.0.0.1 (a random port): packets that
// do not answer the question asked (wrong id, other question, no question, from elsewhere) are
// ignored, and the client keeps waiting for the real answer until its deadline.
import dgram from 'node:dgram';
import type {AddressInfo} from 'node:net';
import test from 'ava';
import dnsPacket from 'dns-packet';
import type {DecodedPacket, Packet} from 'dns-packet';
import {query, QueryError, type Server} from '../../source/dns/client.ts';

const NAME = 'mail.example.test';

type Reply = (packet: Packet | Buffer, delayMs?: number) => void;
type Script = (q: DecodedPacket, reply: Reply, client: {address: string; port: number}) => void;

/** A UDP server that hands every question to `script`; closed after the test. */
async function server(t: import('ava').ExecutionContext, script: Script): Promise<Server> {
	const socket = dgram.createSocket('udp4');
	t.teardown(() => socket.close());
	socket.on('message', (msg, rinfo) => {
		const reply: Reply = (packet, delayMs = 0) => {
			setTimeout(() => socket.send(Buffer.isBuffer(packet) ? packet : dnsPacket.encode(packet), rinfo.port, rinfo.address), delayMs);
		};
		script(dnsPacket.decode(msg), reply, rinfo);
	});
	await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
	return {host: '127.0.0.1', port: (socket.address() as AddressInfo).port};
}

/** The real answer to `q`, with one A record of `address`. */
function answer(q: DecodedPacket, address: string, over: Partial<Packet> = {}): Packet {
	return {
		type: 'response',
		id: q.id,
		flags: dnsPacket.AUTHORITATIVE_ANSWER,
		questions: q.questions,
		answers: [{type: 'A', name: NAME, ttl: 300, data: address}],
		...over,
	};
}

const fast = {rd: false, tries: 1, timeoutMs: 600} as const;

test('a packet with a wrong id is ignored; the real answer that follows is returned', async (t) => {
	const s = await server(t, (q, reply) => {
		reply(answer(q, '192.0.2.66', {id: ((q.id ?? 0) + 1) % 65_536}));
		reply(answer(q, '192.0.2.10'), 50);
	});
	const r = await query(s, NAME, 'A', fast);
	t.deepEqual(
		r.answers.map((a) => ('data' in a ? a.data : undefined)),
		['192.0.2.10'],
	);
	t.true(r.aa);
});

test('an answer for another question (same id) is ignored; the real answer that follows is returned', async (t) => {
	const s = await server(t, (q, reply) => {
		reply(answer(q, '192.0.2.66', {questions: [{type: 'A', name: 'other.example.test', class: 'IN'}]}));
		reply(answer(q, '192.0.2.66', {questions: [{type: 'AAAA', name: NAME, class: 'IN'}]}), 20);
		reply(answer(q, '192.0.2.10'), 50);
	});
	const r = await query(s, NAME, 'A', fast);
	t.deepEqual(
		r.answers.map((a) => ('data' in a ? a.data : undefined)),
		['192.0.2.10'],
	);
});

test('a reply without a question section is not an answer: the query times out', async (t) => {
	const s = await server(t, (q, reply) => reply(answer(q, '192.0.2.66', {questions: []})));
	const error = await t.throwsAsync(query(s, NAME, 'A', fast), {instanceOf: QueryError});
	t.is(error?.code, 'timeout');
});

test('garbage and a query (QR not set) with the right id are ignored; the real answer is returned', async (t) => {
	const s = await server(t, (q, reply) => {
		reply(Buffer.from([(q.id ?? 0) >> 8, (q.id ?? 0) & 0xff, 0x84, 0x00, 0xff]));
		reply({type: 'query', id: q.id, questions: q.questions});
		reply(answer(q, '192.0.2.10'), 50);
	});
	const r = await query(s, NAME, 'A', fast);
	t.is(r.answers.length, 1);
});

test('a forged answer from another port of the server address is ignored', async (t) => {
	const forger = dgram.createSocket('udp4');
	t.teardown(() => forger.close());
	await new Promise<void>((resolve) => forger.bind(0, '127.0.0.1', resolve));
	const s = await server(t, (q, reply, client) => {
		forger.send(dnsPacket.encode(answer(q, '192.0.2.66')), client.port, client.address);
		reply(answer(q, '192.0.2.10'), 50);
	});
	const r = await query(s, NAME, 'A', fast);
	t.deepEqual(
		r.answers.map((a) => ('data' in a ? a.data : undefined)),
		['192.0.2.10'],
	);
});

test('only stray packets until the deadline: a timeout, not an error about the stray', async (t) => {
	let asked = 0;
	const s = await server(t, (q, reply) => {
		asked++;
		reply(answer(q, '192.0.2.66', {id: ((q.id ?? 0) + 7) % 65_536}));
	});
	const error = await t.throwsAsync(query(s, NAME, 'A', {rd: false, tries: 2, timeoutMs: 300}), {instanceOf: QueryError});
	t.is(error?.code, 'timeout');
	t.is(asked, 2, 'asked again after the first deadline');
});
