// The phases of a DKIM rotation as steps the engine plans, prints (--dry-run) and applies.
import type {Answers} from '../answers.ts';
import type {Action, Step} from '../engine/types.ts';
import {domainsOf} from '../mail/addresses.ts';
import {readDkimKey, recordsFor, type DkimKey} from '../mail/dkim.ts';
import {DKIM_DIR, RSPAMD_DKIM_CONF} from '../mail/paths.ts';
import {dkimKeyPath, dkimSigningConf} from '../../templates/rspamd.ts';

const RSPAMD = [{service: 'rspamd', exe: '/usr/bin/rspamd'}];

/** Rspamd's signing configuration for one selector, reloaded (not restarted) when it changes. */
function signingActions(a: Answers, selector: string, why: string): Action[] {
	// always: a run killed after the file was written and before the reload still reloads on its re-run.
	const path = dkimKeyPath(a.domain, selector);
	return [
		{
			kind: 'file',
			path: RSPAMD_DKIM_CONF,
			content: dkimSigningConf(domainsOf(a).map((domain) => ({domain, selector, path}))),
			mode: 0o644,
			verify: [{argv: ['rspamadm', 'configtest']}],
			restarts: 'rspamd',
			why,
		},
		{kind: 'service', name: 'rspamd', op: 'reload', always: true, why: 'load the new signing selector (a reload: mail in progress is not cut)'},
	];
}

/** Phase 1: the new key, next to the one that signs (which stays as it is). */
export function newKeyStep(next: string): Step<null> {
	return {
		id: 'rotate-dkim-key',
		title: `DKIM rotation: a new key for selector "${next}"`,
		summary: 'generates the new key; the old one keeps signing until the new record is served',
		async facts() {
			return null;
		},
		plan(a) {
			return [
				{kind: 'dir', path: DKIM_DIR, mode: 0o750, owner: 'root', group: '_rspamd', why: "Rspamd's DKIM keys"},
				{
					kind: 'file',
					path: dkimKeyPath(a.domain, next),
					content: {generate: 'rsa-2048-pkcs8'},
					sensitive: 'whole',
					mode: 0o640,
					owner: 'root',
					group: '_rspamd',
					why: `a new 2048-bit DKIM key (selector ${next})`,
				},
			];
		},
	};
}

/** Phase 2: the new record on every authoritative server, then Rspamd signs with it. */
export function switchStep(next: string): Step<Pick<DkimKey, 'publicKeyDer'>> {
	return {
		id: 'rotate-dkim-switch',
		title: `DKIM rotation: sign with "${next}" once its record is served`,
		summary: 'waits for the new DKIM record on every authoritative server, then switches signing',
		daemons: RSPAMD,
		waitsForDns: true,
		async facts(ctx, a) {
			return {publicKeyDer: (await readDkimKey(ctx, {...a, dkim: {selector: next}})).publicKeyDer};
		},
		plan(a, f) {
			const records = recordsFor({...a, dkim: {selector: next}}, f).filter((r) => r.kind === 'dkim');
			return [
				{kind: 'notice', level: 'records', title: `Publish the new DKIM record in the zone of ${a.domain} (keep the old "${a.dkim.selector}" record)`, lines: [], records},
				{kind: 'wait', domain: a.domain, records, why: `Rspamd signs with "${next}" only once every authoritative server serves its record`},
				...signingActions(a, next, `sign mail from ${domainsOf(a).join(', ')} with the new selector "${next}"`),
			];
		},
	};
}

/** --finish: only the new selector signs; the old record may go; the old key is deleted (by the command). */
export function finishStep(previous: string, oldKeyExists: boolean): Step<null> {
	return {
		id: 'rotate-dkim-finish',
		title: `DKIM rotation: retire selector "${previous}"`,
		summary: 'removes the old selector from signing and its key from disk',
		daemons: RSPAMD,
		async facts() {
			return null;
		},
		plan(a) {
			const names = domainsOf(a).map((d) => `${previous}._domainkey.${d}`);
			return [
				...signingActions(a, a.dkim.selector, `sign mail from ${domainsOf(a).join(', ')} with "${a.dkim.selector}" only`),
				{kind: 'notice', level: 'info', title: `The old DKIM record can now be deleted from the zone`, lines: names.map((n) => `${n} TXT`)},
				...(oldKeyExists ? [{kind: 'notice' as const, level: 'info' as const, title: `The old private key is deleted: ${dkimKeyPath(a.domain, previous)}`, lines: []}] : []),
			];
		},
	};
}
