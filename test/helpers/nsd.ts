// A real authoritative DNS server for tests: NSD in the foreground (`nsd -d -c CONF`) as a
// child process on one loopback address, its zones in a temporary directory. Needs root
// (port 53). Stopped by its PID only.
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {query} from '../../source/dns/client.ts';

export const NSD = '/usr/sbin/nsd';

/** Why NSD cannot run here (not root, not installed), or undefined when it can. */
export function nsdUnavailable(): string | undefined {
	if (!existsSync(NSD)) return `${NSD} is not installed (Debian package nsd)`;
	if (process.getuid?.() !== 0) return 'NSD tests need root (port 53 on loopback)';
	return undefined;
}

export type ZoneOptions = {
	readonly serial?: number;
	/** Name servers: label (inside the zone) -> IPv4 address. */
	readonly ns?: Readonly<Record<string, string>>;
	/** Records appended after SOA and NS, as they are. */
	readonly body?: string;
	readonly ttl?: number;
	/** The SOA minimum (the negative-caching TTL). */
	readonly minimum?: number;
};

/** A complete zone file: $TTL, SOA, NS and their addresses, then `body`. */
export function zoneText(zone: string, o: ZoneOptions = {}): string {
	const ns = o.ns ?? {ns1: '127.53.0.1', ns2: '127.53.0.2'};
	const lines = [`$TTL ${o.ttl ?? 300}`, `${zone}. IN SOA ${Object.keys(ns)[0]}.${zone}. hostmaster.${zone}. ${o.serial ?? 1} 3600 600 86400 ${o.minimum ?? 60}`];
	for (const label of Object.keys(ns)) lines.push(`${zone}. IN NS ${label}.${zone}.`);
	for (const [label, ip] of Object.entries(ns)) lines.push(`${label}.${zone}. IN A ${ip}`);
	return `${lines.join('\n')}\n${o.body ?? ''}`;
}

function serialOf(text: string): number | undefined {
	const m = /\sSOA\s+\S+\s+\S+\s+(\d+)/.exec(text);
	return m ? Number(m[1]) : undefined;
}

export type Nsd = {
	readonly address: string;
	readonly pid: number;
	readonly dir: string;
	/** Rewrites zone files (of zones given at start) and reloads them (SIGHUP); resolves once each new serial is served. */
	setZones(zones: Readonly<Record<string, string>>): Promise<void>;
	stop(): Promise<void>;
};

function config(dir: string, address: string, port: number, zones: readonly string[]): string {
	const server = [
		'server:',
		`  ip-address: ${address}`,
		`  port: ${port}`,
		'  username: ""',
		'  chroot: ""',
		`  zonesdir: "${dir}"`,
		'  database: ""',
		`  pidfile: "${dir}/nsd.pid"`,
		`  xfrdfile: "${dir}/xfrd.state"`,
		`  zonelistfile: "${dir}/zone.list"`,
		`  xfrdir: "${dir}"`,
		`  logfile: "${dir}/nsd.log"`,
		'  server-count: 1',
		'  verbosity: 1',
		'  hide-version: yes',
		'  reuseport: no',
		'remote-control:',
		'  control-enable: no',
	];
	const zoneLines = zones.flatMap((z) => ['zone:', `  name: ${z}`, `  zonefile: "${z}.zone"`]);
	return `${[...server, ...zoneLines].join('\n')}\n`;
}

async function waitFor(what: string, ms: number, ready: () => Promise<boolean>, alive: () => string | undefined): Promise<void> {
	const deadline = Date.now() + ms;
	for (;;) {
		const dead = alive();
		if (dead) throw new Error(dead);
		if (await ready().catch(() => false)) return;
		if (Date.now() > deadline) throw new Error(`${what}: not ready within ${ms} ms`);
		await new Promise((r) => setTimeout(r, 25));
	}
}

/** Whether `address` serves `zone` with `serial` (authoritatively). */
async function serves(address: string, port: number, zone: string, serial: number | undefined): Promise<boolean> {
	const r = await query({host: address, port}, zone, 'SOA', {rd: false, timeoutMs: 200, tries: 1});
	const soa = r.answers.find((a) => a.type === 'SOA');
	return r.aa && soa !== undefined && soa.type === 'SOA' && (serial === undefined || soa.data.serial === serial);
}

/** Starts NSD on `address`:`port` serving `zones` (name -> zone file text). */
export async function startNsd(address: string, zones: Readonly<Record<string, string>>, port = 53): Promise<Nsd> {
	const dir = mkdtempSync(join(tmpdir(), 'mw-nsd-'));
	const names = Object.keys(zones);
	for (const [z, text] of Object.entries(zones)) writeFileSync(join(dir, `${z}.zone`), text);
	writeFileSync(join(dir, 'nsd.conf'), config(dir, address, port, names));
	const child: ChildProcess = spawn(NSD, ['-d', '-c', join(dir, 'nsd.conf')], {stdio: ['ignore', 'pipe', 'pipe']});
	let output = '';
	child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
	child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
	let exited: string | undefined;
	const exit = new Promise<void>((resolve) => {
		child.on('exit', (code, signal) => {
			exited = `nsd on ${address} exited (${signal ?? code}): ${output.trim()} ${existsSync(join(dir, 'nsd.log')) ? readFileSync(join(dir, 'nsd.log'), 'utf8').trim() : ''}`;
			resolve();
		});
		child.on('error', (e) => {
			exited = `cannot start ${NSD}: ${e.message}`;
			resolve();
		});
	});
	const pid = child.pid;
	const stop = async (): Promise<void> => {
		if (exited === undefined && pid !== undefined) {
			process.kill(pid, 'SIGTERM');
			const timer = setTimeout(() => exited === undefined && process.kill(pid, 'SIGKILL'), 5000);
			await exit;
			clearTimeout(timer);
		}
		rmSync(dir, {recursive: true, force: true});
	};
	const allServed = (texts: Readonly<Record<string, string>>): Promise<boolean> =>
		Promise.all(Object.entries(texts).map(([z, t]) => serves(address, port, z, serialOf(t)))).then((xs) => xs.every(Boolean));
	try {
		await waitFor(
			`nsd on ${address}`,
			10_000,
			() => allServed(zones),
			() => exited,
		);
	} catch (error) {
		await stop();
		throw error;
	}
	return {
		address,
		pid: pid!,
		dir,
		async setZones(next) {
			for (const [z, text] of Object.entries(next)) {
				if (!names.includes(z)) throw new Error(`nsd on ${address} was not started with zone ${z}`);
				writeFileSync(join(dir, `${z}.zone`), text);
			}
			process.kill(pid!, 'SIGHUP');
			await waitFor(
				`nsd reload on ${address}`,
				10_000,
				() => allServed(next),
				() => exited,
			);
		},
		stop,
	};
}
