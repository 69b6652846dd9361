import {createPrivateKey, createPublicKey} from 'node:crypto';
import type {Answers} from '../source/answers.ts';
import {basename} from 'node:path';
import {readFromDir, readRegular} from '../source/engine/files.ts';
import {StepError, type Action, type Ctx, type Step} from '../source/engine/types.ts';
import {dkimKeyPath} from '../templates/rspamd.ts';

/** Only root writes here; Rspamd (_rspamd) reads the keys through the group. */
export const DKIM_DIR = '/etc/rspamd/dkim';
/** Where keys were kept before: a directory in /var/lib/rspamd, which the _rspamd user owns. */
export const OLD_DKIM_DIR = '/var/lib/rspamd/dkim';

/** from: the old path the key is moved from (copied, never regenerated: its public half is published). */
export type DkimKey = {readonly path: string; readonly pem?: string; readonly publicKeyDer?: Buffer; readonly from?: string};
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
	// Not readable (a dry run as a normal user): unknown, as before. A link or a FIFO: refused.
	let pem = await readRegular(ctx.root, path).catch(unlessRefused);
	const from = pem === undefined ? await oldKey(ctx, basename(path)) : undefined;
	if (from) pem = from.pem;
	let publicKeyDer: Buffer | undefined;
	if (pem) {
		try {
			publicKeyDer = createPublicKey(createPrivateKey(pem)).export({type: 'spki', format: 'der'});
		} catch {}
	}
	return {path, pem, publicKeyDer, from: from?.path};
}

function unlessRefused(error: unknown): undefined {
	if (error instanceof StepError) throw error;
	return undefined;
}

/** A key at the old path, to move: only a regular file root wrote (a planted one is refused). */
async function oldKey(ctx: Ctx, name: string): Promise<{path: string; pem: string} | undefined> {
	const path = `${OLD_DKIM_DIR}/${name}`;
	const f = await readFromDir(ctx.root, OLD_DKIM_DIR, name).catch(unlessRefused);
	if (!f) return undefined;
	if (f.uid !== 0 || f.nlink !== 1) {
		throw new StepError(
			`The DKIM key ${path} is not a file root wrote (owner uid ${f.uid}, ${f.nlink} links): someone else may have planted it.`,
			`Nothing was changed or published. If it is the key mailwizard made, check it and move it to ${DKIM_DIR}/${name} (root:_rspamd 0640) yourself; else remove it and run again.`,
		);
	}
	return {path, pem: f.text};
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
