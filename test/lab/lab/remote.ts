// The remote host (mx.remote.test): its SMTP sink (sink.py) and what it stored.
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {NET, NET6} from './net.ts';
import {LAB_DIR, PYTHON, sleep} from './proc.ts';

export type SinkMessage = {readonly file: string; readonly peer: string; readonly helo: string; readonly mail_from: string; readonly rcpt_tos: string[]; readonly data: string};

/** The sink's argv on the remote host: it stores each message in `dir` as JSON. */
export function sinkArgv(dir: string): string[] {
	return [PYTHON, join(LAB_DIR, 'sink.py'), dir, NET.remote, NET6.remote];
}

/** argv that prints the sink's SMTP greeting (or fails while it is not listening yet). */
export const SINK_GREETING = [
	PYTHON,
	'-c',
	`import socket\nfor a in ('${NET6.remote}', '${NET.remote}'):\n    s = socket.create_connection((a, 25), 1); g = s.recv(100).decode(); s.close()\nprint(g)`,
];

/** Messages the sink has stored in `dir`, oldest first. */
export function sinkMessages(dir: string): SinkMessage[] {
	if (!existsSync(dir)) return [];
	return readdirSync(dir)
		.filter((f) => f.endsWith('.json') && !f.startsWith('.'))
		.sort()
		.map((f) => ({file: join(dir, f), ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Omit<SinkMessage, 'file'>)}));
}

/** Waits for a message in `dir` matching the predicate. */
export async function waitSink(dir: string, pred: (m: SinkMessage) => boolean, timeoutMs = 30_000): Promise<SinkMessage | undefined> {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const m = sinkMessages(dir).find(pred);
		if (m || Date.now() > end) return m;
		await sleep(250);
	}
}
