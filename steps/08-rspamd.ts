import type {Step} from '../source/engine/types.ts';
import {domainsOf} from '../source/mail/addresses.ts';
import {RSPAMD_DKIM_CONF} from '../source/mail/paths.ts';
import {dkimKeyPath, dkimSigningConf} from '../templates/rspamd.ts';

export const rspamd: Step<null> = {
	id: 'rspamd',
	title: 'Rspamd: DKIM signing of outgoing mail',
	summary: 'tells Rspamd which key signs for which domain',
	packages: {'12': ['rspamd'], '13': ['rspamd']},
	// Ready when the normal worker (filter-rspamd's localhost:11333) answers: until then smtpd's filter says 421.
	daemons: [{service: 'rspamd', exe: '/usr/bin/rspamd', ready: {tcp: 11333}}],
	async facts() {
		return null;
	},
	plan(a) {
		const path = dkimKeyPath(a.domain, a.dkim.selector);
		return [
			{
				kind: 'file',
				path: RSPAMD_DKIM_CONF,
				content: dkimSigningConf(domainsOf(a).map((domain) => ({domain, selector: a.dkim.selector, path}))),
				mode: 0o644,
				verify: [{argv: ['rspamadm', 'configtest']}],
				restarts: 'rspamd',
				why: `sign mail from ${domainsOf(a).join(', ')} with selector "${a.dkim.selector}"`,
			},
			{kind: 'service', name: 'rspamd', op: 'restart', why: 'load the DKIM settings'},
		];
	},
};
