import type {Answers} from '../source/answers.ts';
import {readText} from '../source/engine/files.ts';
import type {Action, Cmd, Step} from '../source/engine/types.ts';
import {DOVECOT_PATHS, VMAIL_HOME} from '../source/mail/paths.ts';
import {chooseHash, dovecotHash, parseHashes, passwordScheme, verifyDovecotHash, type HashPlan} from '../source/platform/passwords.ts';
import type {Profile} from '../source/platform/profile.ts';
import {DOVECOT_CONF, lint24, usersFile} from '../templates/dovecot.ts';
import {DOVECOT_AUTH_LOG} from '../templates/fail2ban.ts';
import {DOVECOT_SIEVE_CONF} from '../templates/sieve.ts';

export type DovecotFacts = {
	readonly scheme: 'ARGON2ID' | 'SHA512-CRYPT';
	readonly hashes: ReadonlyArray<{name: string} & HashPlan>;
};

/**
 * The guide's dovecot.conf, then Sieve (spam into Junk, Junk moves teach Rspamd: the scripts are the
 * spam stage's) and, with bans, one log line per failed password for fail2ban (issue 18).
 */
export function dovecotConf(a: Answers, profile: Profile, scheme: string): string {
	const guide = DOVECOT_CONF[profile.dovecot]({domain: a.domain, cert: a.tls.cert, key: a.tls.key, usersFile: DOVECOT_PATHS.users, vmailHome: VMAIL_HOME, scheme, firstValidUid: 500});
	return guide + DOVECOT_SIEVE_CONF[profile.dovecot]() + (a.bans ? DOVECOT_AUTH_LOG : '');
}

/** After (re)start: every user resolves to the home the configuration promises. */
export function userChecks(a: Answers): Cmd[] {
	return a.users.map((u) => ({
		argv: ['sh', '-c', `test "$(doveadm user -f home '${u.name}@${a.domain}')" = '${VMAIL_HOME}/${u.name}'`],
	}));
}

export const dovecot: Step<DovecotFacts> = {
	id: 'dovecot',
	title: 'Dovecot: IMAPS and LMTP delivery into Maildir',
	summary: "writes the guide's single dovecot.conf (with Sieve) and the users file (hashes from doveadm pw)",
	packages: {'12': ['dovecot-core', 'dovecot-imapd', 'dovecot-lmtpd', 'dovecot-sieve'], '13': ['dovecot-core', 'dovecot-imapd', 'dovecot-lmtpd', 'dovecot-sieve']},
	daemons: [{service: 'dovecot', exe: '/usr/sbin/dovecot'}],
	passwords: true,
	async facts(ctx, a) {
		const scheme = passwordScheme(ctx.host.memBytes);
		const existing = parseHashes(await readText(ctx.root, DOVECOT_PATHS.users), ':');
		const haveDoveadm = await ctx.exec.which('doveadm');
		const hashes = await Promise.all(
			a.users.map(async (u) => {
				const plan = await chooseHash(
					ctx,
					haveDoveadm ? u : {...u, password: undefined},
					u.passwordHash,
					existing.get(u.name),
					(p) => dovecotHash(ctx, scheme, p),
					(h, p) => verifyDovecotHash(ctx, h, p),
				);
				return {name: u.name, ...plan};
			}),
		);
		return {scheme, hashes};
	},
	plan(a, f, profile) {
		const conf = dovecotConf(a, profile, f.scheme);
		const problems = profile.dovecot === '2.4' ? lint24(conf) : [];
		if (problems.length) throw new Error(`internal: the Dovecot 2.4 configuration has 2.3 habits:\n${problems.join('\n')}`);
		const hashes = f.hashes.map((h) => h.hash);
		const actions: Action[] = [
			{
				kind: 'file',
				path: DOVECOT_PATHS.users,
				content: usersFile(f.hashes),
				secrets: hashes,
				sensitive: 'colon',
				mode: 0o640,
				owner: 'root',
				group: 'dovecot',
				// No restart: Dovecot reads a passwd-file again when it changes (no auth cache here),
				// so adding a user or a password never interrupts the IMAP sessions.
				why: `the mail users (${a.users.map((u) => u.name).join(', ')}), password hashes only`,
			},
			{
				kind: 'file',
				path: DOVECOT_PATHS.conf,
				content: conf,
				mode: 0o644,
				validate: ['doveconf', '-n', '-c', '%s'],
				restarts: 'dovecot',
				why: `Dovecot ${profile.dovecot} configuration: IMAPS only, LMTP for OpenSMTPD, mail in ${VMAIL_HOME}/USER/Maildir, Sieve (spam into Junk)${a.bans ? ', failed logins logged for fail2ban' : ''}`,
			},
			{kind: 'service', name: 'dovecot', op: 'restart', why: 'load the new configuration', verify: userChecks(a)},
		];
		return actions;
	},
};
