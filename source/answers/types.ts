// The two shapes of the answers: the file form (what the operator writes, what the state
// stores, without secrets) and Answers (validated, normalized, what stages read).
// validateAnswers (validate.ts) is the only way from the first to the second.

/** Control characters (C0, DEL, C1) shown as \xNN: a message never carries a raw escape sequence. */
export function visible(s: string): string {
	return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** An answer that cannot be used: `key: message`, the key as written in the answers file. */
export class AnswersError extends Error {
	readonly key: string;
	constructor(key: string, message: string) {
		super(`${visible(key)}: ${visible(message)}`);
		this.key = visible(key);
		this.name = 'AnswersError';
	}
}

export type User = {
	/** Local part, lower case: "alice" for alice@example.com. */
	readonly name: string;
	readonly passwordFile?: string;
	/** A Dovecot hash ("{ARGON2ID}$argon2id$..." or "{CRYPT}$y$..."), given instead of a password. */
	readonly passwordHash?: string;
	/** A crypt(3) hash for smtpd ("$y$...", "$6$..."); derived from passwordHash when that is a crypt hash. */
	readonly smtpdHash?: string;
	/** The password itself: only in memory (typed in the TUI or read from passwordFile at the run's edge). */
	readonly password?: string;
};

/** tls.acme: the ACME account contact, the directory (Let's Encrypt when not given), a CA bundle for a private one. */
export type AcmeAnswers = {readonly email: string; readonly directory: string; readonly caBundle?: string};

/** bans: fail2ban's jails; window and ban are fail2ban durations (600, 10m, 1h). */
export type BanAnswers = {readonly maxFailures: number; readonly window: string; readonly ban: string};

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';
export type MtaStsMode = 'testing' | 'enforce' | 'none';

export type Answers = {
	readonly domain: string;
	readonly hostname: string;
	readonly ipv4?: string;
	readonly ipv6?: string;
	/**
	 * The certificate the daemons present. With `acme`, certbot obtains and renews it and
	 * cert/key are certbot's live links for the host name (/etc/letsencrypt/live/HOST/).
	 */
	readonly tls: {readonly cert: string; readonly key: string; readonly acme?: AcmeAnswers};
	/** Serve https://autoconfig.DOMAIN/mail/config-v1.1.xml (only with ACME; on by default there). */
	readonly autoconfig: boolean;
	readonly users: readonly User[];
	/** local part -> targets (local user names or full external addresses). A null-prototype map. */
	readonly aliases: Readonly<Record<string, readonly string[]>>;
	readonly catchAll?: string;
	/** selector signs; also: selectors of a key rotation whose records stay published (from the state, never the file). */
	readonly dkim: {readonly selector: string; readonly also?: readonly string[]};
	readonly dmarc: {readonly policy: DmarcPolicy; readonly rua?: string; readonly ruf?: string};
	readonly extraDomains: readonly string[];
	readonly mtaSts?: {readonly mode: MtaStsMode};
	readonly tlsrpt?: {readonly rua: string};
	/** Consent to remove another MTA (exim4, postfix) that holds port 25. */
	readonly removeMta: boolean;
	/** Rspamd greylists first mail from unknown senders (off by default). */
	readonly greylisting: boolean;
	/** fail2ban bans password guessers; false: no bans. */
	readonly bans: BanAnswers | false;
	/** Addresses and networks never banned (besides localhost and the server's own). */
	readonly ignore: readonly string[];
};

/** One user as the answers file writes it. */
export type FileUser = {
	name: string;
	password_file?: string;
	password_hash?: string;
	smtpd_hash?: string;
};

/** The answers file's keys (README "Answers file"); the state stores this form without hashes. */
export type FileForm = {
	domain: string;
	hostname: string;
	ipv4?: string;
	ipv6?: string;
	tls: {cert: string; key: string} | {acme: {email: string; directory?: string; ca_bundle?: string}};
	autoconfig?: boolean;
	users: FileUser[];
	aliases?: Record<string, string | string[]>;
	catch_all?: string;
	dkim?: {selector?: string};
	dmarc?: {policy?: string; rua?: string; ruf?: string};
	extra_domains?: string[];
	mta_sts?: {mode?: string};
	tlsrpt?: {rua: string};
	remove_mta?: boolean;
	greylisting?: boolean;
	bans?: false | {max_failures?: number; window?: string | number; ban?: string | number};
	ignore?: string[];
};

export const FILE_KEYS: readonly string[] = [
	'domain',
	'hostname',
	'ipv4',
	'ipv6',
	'tls',
	'autoconfig',
	'users',
	'aliases',
	'catch_all',
	'dkim',
	'dmarc',
	'extra_domains',
	'mta_sts',
	'tlsrpt',
	'remove_mta',
	'greylisting',
	'bans',
	'ignore',
];

export type LoadOptions = {
	/** Fill ipv4 when absent (the host's public address). */
	readonly defaultIpv4?: () => string | undefined;
	/**
	 * Saved answers of an interactive run: a typed password was never saved, and the state
	 * holds no hash, so a user may have neither password_file nor password_hash. The hashes
	 * on disk are kept; a step that would need the password stops with a clear message instead.
	 */
	readonly passwordOptional?: boolean;
};
