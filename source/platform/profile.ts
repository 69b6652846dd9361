// The platform profile: read once from the host (or chosen with --target), then
// only read by steps. The Dovecot dialect is data here, not ifs across steps.
import {readFile, access} from 'node:fs/promises';
import {join} from 'node:path';
import type {Exec} from '../engine/exec.ts';
import {TARGETS} from './targets.ts';

export type DovecotDialect = '2.3' | '2.4';
export type InitSystem = 'systemd' | 'sysv';

export type Profile = {
	readonly id: string; // debian
	readonly version: string; // "12"
	readonly codename: string; // bookworm
	readonly supported: boolean;
	readonly dovecot: DovecotDialect;
	/** Installed Dovecot version, when installed. */
	readonly dovecotVersion?: string;
	readonly init: InitSystem;
	readonly node: string;
	/** Where the profile came from: the host, or --target. */
	readonly source: 'host' | 'target';
};

export {TARGETS};

export function parseOsRelease(text: string): Record<string, string> {
	const out: Record<string, string> = {};
	for (const line of text.split('\n')) {
		const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
		if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
	}
	return out;
}

export function dialectOf(version: string): DovecotDialect {
	const [major, minor] = version.split('.').map(Number);
	return major! > 2 || (major === 2 && minor! >= 4) ? '2.4' : '2.3';
}

export async function detectInit(root: string): Promise<InitSystem> {
	try {
		const comm = (await readFile('/proc/1/comm', 'utf8')).trim();
		if (comm === 'systemd') return 'systemd';
	} catch {}
	try {
		await access(join(root, 'run/systemd/system'));
		return 'systemd';
	} catch {}
	return 'sysv';
}

/** Reads the host: os-release, the installed Dovecot (which decides the dialect), init, node. */
export async function detectProfile(root: string, exec: Exec): Promise<Profile> {
	let os: Record<string, string> = {};
	try {
		os = parseOsRelease(await readFile(join(root, 'etc/os-release'), 'utf8'));
	} catch {}
	const id = os.ID ?? 'unknown';
	const version = os.VERSION_ID ?? '';
	const codename = os.VERSION_CODENAME ?? '';
	const known = id === 'debian' ? TARGETS[`debian${version}`] : undefined;
	let dovecotVersion: string | undefined;
	if (await exec.which('dovecot')) {
		const r = await exec.run({argv: ['dovecot', '--version']});
		const m = /^(\d+\.\d+[.\d]*)/.exec(r.stdout.trim());
		if (r.exitCode === 0 && m) dovecotVersion = m[1];
	}
	return {
		id,
		version,
		codename,
		supported: known !== undefined,
		dovecot: dovecotVersion ? dialectOf(dovecotVersion) : (known?.dovecot ?? '2.3'),
		dovecotVersion,
		init: await detectInit(root),
		node: process.versions.node,
		source: 'host',
	};
}

export function targetProfile(name: string, host: Profile): Profile | undefined {
	const t = TARGETS[name];
	if (!t) return undefined;
	return {...t, init: host.init, node: host.node, source: 'target'};
}

export function describe(p: Profile): string {
	return `${p.id} ${p.version}${p.codename ? ` (${p.codename})` : ''}, Dovecot ${p.dovecotVersion ?? `${p.dovecot} (to be installed)`}, ${p.init}, node ${p.node}`;
}
