// A small DNS client on dns-packet: one question to one server, UDP with bounded retries
// on timeout, TCP when the answer is truncated. It sets RD as asked and reports AA, so it
// can talk to authoritative servers directly (node:dns cannot: it always sets RD=1 and
// hides AA and TTLs).
import {randomInt} from 'node:crypto';
import dgram from 'node:dgram';
import {isIP, Socket} from 'node:net';
import dnsPacket from 'dns-packet';
import type {Answer, DecodedPacket, Packet, RecordType} from 'dns-packet';

export type Server = {readonly host: string; readonly port: number};

export const DEFAULT_TIMEOUT_MS = 1500;
export const DEFAULT_TRIES = 2;
/** EDNS0 buffer size recommended by DNS Flag Day 2020: no IP fragmentation. */
export const EDNS_UDP_SIZE = 1232;

/** Parses "IP", "IP:PORT", "[v6]" or "[v6]:PORT"; a bare IPv6 address takes the default port. */
export function parseServer(spec: string, defaultPort = 53): Server {
	const s = spec.trim();
	const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
	let host: string;
	let port: string | undefined;
	if (bracket) [, host = '', port] = bracket;
	else if (isIP(s) === 6) host = s;
	else {
		const m = /^([^:]+)(?::(\d+))?$/.exec(s);
		if (!m) throw new Error(`"${spec}" is not a DNS server address (IP, IP:PORT or [IPv6]:PORT)`);
		[, host = '', port] = m;
	}
	if (isIP(host) === 0) throw new Error(`"${spec}" is not a DNS server address: "${host}" is not an IP address`);
	const n = port === undefined ? defaultPort : Number(port);
	if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new Error(`"${spec}": port ${port} is out of range (1-65535)`);
	return {host, port: n};
}

/** "192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:5353": the port only when it is not 53. */
export function formatServer(server: Server): string {
	if (server.port === 53) return server.host;
	return isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

export type QueryOptions = {
	/** Recursion desired: true for a resolver, false for an authoritative server. */
	readonly rd: boolean;
	readonly timeoutMs?: number;
	/** UDP attempts (the first included) before giving up on a server that stays silent. */
	readonly tries?: number;
	readonly signal?: AbortSignal;
	/** EDNS0 UDP buffer size to advertise; 0 sends no OPT record (answers over 512 bytes then come truncated). */
	readonly udpPayloadSize?: number;
};

export type DnsResponse = {
	readonly server: Server;
	readonly rcode: string;
	/** Authoritative answer. */
	readonly aa: boolean;
	readonly ra: boolean;
	readonly answers: readonly Answer[];
	readonly authorities: readonly Answer[];
	readonly additionals: readonly Answer[];
	/** 'tcp' when the UDP answer was truncated and the question was asked again over TCP. */
	readonly transport: 'udp' | 'tcp';
	readonly elapsedMs: number;
};

export type QueryErrorCode = 'timeout' | 'network' | 'malformed';

/** A question that got no usable answer; the message names the server. */
export class QueryError extends Error {
	constructor(
		readonly code: QueryErrorCode,
		readonly server: Server,
		message: string,
		/** The system error code for network errors (ECONNREFUSED, ENETUNREACH, ...). */
		readonly errno?: string,
	) {
		super(`${formatServer(server)}: ${message}`);
		this.name = 'QueryError';
	}
}

function encodeQuery(id: number, name: string, type: RecordType, o: QueryOptions): Packet {
	const size = o.udpPayloadSize ?? EDNS_UDP_SIZE;
	return {
		type: 'query',
		id,
		flags: o.rd ? dnsPacket.RECURSION_DESIRED : 0,
		questions: [{type, name, class: 'IN'}],
		additionals: size > 0 ? [{type: 'OPT', name: '.', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: []}] : [],
	};
}

type Raw = DecodedPacket & {rcode?: string};

/**
 * Decodes a packet and checks that it answers our question: the same id, QR set, exactly our
 * question (name, type, class IN). Returns the reason when it does not: over UDP such a packet
 * is a stray (a late answer to an earlier try, or a spoofing attempt) and is ignored.
 */
function decodeAnswer(buf: Buffer, id: number, name: string, type: RecordType): Raw | {readonly stray: string} {
	let p: Raw;
	try {
		p = dnsPacket.decode(buf) as Raw;
	} catch (error) {
		return {stray: `malformed packet (${(error as Error).message})`};
	}
	if (p.id !== id) return {stray: 'wrong id'};
	if (!p.flag_qr) return {stray: 'not an answer (QR not set)'};
	const q = p.questions ?? [];
	if (q.length !== 1) return {stray: `${q.length} questions instead of 1`};
	const [only] = q as [NonNullable<Raw['questions']>[number]];
	if (normName(only.name) !== normName(name) || only.type !== type || (only.class ?? 'IN') !== 'IN') {
		return {stray: `answer for ${only.name} ${only.type}, not for ${name} ${type}`};
	}
	return p;
}

type Check = (b: Buffer) => Raw | {readonly stray: string};

function abortError(signal: AbortSignal): unknown {
	return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** Runs one exchange with a deadline and abort; `start` returns its cleanup. */
function exchange<T>(server: Server, timeoutMs: number, what: string, signal: AbortSignal | undefined, start: (done: (v: T) => void, fail: (e: unknown) => void) => () => void): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		if (signal?.aborted) {
			reject(abortError(signal));
			return;
		}
		let cleanup = (): void => {};
		let settled = false;
		const finish = (f: () => void): void => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			signal?.removeEventListener('abort', onAbort);
			cleanup();
			f();
		};
		const onAbort = (): void => finish(() => reject(abortError(signal!)));
		const timer = setTimeout(() => finish(() => reject(new QueryError('timeout', server, `no answer over ${what} within ${timeoutMs} ms`))), timeoutMs);
		signal?.addEventListener('abort', onAbort, {once: true});
		try {
			cleanup = start(
				(v) => finish(() => resolve(v)),
				(e) => finish(() => reject(e)),
			);
		} catch (error) {
			finish(() => reject(error));
		}
		if (settled) cleanup();
	});
}

