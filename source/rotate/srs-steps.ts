// The phases of an SRS key rotation as steps the engine plans, prints (--dry-run) and applies.
// The keys live only in /etc/smtpd/srs.conf (root-only): never in argv, the state or a log.
import {randomKey, readRegular} from '../engine/files.ts';
import type {Action, Step} from '../engine/types.ts';
import {UsageError} from '../exit.ts';
import {SMTPD_PATHS, parseSrs, srsConf} from '../../templates/smtpd.ts';
import type {SrsKeys} from './srs.ts';

const SMTPD = [{service: 'opensmtpd', exe: '/usr/sbin/smtpd'}];

/** srs.conf with these keys, checked with the whole configuration, then smtpd restarted on it. */
function srsActions(key: string, backup: string | undefined, why: string): Action[] {
	return [
		{
			kind: 'file',
			path: SMTPD_PATHS.srs,
			content: srsConf(key, backup),
			secrets: [key, ...(backup ? [backup] : [])],
			sensitive: 'quote',
			mode: 0o600,
			owner: 'root',
			// smtpd.conf includes srs.conf: a configuration smtpd refuses puts the old file back.
			verify: [{argv: ['smtpd', '-n']}],
			restarts: 'opensmtpd',
			why,
		},
		{
			kind: 'service',
			name: 'opensmtpd',
			op: 'restart',
			// OpenSMTPD has no reload; queued mail stays queued. A re-run after a kill restarts too.
			always: true,
			why: 'load the SRS keys (smtpd has no reload: the queue is kept, a client cut off retries)',
			verify: [{argv: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do smtpctl show status >/dev/null 2>&1 && exit 0; sleep 0.5; done; exit 1']}],
		},
	];
}

/** The keys as srs.conf holds them (a regular file: never read through a link). */
export async function readSrsKeys(root: string): Promise<SrsKeys> {
	try {
		return parseSrs(await readRegular(root, SMTPD_PATHS.srs));
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EACCES') throw new UsageError(`${SMTPD_PATHS.srs} is readable by root only: run this with sudo (a dry run too)`);
		throw error;
	}
}

/**
 * A new key signs, the previous one becomes the backup key. A file that already holds a backup
 * key during a rotation was written by a run that was stopped: it is kept, never made again.
 */
export function srsSwitchStep(): Step<{key: string; backup: string}> {
	return {
		id: 'rotate-srs-switch',
		title: 'SRS rotation: a new key signs, the previous one stays as the backup key',
		summary: 'bounces to addresses made with the previous key are still accepted',
		daemons: SMTPD,
		async facts(ctx) {
			const keys = await readSrsKeys(ctx.root);
			if (!keys.key) throw new Error(`${SMTPD_PATHS.srs} holds no SRS key`);
			return keys.backup ? {key: keys.key, backup: keys.backup} : {key: randomKey(30), backup: keys.key};
		},
		plan(_a, f) {
			return srsActions(f.key, f.backup, 'a new SRS key signs forwarded mail; the previous one is the backup key, so bounces to what it signed are still accepted');
		},
	};
}

/** --finish: the backup key goes; bounces to addresses it made are refused from now on. */
export function srsFinishStep(): Step<{key: string}> {
	return {
		id: 'rotate-srs-finish',
		title: 'SRS rotation: drop the backup key',
		summary: 'only the new SRS key is left',
		daemons: SMTPD,
		async facts(ctx) {
			const keys = await readSrsKeys(ctx.root);
			if (!keys.key) throw new Error(`${SMTPD_PATHS.srs} holds no SRS key`);
			return {key: keys.key};
		},
		plan(_a, f) {
			return srsActions(f.key, undefined, 'drop the previous SRS key: only the new one signs and is accepted');
		},
	};
}
