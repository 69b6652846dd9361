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

/** Dovecot's crypt(3) schemes: libc verifies them, as Dovecot and smtpd do. */
const CRYPT_HASH = /^(?:\{(?:CRYPT|SHA512-CRYPT|SHA256-CRYPT|BLF-CRYPT|MD5-CRYPT)\})?(\$[0-9a-z]+\$\S+)$/i;

// perl is Essential on Debian (perl-base) and its crypt() is libc's crypt(3) (libxcrypt: $y$,
// $6$, $2b$...). The password and the hash come on stdin, NUL-separated: never in argv.
const PERL_CRYPT = 'binmode STDIN; local $/; my ($p, $h) = split /\\0/, <STDIN>, 2; my $c = crypt($p, $h); print((defined $c && length $h && $c eq $h) ? "verified\\n" : "mismatch\\n")';

/** Verifies a crypt(3) hash ("$6$...", "$y$...") without putting it in a process's arguments. */
export async function verifyCrypt(ctx: Pick<Ctx, 'exec'>, hash: string, password: string): Promise<boolean> {
	if (!(await ctx.exec.which('perl'))) return false;
	const r = await ctx.exec.run({argv: ['perl', '-e', PERL_CRYPT], stdin: `${password}\0${hash}`, secrets: [password, hash]});
	return r.exitCode === 0 && r.stdout.trim() === 'verified';
}

const ARGON2_HASH = /^\{ARGON2I(?:D)?\}(\$argon2id?\$\S+)$/i;

// Dovecot's ARGON2 schemes are libsodium's crypto_pwhash_str (libsodium is a dependency of
// dovecot-core); python3's ctypes calls its verifier with the password and hash from stdin.
const PY_ARGON2 = [
	'import ctypes, sys',
	'p, _, h = sys.stdin.buffer.read().partition(b"\\0")',
	's = ctypes.CDLL("libsodium.so.23")',
	'ok = s.sodium_init() >= 0 and len(h) < 128 and s.crypto_pwhash_str_verify(ctypes.c_char_p(h), ctypes.c_char_p(p), ctypes.c_ulonglong(len(p))) == 0',
	'print("verified" if ok else "mismatch")',
].join('\n');

/** Verifies an ARGON2 hash from stdin; undefined when python3 or libsodium is not there. */
async function verifyArgon2(ctx: Ctx, hash: string, password: string): Promise<boolean | undefined> {
	if (!(await ctx.exec.which('python3'))) return undefined;
	const r = await ctx.exec.run({argv: ['python3', '-c', PY_ARGON2], stdin: `${password}\0${hash}`, secrets: [password, hash]});
	const out = r.stdout.trim();
	return r.exitCode === 0 && (out === 'verified' || out === 'mismatch') ? out === 'verified' : undefined;
}

/**
 * Whether a Dovecot hash matches the password, the hash on stdin: crypt(3) schemes through
 * libc, ARGON2 through libsodium. Only without python3 (or for another scheme) is it
 * "doveadm pw -t HASH", which shows the hash in the process arguments (issue 14 #4).
 */
export async function verifyDovecotHash(ctx: Ctx, hash: string, password: string): Promise<boolean> {
	const crypt = CRYPT_HASH.exec(hash);
	if (crypt) return verifyCrypt(ctx, crypt[1]!, password);
	const argon2 = ARGON2_HASH.exec(hash);
	const verified = argon2 ? await verifyArgon2(ctx, argon2[1]!, password) : undefined;
	if (verified !== undefined) return verified;
	// doveadm -O: read no configuration. doveadm parses dovecot.conf even for "pw", so a
	// file Dovecot cannot load (a 2.3 file after the upgrade to 2.4) would break hashing.
	if (!(await ctx.exec.which('doveadm'))) return false;
	const r = await ctx.exec.run({argv: ['doveadm', '-O', 'pw', '-t', hash], stdin: `${password}\n`, setsid: true, secrets: [password, hash]});
	return r.exitCode === 0 && /verified/i.test(r.stdout + r.stderr);
}

/** A new hash; doveadm verifies it itself (-V: "(verified)"), so the hash is never an argument. */
export async function dovecotHash(ctx: Ctx, scheme: string, password: string): Promise<string> {
	const r = await ctx.exec.run({argv: ['doveadm', '-O', 'pw', '-s', scheme, '-V'], stdin: `${password}\n${password}\n`, setsid: true, secrets: [password]});
	const last = r.stdout.trim().split('\n').pop()?.trim() ?? '';
	const hash = last.replace(/\s*\(verified\)$/, '');
	if (r.exitCode !== 0 || !hash.startsWith('{')) throw new Error(`doveadm pw -s ${scheme} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
	// doveadm pw exits 0 even when it hashed nothing: without "(verified)" nothing is written.
	if (!/\(verified\)$/.test(last)) throw new Error(`doveadm pw -s ${scheme} -V did not verify the hash it made; nothing was written`);
	return hash;
}

export async function smtpdHash(ctx: Pick<Ctx, 'exec'>, password: string): Promise<string> {
	const r = await ctx.exec.run({argv: ['smtpctl', 'encrypt'], stdin: `${password}\n`, secrets: [password]});
	const hash = r.stdout.trim();
	if (r.exitCode !== 0 || !hash.startsWith('$')) throw new Error(`smtpctl encrypt failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
	// smtpd checks logins with libc crypt(3): the same function verifies the new hash.
	if (!(await verifyCrypt(ctx, hash, password))) throw new Error('smtpctl encrypt produced a hash that does not verify; nothing was written');
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
