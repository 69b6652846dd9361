// DKIM key rotation, the pure part: the phases kept in the state, the selectors the answers
// take from them (a re-run of the wizard never undoes a rotation), the refusals.
import type {Answers} from '../answers.ts';

/**
 * publishing: the new key exists and its record is awaited; `selector` still signs.
 * overlap: `selector` (the new one) signs, `previous` stays published and on disk.
 * done: `--finish` removed the previous key; only `selector` is left.
 */
export type DkimRotation = {
	readonly phase: 'publishing' | 'overlap' | 'done';
	/** The selector that signs now. */
	readonly selector: string;
	/** publishing: the selector waiting for its record. */
	readonly next?: string;
	/** overlap: the selector that signed before, still published. */
	readonly previous?: string;
	readonly startedAt: string;
	readonly switchedAt?: string;
	readonly finishedAt?: string;
};

export const DKIM_MIN_OVERLAP_DAYS = 7;
const DAY = 86_400_000;

/** A dated selector, e.g. mw202612 (a second rotation in the same month gets a letter). */
export function defaultSelector(now: Date, taken: readonly string[]): string {
	const base = `mw${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
	if (!taken.includes(base)) return base;
	for (const c of 'bcdefghijklmnopqrstuvwxyz') if (!taken.includes(`${base}${c}`)) return `${base}${c}`;
	return `${base}-${now.getTime()}`;
}

/** The answers as the rotation left them: the signing selector, and the others still published. */
export function withDkimRotation(a: Answers, r: DkimRotation | undefined): Answers {
	if (!r) return a;
	const also = r.phase === 'publishing' ? [r.next] : r.phase === 'overlap' ? [r.previous] : [];
	return {...a, dkim: {selector: r.selector, also: also.filter((s): s is string => Boolean(s) && s !== r.selector)}};
}

/** Why a rotation cannot start now (undefined: it can). */
export function startRefusal(r: DkimRotation | undefined, signing: string, wanted: string): string | undefined {
	if (r?.phase === 'overlap') return `a rotation is in its overlap (${r.previous} -> ${r.selector}): finish it first with "mailwizard rotate dkim --finish"`;
	if (r?.phase === 'publishing' && r.next !== wanted)
		return `a rotation to "${r.next}" is under way: run "mailwizard rotate dkim" again (without --selector, or with --selector ${r.next}) to continue it`;
	if (wanted === signing) return `"${wanted}" is the selector that signs now: give another with --selector`;
	return undefined;
}

/** Why --finish is refused (undefined: allowed); `now` overrides the minimum overlap. */
export function finishRefusal(r: DkimRotation | undefined, at: Date, force: boolean): string | undefined {
	if (!r || r.phase === 'done') return 'no DKIM rotation to finish: start one with "mailwizard rotate dkim"';
	if (r.phase === 'publishing') return `the new selector "${r.next}" does not sign yet (its record is awaited): run "mailwizard rotate dkim" again first`;
	const days = overlapDays(r, at);
	if (!force && days < DKIM_MIN_OVERLAP_DAYS)
		return `the old selector "${r.previous}" has been out of use for ${days.toFixed(1)} days, less than the minimum overlap of ${DKIM_MIN_OVERLAP_DAYS}: mail signed with it may still be in flight or verified later. Run again after ${new Date(Date.parse(r.switchedAt!) + DKIM_MIN_OVERLAP_DAYS * DAY).toISOString()}, or add --now to finish anyway`;
	return undefined;
}

export function overlapDays(r: DkimRotation, at: Date): number {
	return r.switchedAt ? (at.getTime() - Date.parse(r.switchedAt)) / DAY : 0;
}

/** Days since the key that signs now was made; undefined when unknown. */
export function keyAgeDays(since: string | undefined, at: Date): number | undefined {
	return since ? Math.floor((at.getTime() - Date.parse(since)) / DAY) : undefined;
}

/** The reminder for a key older than a year (undefined when younger or unknown). */
export function oldKeyReminder(what: 'DKIM' | 'SRS', since: string | undefined, at: Date): string | undefined {
	const days = keyAgeDays(since, at);
	return days !== undefined && days > 365 ? `the ${what} key is ${days} days old: rotate it (mailwizard rotate ${what.toLowerCase()}), as the guide advises once a year` : undefined;
}

/** What status says about the DKIM key: the phase of a rotation, and the reminder for an old key. */
export function dkimStatusLines(r: DkimRotation | undefined, keyMadeAt: string | undefined, at: Date): string[] {
	const lines: string[] = [];
	if (r?.phase === 'publishing')
		lines.push(`DKIM rotation: waiting for the record of "${r.next}" (since ${r.startedAt}); "${r.selector}" still signs. Run "mailwizard rotate dkim" again to continue.`);
	if (r?.phase === 'overlap')
		lines.push(
			`DKIM rotation: "${r.selector}" signs since ${r.switchedAt}; "${r.previous}" stays published (overlap ${overlapDays(r, at).toFixed(1)} of at least ${DKIM_MIN_OVERLAP_DAYS} days, then "mailwizard rotate dkim --finish").`,
		);
	if (r?.phase === 'done') lines.push(`DKIM rotation: finished ${r.finishedAt}; "${r.selector}" signs.`);
	const reminder = oldKeyReminder('DKIM', r?.switchedAt ?? keyMadeAt, at);
	if (reminder) lines.push(`Reminder: ${reminder}`);
	return lines;
}
