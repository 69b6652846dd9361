// The DKIM key on disk: written by the DKIM stage, read for the DNS records and by "dns" and "check".
import {createPrivateKey, createPublicKey} from 'node:crypto';
import type {Answers} from '../answers.ts';
import {buildRecords} from '../dns/records.ts';
import type {ExpectedRecord} from '../dns/types.ts';
import {basename} from 'node:path';
import {readFromDir, readRegular} from '../engine/files.ts';
import {StepError, type Ctx} from '../engine/types.ts';
import {dkimKeyPath} from '../../templates/rspamd.ts';
import {DKIM_DIR, OLD_DKIM_DIR} from './paths.ts';

/** from: the old path the key is moved from (copied, never regenerated: its public half is published). */
export type DkimKey = {
	readonly path: string;
	readonly pem?: string;
	readonly publicKeyDer?: Buffer;
	readonly from?: string;
	/** The keys of a rotation's other selectors (answers.dkim.also), whose records stay published. */
	readonly also?: ReadonlyArray<{readonly selector: string; readonly publicKeyDer?: Buffer}>;
};

/**
 * Reads the DKIM key from disk; its public half feeds the DNS records. One key signs
 * for every domain of the server (the extras page: the records are identical).
 */
export async function readDkimKey(ctx: Pick<Ctx, 'root'>, a: Answers): Promise<DkimKey> {
	const path = dkimKeyPath(a.domain, a.dkim.selector);
	// Not readable (a dry run as a normal user): unknown, as before. A link or a FIFO: refused.
	let pem = await readRegular(ctx.root, path).catch(unlessRefused);
	const from = pem === undefined ? await oldKey(ctx, basename(path)) : undefined;
	if (from) pem = from.pem;
	const also = [];
	for (const selector of a.dkim.also ?? []) {
		const other = await readRegular(ctx.root, dkimKeyPath(a.domain, selector)).catch(unlessRefused);
		also.push({selector, publicKeyDer: publicHalf(other)});
	}
	return {path, pem, publicKeyDer: publicHalf(pem), from: from?.path, also};
}

/** The public half (DER) of a PEM private key; undefined when absent or not a key. */
export function publicHalf(pem: string | undefined): Buffer | undefined {
	if (!pem) return undefined;
	try {
		return createPublicKey(createPrivateKey(pem)).export({type: 'spki', format: 'der'});
	} catch {
		return undefined;
	}
}

function unlessRefused(error: unknown): undefined {
	if (error instanceof StepError) throw error;
	return undefined;
}

/** A key at the old path, to move: only a regular file root wrote (a planted one is refused). */
async function oldKey(ctx: Pick<Ctx, 'root'>, name: string): Promise<{path: string; pem: string} | undefined> {
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

/** The records to publish, built from the answers and the public half of the key on disk. */
export function recordsFor(a: Answers, key: Pick<DkimKey, 'publicKeyDer' | 'also'>): ExpectedRecord[] {
	return buildRecords(a, {publicKeyDer: key.publicKeyDer, also: key.also});
}