function networkError(server: Server, error: NodeJS.ErrnoException, what: string): QueryError {
	const reason = error.code === 'ECONNREFUSED' ? 'connection refused (nothing listening)' : (error.code ?? error.message);
	return new QueryError('network', server, `${what}: ${reason}`, error.code);
}

function udpOnce(server: Server, packet: Buffer, check: Check, timeoutMs: number, signal?: AbortSignal): Promise<Raw> {
	return exchange<Raw>(server, timeoutMs, 'UDP', signal, (done, fail) => {
		const socket = dgram.createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
		socket.on('error', (e: NodeJS.ErrnoException) => fail(networkError(server, e, 'UDP')));
		// The socket is connected: the kernel delivers only datagrams from the server's address
		// and port. A datagram that does not answer our question is ignored, and the wait goes on
		// until the real answer or the deadline.
		socket.on('message', (msg, rinfo) => {
			if (rinfo.port !== server.port || !sameAddress(rinfo.address, server.host)) return;
			const r = check(msg);
			if (!('stray' in r)) done(r);
		});
		// A connected socket hears ICMP "port unreachable" as ECONNREFUSED: no waiting on a dead port.
		socket.connect(server.port, server.host, () => socket.send(packet));
		return () => socket.close();
	});
}

/** The same IP address, however written ("2001:DB8:0::1" is 2001:db8::1, "::ffff:127.0.0.1" is 127.0.0.1). */
function sameAddress(a: string, b: string): boolean {
	const norm = (x: string): string => {
		const v4 = x.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
		return isIP(v4) === 6 ? new URL(`http://[${v4}]/`).hostname : v4;
	};
	return norm(a) === norm(b);
}

