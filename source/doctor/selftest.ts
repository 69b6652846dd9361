// The self-test: a signed message, submitted on 587 like a mail client would, delivered back to
// this server, judged on arrival by Rspamd as inbound mail from the server's own address (DKIM
// with the key in DNS, SPF, DMARC), then removed. The login it submits with is made for this one
// run: a random password (never stored, never in argv: smtpctl encrypt reads it on stdin),
// its hash on one line of the passwds table and a sendas line letting it send as one address
// of its own, both removed again as soon as the message is accepted (and a line left by a
// check that was killed is removed first). The state directory's lock keeps the wizard and a
// second check away while the tables hold the line.
import {randomBytes} from 'node:crypto';
import {mkdir} from 'node:fs/promises';
import {replaceFile} from '../engine/durable.ts';
import {onRoot, readRegular} from '../engine/files.ts';
import type {Ctx} from '../engine/types.ts';
import {smtpdHash} from '../platform/passwords.ts';
import {lock} from '../run/lock.ts';
import {SMTPD_PATHS} from '../../templates/smtpd.ts';
import type {Row} from './row.ts';
import {SmtpError, submit} from './smtp.ts';
import {dmarcPart, dkimPart, rspamdCheck, selftestRow, signatureOf, spfPart} from './verdict.ts';
import {expunge, fetchMessage, findMessage, forgetPending, notePending, stalePending} from './mailbox.ts';

/** The local part of the test login and sender: no user or alias can have it (names start with a letter or digit). */
export const SELFTEST_LOCAL = '_mailwizard-selftest';
export const SELFTEST_HEADER = 'X-Mailwizard-Selftest';

export type SelftestTarget = {
	readonly domain: string;
	readonly hostname: string;
	/** Where submission is reached (the address the port rows use). */
	readonly host: string;
	/** The published addresses: Rspamd judges the message as if it came from each. */
	readonly ips: readonly string[];
	readonly stateDir: string;
	/** Time limits (ms): the SMTP dialogue, the wait for delivery, each Rspamd check. */
	readonly limits?: {readonly smtp: number; readonly delivery: number; readonly rspamd: number};
	readonly port?: number;
};

type SelfCtx = Pick<Ctx, 'root' | 'exec'>;

const LIMITS = {smtp: 15_000, delivery: 15_000, rspamd: 10_000};

const unknown = (detail: string, fix?: string): Row => ({id: 'selftest', area: 'selftest', status: 'unknown', detail, fix, who: 'admin'});
const failed = (detail: string, fix: string): Row => ({id: 'selftest', area: 'selftest', status: 'fail', detail, fix, who: 'admin'});

/** The table's text with login's line replaced by line (or removed); undefined when nothing changes. */
export function withLine(text: string, login: string, line: string | undefined): string | undefined {
	const lines = text.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
	const kept = lines.filter((l) => l.split(/\s/, 1)[0] !== login);
	if (!line && kept.length === lines.length) return undefined;
	const out = [...kept, ...(line ? [line] : [])];
	return out.length ? `${out.join('\n')}\n` : '';
}

/** Sets (or removes) the test login's line in one smtpd table, keeping the file's owner and mode, and has smtpd reload it. */
async function setTableLine(ctx: SelfCtx, table: 'passwds' | 'sendas', login: string, line: string | undefined): Promise<void> {
	const path = SMTPD_PATHS[table];
	const text = await readRegular(ctx.root, path);
	if (text === undefined) throw new Error(`${path} is missing: run the setup first`);
	const next = withLine(text, login, line);
	if (next === undefined) return;
	replaceFile(onRoot(ctx.root, path), next);
	const r = await ctx.exec.run({argv: ['smtpctl', 'update', 'table', table]}, undefined, AbortSignal.timeout(10_000));
	if (r.exitCode !== 0) throw new Error(`smtpctl update table ${table}: exit ${r.exitCode} ${r.stderr.trim()}`);
}

async function setCredential(ctx: SelfCtx, login: string, hash: string | undefined): Promise<void> {
	await setTableLine(ctx, 'sendas', login, hash ? `${login} ${login}` : undefined);
	await setTableLine(ctx, 'passwds', login, hash ? `${login} ${hash}` : undefined);
}

/** Removes the test sender's envelopes from smtpd's queue (a message not delivered must not be retried into a mailbox later). */
export async function dropQueued(ctx: SelfCtx, sender: string): Promise<number> {
	const r = await ctx.exec.run({argv: ['smtpctl', 'show', 'queue']}, undefined, AbortSignal.timeout(10_000));
	const ids = r.stdout
		.split('\n')
		.map((l) => l.split('|'))
		.filter((f) => /^[0-9a-f]{16}$/.test(f[0] ?? '') && f[4]?.toLowerCase() === sender.toLowerCase())
		.map((f) => f[0]!);
	for (const id of ids) await ctx.exec.run({argv: ['smtpctl', 'remove', id]}, undefined, AbortSignal.timeout(10_000));
	return ids.length;
}

export function selftestMessage(t: SelftestTarget, token: string, now = new Date()): string {
	const from = `${SELFTEST_LOCAL}@${t.domain}`;
	return [
		`From: mailwizard self-test <${from}>`,
		`To: postmaster@${t.domain}`,
		`Subject: mailwizard self-test ${token.slice(0, 8)} (removed automatically)`,
		`Date: ${now.toUTCString().replace('GMT', '+0000')}`,
		`Message-ID: <selftest.${token}@${t.hostname}>`,
		`${SELFTEST_HEADER}: ${token}`,
		'Auto-Submitted: auto-generated',
		'Content-Type: text/plain; charset=utf-8',
		'',
		`mailwizard check sent this message to itself to prove that mail from ${t.domain} is signed`,
		'and passes SPF and DMARC. It removes it right after; if you see it, a check was cut short.',
		'',
	].join('\r\n');
}

