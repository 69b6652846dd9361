// What the Debian 13 lanes (test/lab/debian13.test.ts, test/lab/upgrade.test.ts) share:
// the lab with its mx on a fresh overlay of the cached Debian 13 root, the project
// checkout bound read-only at its own path, and the wizard under Debian 13's own node.
import {dirname} from 'node:path';
import {Lab, LAB_LOCK_WAIT_MS} from '../lab.ts';
import {DIST, REPO} from '../assertions.ts';
import {ensureTrixieRoot, readVersions, type TrixieVersions} from './root.ts';

/** Debian 13's own node (the nodejs package), inside the mx. */
export const TRIXIE_NODE = '/usr/bin/node';
/** Rspamd 3.12's compiled rules, kept between runs (not shared with Debian 12's Rspamd 3.4). */
export const TRIXIE_RSPAMD_CACHE = process.env.MAILWIZARD_LAB_RSPAMD_CACHE_TRIXIE || '/var/cache/mailwizard-test/lab-rspamd-trixie';
/** The Debian 13 lanes may wait for other lab runs (a few labs at a time on a machine: lab/lock.ts SLOTS). */
export const LOCK_WAIT_MS = LAB_LOCK_WAIT_MS;

export type TrixieRoot = {readonly dir: string; readonly versions?: TrixieVersions; readonly ms: number; readonly cold: boolean};

/** The cached Debian 13 root (built when missing), or why there is none. */
export async function trixieRoot(): Promise<TrixieRoot | {readonly error: string}> {
	const t0 = Date.now();
	let cold = false;
	try {
		const dir = await ensureTrixieRoot({log: (l) => (l.startsWith('cold build') ? (cold = true) : undefined)});
		return {dir, versions: readVersions(dir), ms: Date.now() - t0, cold};
	} catch (e) {
		return {error: e instanceof Error ? e.message : String(e)};
	}
}

/** Paths of the machine the mx must see read-only: the checkout and the bundle under test. */
export function binds(): string[] {
	const out = [REPO];
	if (!DIST.startsWith(`${REPO}/`)) out.push(dirname(DIST));
	return out;
}

export function upTrixieLab(lower: string, log: (l: string) => void): Promise<Lab> {
	return Lab.up({log, mxRoot: {lower, binds: binds(), rspamdCache: TRIXIE_RSPAMD_CACHE}, lockWaitMs: LOCK_WAIT_MS});
}
