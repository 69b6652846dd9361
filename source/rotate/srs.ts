// SRS key rotation, the pure part: the phases kept in the state (never a key), the refusals,
// the status lines. OpenSMTPD signs SRS addresses with "srs key" and still accepts bounces to
// addresses made with "srs key backup": the previous key stays there for the bounce window.
import {oldKeyReminder} from './dkim.ts';

/**
 * switching: a new key is being written (srs.conf holding a backup key means it was written).
 * overlap: the new key signs, the previous one is the backup key.
 * done: `--finish` removed the backup key.
 */
export type SrsRotation = {
	readonly phase: 'switching' | 'overlap' | 'done';
	readonly startedAt: string;
	readonly switchedAt?: string;
	readonly finishedAt?: string;
};

/**
 * The bounce window: a bounce can come back days after the forward (retries for up to 5 days,
 * then the DSN); OpenSMTPD itself refuses SRS addresses older than its "srs ttl" (4 days by default).
 */
export const SRS_MIN_OVERLAP_DAYS = 30;
const DAY = 86_400_000;

/** What srs.conf holds now (never shown: only whether each key is there). */
export type SrsKeys = {readonly key?: string; readonly backup?: string};

/** Why `rotate srs` cannot start now (undefined: it can). */
export function srsStartRefusal(r: SrsRotation | undefined, keys: SrsKeys): string | undefined {
	if (!keys.key) return 'no SRS key in /etc/smtpd/srs.conf: run mailwizard (the setup) first';
	if (r?.phase === 'overlap') return 'an SRS rotation is in its overlap (the previous key is the backup key): finish it first with "mailwizard rotate srs --finish"';
	if (r?.phase !== 'switching' && keys.backup)
		return '/etc/smtpd/srs.conf already holds a backup key (set by hand?): a rotation now would drop it. Drop it first with "mailwizard rotate srs --finish --now"';
	return undefined;
}

/** Why `rotate srs --finish` is refused (undefined: allowed); `force` (--now) overrides the minimum overlap. */
export function srsFinishRefusal(r: SrsRotation | undefined, keys: SrsKeys, at: Date, force: boolean): string | undefined {
	if (r?.phase === 'switching') return 'the new SRS key is not in use yet: run "mailwizard rotate srs" again first';
	if (r?.phase !== 'overlap') {
		if (keys.backup && force) return undefined; // a backup key set by hand: dropped with --now
		return 'no SRS rotation to finish: start one with "mailwizard rotate srs"';
	}
	const days = srsOverlapDays(r, at);
	if (!force && days < SRS_MIN_OVERLAP_DAYS)
		return `the previous SRS key has been the backup key for ${days.toFixed(1)} days, less than the bounce window of ${SRS_MIN_OVERLAP_DAYS}: bounces to mail forwarded before the rotation would be refused. Run again after ${new Date(Date.parse(r.switchedAt!) + SRS_MIN_OVERLAP_DAYS * DAY).toISOString()}, or add --now to finish anyway`;
	return undefined;
}

export function srsOverlapDays(r: SrsRotation, at: Date): number {
	return r.switchedAt ? (at.getTime() - Date.parse(r.switchedAt)) / DAY : 0;
}

/** What status says about the SRS key: the phase of a rotation, and the reminder for an old key. */
export function srsStatusLines(r: SrsRotation | undefined, keyMadeAt: string | undefined, at: Date): string[] {
	const lines: string[] = [];
	if (r?.phase === 'switching') lines.push(`SRS rotation: started ${r.startedAt}, not finished switching. Run "mailwizard rotate srs" again to continue.`);
	if (r?.phase === 'overlap')
		lines.push(
			`SRS rotation: the new key signs since ${r.switchedAt}; the previous one is the backup key (overlap ${srsOverlapDays(r, at).toFixed(1)} of at least ${SRS_MIN_OVERLAP_DAYS} days, then "mailwizard rotate srs --finish").`,
		);
	if (r?.phase === 'done') lines.push(`SRS rotation: finished ${r.finishedAt}; only the new key is left.`);
	const reminder = oldKeyReminder('SRS', r?.switchedAt ?? keyMadeAt, at);
	if (reminder) lines.push(`Reminder: ${reminder}`);
	return lines;
}