/** Submits the message with a login made for this run; the login is gone again when this returns. */
async function submitOnce(ctx: SelfCtx, t: SelftestTarget, token: string, limits: typeof LIMITS): Promise<Row | undefined> {
	const login = `${SELFTEST_LOCAL}@${t.domain}`;
	const password = randomBytes(24).toString('base64url');
	const hash = await smtpdHash(ctx, password);
	try {
		await setCredential(ctx, login, hash);
		await notePending(ctx.root, t.stateDir, token);
		const message = selftestMessage(t, token);
		await submit({host: t.host, port: t.port ?? 587, helo: t.hostname, servername: t.hostname, login, password, from: login, to: `postmaster@${t.domain}`, message, timeoutMs: limits.smtp});
	} catch (error) {
		if (!(error instanceof SmtpError)) throw error;
		// Refused before the end of DATA: no message exists. Cut off during it: it may, and stays noted for the next check.
		if (error.step !== 'end of DATA' && error.step !== 'timeout') await forgetPending(ctx.root, t.stateDir, token);
		return failed(`the test message could not be submitted on port ${t.port ?? 587}: ${error.message}`, `read the mail log (smtpd): ${error.step} failed for a login made for the test`);
	} finally {
		await setCredential(ctx, login, undefined);
	}
	return undefined;
}

/** The whole self-test once the lock is held. */
async function selftestLocked(ctx: SelfCtx, t: SelftestTarget): Promise<Row> {
	const limits = {...LIMITS, ...t.limits};
	// What a check cut short may have left: its login, its message queued or delivered.
	await setCredential(ctx, `${SELFTEST_LOCAL}@${t.domain}`, undefined);
	await dropQueued(ctx, `${SELFTEST_LOCAL}@${t.domain}`);
	await stalePending(ctx, t.stateDir, SELFTEST_HEADER);
	const token = randomBytes(12).toString('hex');
	const refused = await submitOnce(ctx, t, token, limits);
	if (refused) return refused;
	const t0 = Date.now();
	const found = await findMessage(ctx, SELFTEST_HEADER, token, limits.delivery);
	if ('error' in found || !found.at) {
		// Not there: taken out of the queue, it never lands in postmaster's mailbox later (nothing left for the next check).
		const dropped = await dropQueued(ctx, `${SELFTEST_LOCAL}@${t.domain}`);
		if (dropped) await forgetPending(ctx.root, t.stateDir, token);
		const queued = dropped ? '; it was still queued (now removed from the queue)' : '';
		if ('error' in found) return unknown(`the test message was accepted; looking for it failed: ${found.error}${queued}`, 'check that Dovecot runs (doveadm search)');
		return failed(`the test message was accepted but not delivered to postmaster@${t.domain} within ${limits.delivery / 1000} s${queued}`, 'the mail log (smtpd, dovecot lmtp) says why');
	}
	const deliveredMs = Date.now() - t0;
	try {
		const message = await fetchMessage(ctx, found.at);
		const from = `${SELFTEST_LOCAL}@${t.domain}`;
		const judged = await Promise.all(t.ips.map((ip) => rspamdCheck(message, {ip, from, rcpt: `postmaster@${t.domain}`, helo: t.hostname, hostname: t.hostname}, limits.rspamd)));
		if (judged.some((j) => j.skipped)) return unknown('Rspamd skipped the test message (is_skipped): no verdict', 'check the settings of Rspamd');
		const dkim = dkimPart(judged[0]!.symbols, signatureOf(message));
		const spf = judged.map((j, i) => spfPart(j.symbols, t.ips[i]!, t.domain));
		const dmarc = judged.map((j) => dmarcPart(j.symbols, t.domain)).find((p) => p.status !== 'pass') ?? dmarcPart(judged[0]!.symbols, t.domain);
		const removed = await expunge(ctx, found.at, SELFTEST_HEADER, token);
		if (removed) await forgetPending(ctx.root, t.stateDir, token);
		return selftestRow(dkim, spf, dmarc, {to: `postmaster@${t.domain}`, deliveredMs, removed});
	} catch (error) {
		if (await expunge(ctx, found.at, SELFTEST_HEADER, token)) await forgetPending(ctx.root, t.stateDir, token);
		return unknown(`the test message arrived but could not be judged: ${(error as Error).message}`, 'check that rspamd runs and answers on localhost:11333 (and doveadm fetch)');
	}
}

/** The self-test row. Root only (it changes smtpd's tables for a moment); another mailwizard running: unknown. */
export async function selftestRows(ctx: SelfCtx, t: SelftestTarget): Promise<Row[]> {
	if (process.getuid?.() !== 0) return [unknown('the self-test changes smtpd tables for a moment: it needs root', 'run check as root')];
	if (!t.ips.length) return [unknown('no published address to judge the test message from')];
	await mkdir(onRoot(ctx.root, t.stateDir), {recursive: true, mode: 0o700});
	let release: () => void;
	try {
		release = lock(onRoot(ctx.root, t.stateDir));
	} catch (error) {
		return [unknown(`self-test skipped: ${(error as Error).message.split(':')[0]}`, 'run check again once it has ended')];
	}
	try {
		return [await selftestLocked(ctx, t)];
	} finally {
		release();
	}
}
