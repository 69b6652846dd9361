import {groupId, passwdEntry, usedIds, type PasswdEntry} from '../source/engine/facts.ts';
import {StepError, type Action, type Step} from '../source/engine/types.ts';
import {VMAIL_HOME} from '../source/mail/paths.ts';

export type VmailFacts = {
	readonly user?: PasswdEntry;
	readonly gid?: number;
	/** First id >= 5000 free as both uid and gid. */
	readonly freeId: number;
};

export const vmail: Step<VmailFacts> = {
	id: 'vmail',
	title: 'The vmail user: one Unix account for every mailbox',
	summary: 'creates the vmail user and group and /var/vmail',
	async facts(ctx) {
		const {uids, gids} = await usedIds(ctx);
		let freeId = 5000;
		while (uids.has(freeId) || gids.has(freeId)) freeId++;
		return {user: await passwdEntry(ctx, 'vmail'), gid: await groupId(ctx, 'vmail'), freeId};
	},
	plan(_a, f) {
		const actions: Action[] = [];
		if (f.user && f.user.uid < 500) {
			throw new StepError(
				`The existing vmail user has uid ${f.user.uid}; Dovecot refuses mail users below uid 500 (first_valid_uid).`,
				'Give vmail a uid of 500 or more (usermod -u), then run mailwizard again.',
			);
		}
		if (f.gid === undefined) actions.push({kind: 'run', cmd: {argv: ['groupadd', '--gid', String(f.freeId), 'vmail']}, why: 'the group that owns all mail'});
		if (!f.user) {
			actions.push({
				kind: 'run',
				cmd: {argv: ['useradd', '--uid', String(f.freeId), '--gid', 'vmail', '--home-dir', VMAIL_HOME, '--no-create-home', '--shell', '/usr/sbin/nologin', '--comment', 'virtual mail', 'vmail']},
				why: 'the user that owns all mail (no login, uid >= 500 as Dovecot requires)',
			});
		}
		actions.push({kind: 'dir', path: VMAIL_HOME, mode: 0o750, owner: 'vmail', group: 'vmail', why: 'mailboxes live here, one directory per user'});
		return actions;
	},
};
