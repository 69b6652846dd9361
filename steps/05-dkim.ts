import {createPrivateKey, createPublicKey} from 'node:crypto';
import type {Answers} from '../source/answers.ts';
import {readText} from '../source/engine/files.ts';
import {StepError, type Action, type Ctx, type Step} from '../source/engine/types.ts';
import {dkimKeyPath} from '../templates/rspamd.ts';

export const DKIM_DIR = '/var/lib/rspamd/dkim';

export type DkimKey = {readonly path: string; readonly pem?: string; readonly publicKeyDer?: Buffer};
export type DkimFacts = {readonly key: DkimKey};

export function domainsOf(a: Answers): string[] {
	return [a.domain, ...a.extraDomains];
}

/**
 * Reads the DKIM key from disk; its public half feeds the DNS records. One key signs
 * for every domain of the server (the extras page: the records are identical).
 */
export async function readDkimKey(ctx: Ctx, a: Answers): Promise<DkimKey> {
	const path = dkimKeyPath(a.domain, a.dkim.selector);
	const pem = await readText(ctx.root, path);
	let publicKeyDer: Buffer | undefined;
	if (pem) {
		try {
			publicKeyDer = createPublicKey(createPrivateKey(pem)).export({type: 'spki', format: 'der'});
		} catch {}
	}
	return {path, pem, publicKeyDer};
}

export const dkim: Step<DkimFacts> = {
	id: 'dkim',
	title: 'DKIM key: generated once, kept forever',
	summary: "creates each domain's 2048-bit DKIM signing key for Rspamd (only when absent)",
	inputs: (a) => ({domain: a.domain, selector: a.dkim.selector}),
	async facts(ctx, a) {
		return {key: await readDkimKey(ctx, a)};
	},
	plan(a, f) {
		const actions: Action[] = [{kind: 'dir', path: DKIM_DIR, mode: 0o750, owner: 'root', group: '_rspamd', why: "Rspamd's DKIM keys"}];
		const k = f.key;
		if (k.pem && !k.publicKeyDer) {
			throw new StepError(
				`The DKIM key ${k.path} exists but is not a readable RSA private key.`,
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
			why: k.pem ? 'the DKIM key (kept: its public half may already be published)' : `a new 2048-bit DKIM key (selector ${a.dkim.selector})`,
		});
		return actions;
	},
};
