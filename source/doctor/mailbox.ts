// The self-test's message in the mailboxes, through doveadm (the same words on Dovecot 2.3 and
// 2.4): found by its header in every user's every mailbox, fetched whole, expunged. The tokens
// of messages sent and not yet removed are noted in the state directory, so a check cut short
// (killed, or the message late) has its message removed by the next one.
import {readFile} from 'node:fs/promises';
import {replaceFile} from '../engine/durable.ts';
import {onRoot} from '../engine/files.ts';
import type {Ctx} from '../engine/types.ts';

type SelfCtx = Pick<Ctx, 'root' | 'exec'>;

/** Where a message is: its user, mailbox GUID and UID. */
export type At = {readonly user: string; readonly guid: string; readonly uid: string};

const DOVEADM_MS = 10_000;
export const PENDING_FILE = 'selftest-pending.json';
/** A message not found for this long is not coming: its token is forgotten. */
const PENDING_DAYS = 7;

/** "user guid uid" lines of doveadm search -A. */
export function parseSearch(stdout: string): At[] {
	return stdout.split('\n').flatMap((l) => {
		const m = /^(\S+)\s+([0-9a-f]{32})\s+(\d+)\s*$/.exec(l);
		return m ? [{user: m[1]!, guid: m[2]!, uid: m[3]!}] : [];
	});
}

async function doveadm(ctx: SelfCtx, args: readonly string[]): Promise<{exitCode: number; stdout: string; stderr: string}> {
	return ctx.exec.run({argv: ['doveadm', ...args]}, undefined, AbortSignal.timeout(DOVEADM_MS));
}

async function search(ctx: SelfCtx, header: string, token: string): Promise<At[] | {error: string}> {
	const r = await doveadm(ctx, ['search', '-A', 'header', header, token]);
	// Its first error line says why (Dovecot down: the userdb cannot be listed); doveadm may also abort on it.
	if (r.exitCode !== 0) return {error: `doveadm search failed: ${r.stderr.trim().split('\n')[0] || `exit ${r.exitCode}`}`};
	return parseSearch(r.stdout);
}

/** Waits until the message with header: token is in some mailbox. */
export async function findMessage(ctx: SelfCtx, header: string, token: string, timeoutMs: number): Promise<{at?: At} | {error: string}> {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const hits = await search(ctx, header, token);
		if ('error' in hits) return hits;
		if (hits.length) return {at: hits[0]};
		if (Date.now() > end) return {};
		await new Promise((r) => setTimeout(r, 200));
	}
}

/** The message as stored: doveadm fetch's "text:" field (the pager output, one message). */
export function fetchedText(stdout: string): string {
	if (!stdout.startsWith('text:')) throw new Error(`doveadm fetch printed no message text: ${stdout.slice(0, 60)}`);
	return stdout.replace(/^text:\r?\n?/, '');
}

export async function fetchMessage(ctx: SelfCtx, at: At): Promise<string> {
	const r = await doveadm(ctx, ['fetch', '-u', at.user, 'text', 'mailbox-guid', at.guid, 'uid', at.uid]);
	if (r.exitCode !== 0) throw new Error(`doveadm fetch: exit ${r.exitCode} ${r.stderr.trim()}`);
	return fetchedText(r.stdout);
}

/** Expunges the message and says whether it is gone (searched again). */
export async function expunge(ctx: SelfCtx, at: At, header: string, token: string): Promise<boolean> {
	await doveadm(ctx, ['expunge', '-u', at.user, 'mailbox-guid', at.guid, 'uid', at.uid]);
	const left = await search(ctx, header, token);
	return !('error' in left) && left.length === 0;
}

type Pending = Record<string, number>;

async function readPending(root: string, stateDir: string): Promise<Pending> {
	try {
		const j = JSON.parse(await readFile(onRoot(root, `${stateDir}/${PENDING_FILE}`), 'utf8')) as unknown;
		return j && typeof j === 'object' ? Object.fromEntries(Object.entries(j).filter(([k, v]) => /^[0-9a-f]{24}$/.test(k) && typeof v === 'number')) : {};
	} catch {
		return {};
	}
}

async function writePending(root: string, stateDir: string, p: Pending): Promise<void> {
	replaceFile(onRoot(root, `${stateDir}/${PENDING_FILE}`), `${JSON.stringify(p)}\n`, {mode: 0o600});
}

export async function notePending(root: string, stateDir: string, token: string): Promise<void> {
	await writePending(root, stateDir, {...(await readPending(root, stateDir)), [token]: Date.now()});
}

export async function forgetPending(root: string, stateDir: string, token: string): Promise<void> {
	const p = await readPending(root, stateDir);
	delete p[token];
	await writePending(root, stateDir, p);
}

/** Removes the messages of earlier self-tests that were not removed; forgets tokens found or too old. */
export async function stalePending(ctx: SelfCtx, stateDir: string, header: string): Promise<void> {
	const p = await readPending(ctx.root, stateDir);
	if (!Object.keys(p).length) return;
	for (const [token, at] of Object.entries(p)) {
		const hits = await search(ctx, header, token);
		if ('error' in hits) continue;
		for (const h of hits) await doveadm(ctx, ['expunge', '-u', h.user, 'mailbox-guid', h.guid, 'uid', h.uid]);
		if (hits.length || Date.now() - at > PENDING_DAYS * 86_400_000) delete p[token];
	}
	await writePending(ctx.root, stateDir, p);
}
