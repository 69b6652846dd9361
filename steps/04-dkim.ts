import {StepError, type Action, type Step} from '../source/engine/types.ts';
import {readDkimKey, type DkimKey} from '../source/mail/dkim.ts';
import {DKIM_DIR} from '../source/mail/paths.ts';

export type DkimFacts = {readonly key: DkimKey};

export const dkim: Step<DkimFacts> = {
	id: 'dkim',
	title: 'DKIM key: generated once, kept forever',
	summary: "creates each domain's 2048-bit DKIM signing key for Rspamd (only when absent)",
	async facts(ctx, a) {
		return {key: await readDkimKey(ctx, a)};
	},
	plan(a, f) {
		const actions: Action[] = [{kind: 'dir', path: DKIM_DIR, mode: 0o750, owner: 'root', group: '_rspamd', why: "Rspamd's DKIM keys"}];
		const k = f.key;
		if (k.pem && !k.publicKeyDer) {
			throw new StepError(
				`The DKIM key ${k.from ?? k.path} exists but is not a readable RSA private key.`,
				'It was left as it is. Move it away to have a new one generated (and publish the new record), or restore the right key.',
			);
		}
		actions.push({
			kind: 'file',
			path: k.path,
			content: k.pem ?? {generate: 'rsa-2048-pkcs8'},
			secrets: k.pem ? [k.pem] : undefined,
			sensitive: 'whole',
			mode: 0o640,
			owner: 'root',
			group: '_rspamd',
			why: k.from
				? `the DKIM key, moved unchanged from ${k.from} (a directory the _rspamd user owns) to where only root writes; its public half is published`
				: k.pem
					? 'the DKIM key (kept: its public half may already be published)'
					: `a new 2048-bit DKIM key (selector ${a.dkim.selector})`,
		});
		return actions;
	},
};
