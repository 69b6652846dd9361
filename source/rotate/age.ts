// How old the keys that sign now are, for the yearly reminder: their files are written once,
// when the key is made (a re-run that changes nothing leaves them alone), so their modification
// time is the key's date. The state's step times are not: every run sets them.
import {lstat} from 'node:fs/promises';
import type {Answers} from '../answers.ts';
import {onRoot} from '../engine/files.ts';
import {oldKeyReminder} from './dkim.ts';
import {SMTPD_PATHS} from '../../templates/smtpd.ts';
import {dkimKeyPath} from '../../templates/rspamd.ts';

async function mtime(root: string, path: string): Promise<string | undefined> {
	try {
		return (await lstat(onRoot(root, path))).mtime.toISOString();
	} catch {
		return undefined;
	}
}

/** When the signing DKIM key and the SRS keys file were written (undefined: not there). */
export async function keyDates(root: string, a: Answers | undefined): Promise<{dkim?: string; srs?: string}> {
	return {dkim: a ? await mtime(root, dkimKeyPath(a.domain, a.dkim.selector)) : undefined, srs: await mtime(root, SMTPD_PATHS.srs)};
}

/** The finish screen's reminders: each key older than a year, by its file's date. */
export async function keyReminders(root: string, a: Answers, at = new Date()): Promise<string[]> {
	const made = await keyDates(root, a);
	return [oldKeyReminder('DKIM', made.dkim, at), oldKeyReminder('SRS', made.srs, at)].filter((x): x is string => Boolean(x)).map((r) => `Reminder: ${r}.`);
}
