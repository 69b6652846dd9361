// Password hashes, made by the daemons' own tools with the password on stdin,
// and verified before use (doveadm pw exits 0 even when it hashed nothing).
import type {User} from '../answers.ts';
import type {Ctx} from '../engine/types.ts';

/** ARGON2ID needs memory (64 MiB per hash); small machines get SHA512-CRYPT, as the guide says. */
export function passwordScheme(memBytes: number): 'ARGON2ID' | 'SHA512-CRYPT' {
	return memBytes >= 1024 * 1024 * 1024 ? 'ARGON2ID' : 'SHA512-CRYPT';
}

/** A stand-in that the file writer refuses (NUL): it can only ever be printed, masked. */
export const UNSET = '\u0000password-not-available\u0000';

// doveadm -O: read no configuration. doveadm parses dovecot.conf even for "pw", so a
// file Dovecot cannot load (a 2.3 file after the upgrade to 2.4) would break hashing.
export async function verifyDovecotHash(ctx: Ctx, hash: string, password: string): Promise<boolean> {
	if (!(await ctx.exec.which('doveadm'))) return false;
	const r = await ctx.exec.run({argv: ['doveadm', '-O', 'pw', '-t', hash], stdin: `${password}\n`, setsid: true, secrets: [password]});
	return r.exitCode === 0 && /verified/i.test(r.stdout + r.stderr);
}

export async function dovecotHash(ctx: Ctx, scheme: string, password: string): Promise<string> {
	const r = await ctx.exec.run({argv: ['doveadm', '-O', 'pw', '-s', scheme], stdin: `${password}\n${password}\n`, setsid: true, secrets: [password]});
	const hash = r.stdout.trim().split('\n').pop()?.trim() ?? '';
	if (r.exitCode !== 0 || !hash.startsWith('{')) throw new Error(`doveadm pw -s ${scheme} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
	if (!(await verifyDovecotHash(ctx, hash, password))) throw new Error(`doveadm pw -s ${scheme} produced a hash that does not verify; nothing was written`);
	return hash;
}

export async function smtpdHash(ctx: Ctx, password: string): Promise<string> {
	const r = await ctx.exec.run({argv: ['smtpctl', 'encrypt'], stdin: `${password}\n`, secrets: [password]});
	const hash = r.stdout.trim();
	if (r.exitCode !== 0 || !hash.startsWith('$')) throw new Error(`smtpctl encrypt failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
	// Dovecot's CRYPT scheme is libc crypt(3), the same function smtpd uses.
	if (!(await verifyDovecotHash(ctx, `{CRYPT}${hash}`, password))) throw new Error('smtpctl encrypt produced a hash that does not verify; nothing was written');
	return hash;
}

export type HashPlan = {readonly hash: string; readonly source: 'answers' | 'kept' | 'new' | 'unavailable'};

/**
 * The hash to write for a user: the one given in the answers; else the one on disk when
 * it still matches the password (or when the password is not known on this run); else a new one.
 */
export async function chooseHash(
	ctx: Ctx,
	user: User,
	given: string | undefined,
	existing: string | undefined,
	make: (password: string) => Promise<string>,
	verify: (hash: string, password: string) => Promise<boolean>,
): Promise<HashPlan> {
	if (given) return {hash: given, source: 'answers'};
	if (existing && (user.password === undefined || (await verify(existing, user.password)))) return {hash: existing, source: 'kept'};
	if (user.password === undefined) return {hash: UNSET, source: 'unavailable'};
	return {hash: await make(user.password), source: 'new'};
}

/** Parses "name:hash:..." (Dovecot users) or "name hash" (smtpd table) lines. */
export function parseHashes(text: string | undefined, sep: ':' | ' '): Map<string, string> {
	const out = new Map<string, string>();
	for (const line of (text ?? '').split('\n')) {
		if (!line.trim() || line.startsWith('#')) continue;
		const i = sep === ':' ? line.indexOf(':') : line.search(/\s/);
		if (i <= 0) continue;
		const rest = line.slice(i + 1).trim();
		out.set(line.slice(0, i), sep === ':' ? rest.split(':')[0]! : rest);
	}
	return out;
}