function tcpOnce(server: Server, packet: Buffer, check: Check, timeoutMs: number, signal?: AbortSignal): Promise<Raw> {
	return exchange<Raw>(server, timeoutMs, 'TCP', signal, (done, fail) => {
		const socket = new Socket();
		let buf = Buffer.alloc(0);
		socket.on('error', (e: NodeJS.ErrnoException) => fail(networkError(server, e, 'TCP')));
		socket.on('data', (chunk: Buffer) => {
			buf = Buffer.concat([buf, chunk]);
			if (buf.length < 2) return;
			const len = buf.readUInt16BE(0);
			if (buf.length < len + 2) return;
			// A TCP connection is to the server alone: an answer that does not match is its fault.
			const r = check(buf.subarray(2, len + 2));
			if ('stray' in r) fail(new QueryError('malformed', server, `TCP answer does not match the question (${r.stray})`));
			else done(r);
		});
		socket.on('end', () => fail(new QueryError('network', server, 'TCP: connection closed before a complete answer')));
		socket.connect(server.port, server.host, () => {
			const len = Buffer.alloc(2);
			len.writeUInt16BE(packet.length);
			socket.write(Buffer.concat([len, packet]));
		});
		return () => socket.destroy();
	});
}

/** Worth asking again: silence, or a TCP connection dropped mid-answer (a server reloading). */
function retryable(error: unknown): boolean {
	if (!(error instanceof QueryError)) return false;
	return error.code === 'timeout' || (error.code === 'network' && (error.errno === 'ECONNRESET' || error.message.includes('connection closed')));
}

/**
 * Asks one server one question. UDP first, sent again (up to `tries` times) when no
 * answer comes within `timeoutMs` or a TCP connection drops; over TCP when the answer
 * is truncated (TC bit).
 * Rejects with a QueryError naming the server when it stays silent or unreachable;
 * any rcode (SERVFAIL, REFUSED, NXDOMAIN) is an answer, returned as it is.
 */
export async function query(server: Server, name: string, type: RecordType, options: QueryOptions): Promise<DnsResponse> {
	const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
	const tries = Math.max(1, options.tries ?? DEFAULT_TRIES);
	const started = performance.now();
	let raw: Raw | undefined;
	let transport: DnsResponse['transport'] = 'udp';
	for (let attempt = 1; raw === undefined; attempt++) {
		const id = randomInt(0, 65_536);
		const packet = dnsPacket.encode(encodeQuery(id, name, type, options));
		const check: Check = (b) => decodeAnswer(b, id, name, type);
		try {
			raw = await udpOnce(server, packet, check, timeoutMs, options.signal);
			if (raw.flag_tc) {
				transport = 'tcp';
				raw = await tcpOnce(server, packet, check, timeoutMs, options.signal);
			}
		} catch (error) {
			raw = undefined;
			if (retryable(error) && attempt < tries) continue;
			if (error instanceof QueryError && error.code === 'timeout') throw new QueryError('timeout', server, `no answer after ${tries} tries of ${timeoutMs} ms`);
			throw error;
		}
	}
	return {
		server,
		rcode: raw.rcode ?? 'NOERROR',
		aa: raw.flag_aa,
		ra: raw.flag_ra,
		answers: raw.answers ?? [],
		authorities: raw.authorities ?? [],
		additionals: (raw.additionals ?? []).filter((a) => a.type !== 'OPT'),
		transport,
		elapsedMs: performance.now() - started,
	};
}

/** The strings of a TXT answer, as received. */
export function txtStrings(answer: Answer): Buffer[] {
	if (answer.type !== 'TXT') return [];
	const d = answer.data;
	const list = Array.isArray(d) ? d : [d];
	return list.map((x) => (typeof x === 'string' ? Buffer.from(x) : x));
}

/** A TXT answer's strings joined into one value (RFC 7208 3.3, RFC 6376 3.6.2.2): bytes first, then UTF-8. */
export function txtJoined(answer: Answer): string {
	return Buffer.concat(txtStrings(answer)).toString('utf8');
}

/** Lower case, without the trailing dot: how names are compared. */
export function normName(name: string): string {
	return name.toLowerCase().replace(/\.$/, '');
}

/** The data of an A, AAAA, NS, CNAME or PTR answer as a string ('' for an OPT pseudo-record). */
export function dataString(answer: Answer): string {
	return 'data' in answer ? String(answer.data) : '';
}

export function ttlOf(answer: Answer): number | undefined {
	return 'ttl' in answer ? answer.ttl : undefined;
}
