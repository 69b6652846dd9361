// The DKIM key on disk: written by the DKIM stage, read for the DNS records and by "dns" and "check".
import {createPrivateKey, createPublicKey} from 'node:crypto';
import type {Answers} from '../answers.ts';
import {buildRecords} from '../dns/records.ts';
import type {ExpectedRecord} from '../dns/types.ts';
import {readText} from '../engine/files.ts';
import type {Ctx} from '../engine/types.ts';
import {dkimKeyPath} from '../../templates/rspamd.ts';

export type DkimKey = {readonly path: string; readonly pem?: string; readonly publicKeyDer?: Buffer};

/**
 * Reads the DKIM key from disk; its public half feeds the DNS records. One key signs
 * for every domain of the server (the extras page: the records are identical).
 */
export async function readDkimKey(ctx: Pick<Ctx, 'root'>, a: Answers): Promise<DkimKey> {
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

/** The records to publish, built from the answers and the public half of the key on disk. */
export function recordsFor(a: Answers, key: Pick<DkimKey, 'publicKeyDer'>): ExpectedRecord[] {
	return buildRecords(a, {publicKeyDer: key.publicKeyDer});
}
