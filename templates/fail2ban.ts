// Password guessers banned: Debian's fail2ban, a jail for Dovecot (IMAP logins) and one for
// OpenSMTPD (AUTH on 465/587). Our own two filters, because Debian's do not fit:
// - fail2ban (1.0.2 in Debian 12, 1.1.0 in 13) ships no OpenSMTPD filter at all;
// - its dovecot filter matches none of Dovecot 2.4's failure lines ("Login aborted: …",
//   "auth(user,ip,sasl:plain)<session>: passwd-file: Password mismatch"), and on 2.3 it counts
//   one failed login twice when auth_verbose is on.
// Ours count each failed password once, on 2.3 and 2.4: Dovecot logs one line per attempt
// with `auth_verbose = yes` (DOVECOT_AUTH_LOG). OpenSMTPD logs the client's address once per
// session ("connected") and the failures later under the same session id: the filter ties
// them together (fail2ban's multi-line id, F-MLFID).

export type Bans = {readonly maxFailures: number; readonly window: string; readonly ban: string};

/** Defaults from issue 18: 10 failures in 10 minutes ban an address for an hour. */
export const DEFAULT_BANS: Bans = {maxFailures: 10, window: '10m', ban: '1h'};

/** Where fail2ban reads the daemons: the journal (systemd) or the syslog files (rsyslog). */
export type LogSource = 'journal' | 'files';

export const FAIL2BAN_PATHS = {
	jail: '/etc/fail2ban/jail.d/mailwizard.local',
	dovecotFilter: '/etc/fail2ban/filter.d/mailwizard-dovecot.conf',
	smtpdFilter: '/etc/fail2ban/filter.d/mailwizard-opensmtpd.conf',
	/** Debian's rsyslog writes the mail facility here (smtpd and Dovecot both log to syslog). */
	mailLog: '/var/log/mail.log',
} as const;

export const JAILS = ['mailwizard-dovecot', 'mailwizard-opensmtpd'] as const;

/** The ports a banned address can no longer reach (SMTP, submissions, submission, IMAPS). */
export const BANNED_PORTS = [25, 465, 587, 993] as const;

/** One line per failed password in Dovecot's log (Dovecot 2.3 and 2.4; appended to dovecot.conf). */
export const DOVECOT_AUTH_LOG = `
# ---- fail2ban (mailwizard): one log line per failed password, with the client's address.
auth_verbose = yes
`;

export function dovecotFilter(): string {
	return `# Managed by mailwizard. Failed passwords at Dovecot's auth, one line per attempt
# (auth_verbose = yes). 2.3: "auth: passwd-file(alice,192.0.2.7,<sess>): Password mismatch"
# 2.4: "auth(alice@example.org,192.0.2.7,sasl:plain)<sess>: passwd-file: Password mismatch"
[INCLUDES]
before = common.conf

[Definition]
_daemon = dovecot
prefregex = ^%(__prefix_line)s<F-CONTENT>auth.+</F-CONTENT>$
failregex = ^auth: passwd-file\\(<F-USER>[^,)]*</F-USER>,<HOST>(?:,[^)]*)?\\): (?:Password mismatch|unknown user)\\s*$
            ^auth\\(<F-USER>[^,)]*</F-USER>,<HOST>(?:,[^)]*)?\\)(?:<[^>]*>)?: passwd-file: (?:Password mismatch|unknown user)\\s*$
ignoreregex =
journalmatch = _SYSTEMD_UNIT=dovecot.service
`;
}

export function smtpdFilter(): string {
	return `# Managed by mailwizard. Failed AUTH at OpenSMTPD (465/587). The address is on the
# session's "connected" line; each failure comes later under the same session id:
#   7a1c… smtp connected address=192.0.2.7 host=<unknown>
#   7a1c… smtp authentication user=alice result=permfail
[INCLUDES]
before = common.conf

[Definition]
_daemon = smtpd
prefregex = ^%(__prefix_line)s<F-MLFID>[0-9a-f]{16}</F-MLFID> smtp <F-CONTENT>.+</F-CONTENT>$
failregex = ^<F-NOFAIL>connected</F-NOFAIL> address=<ADDR> host=\\S+$
            ^authentication user=<F-USER>\\S*</F-USER> result=permfail$
            ^<F-NOFAIL><F-MLFFORGET>disconnected</F-MLFFORGET></F-NOFAIL> reason=\\S+$
ignoreregex =
journalmatch = _SYSTEMD_UNIT=opensmtpd.service
`;
}

export type JailVars = {
	readonly bans: Bans;
	/** The server's own addresses: never banned. */
	readonly serverAddresses: readonly string[];
	/** More addresses or networks never banned (answer `ignore`). */
	readonly ignore: readonly string[];
	readonly logs: LogSource;
};

const DURATION = /^[1-9][0-9]*(s|m|h|d|w)?$/;

function checkJail(v: JailVars): void {
	if (!Number.isInteger(v.bans.maxFailures) || v.bans.maxFailures < 1) throw new Error(`bans.max_failures: a whole number >= 1, not ${v.bans.maxFailures}`);
	for (const [k, d] of [
		['window', v.bans.window],
		['ban', v.bans.ban],
	] as const) {
		if (!DURATION.test(d)) throw new Error(`bans.${k}: a duration like 10m, 1h, 1d, not ${JSON.stringify(d)}`);
	}
	for (const a of [...v.serverAddresses, ...v.ignore]) {
		if (!/^[0-9A-Fa-f:.]+(\/[0-9]{1,3})?$/.test(a)) throw new Error(`ignore: not an address or network: ${JSON.stringify(a)}`);
	}
}

function source(logs: LogSource): string {
	return logs === 'journal' ? 'backend = systemd' : `backend = auto\nlogpath = ${FAIL2BAN_PATHS.mailLog}`;
}

/** /etc/fail2ban/jail.d/mailwizard.local: read after Debian's defaults-debian.conf, so it wins. */
export function jailLocal(v: JailVars): string {
	checkJail(v);
	const ignore = ['127.0.0.0/8', '::1', ...v.serverAddresses, ...v.ignore].filter((a, i, all) => all.indexOf(a) === i);
	const ports = BANNED_PORTS.join(',');
	// Debian's sshd jail follows the same log source, or fail2ban may refuse to start
	// (no /var/log/auth.log without rsyslog; no journal without systemd).
	const sshd = v.logs === 'journal' ? 'backend = systemd' : 'backend = auto\nlogpath = %(sshd_log)s';
	return `# Managed by mailwizard. Changes here are replaced on the next run: change the answers
# (bans, ignore) instead. See and lift a ban:
#   fail2ban-client status mailwizard-dovecot
#   fail2ban-client set mailwizard-dovecot unbanip ADDRESS
[DEFAULT]
ignoreip = ${ignore.join(' ')}
maxretry = ${v.bans.maxFailures}
findtime = ${v.bans.window}
bantime = ${v.bans.ban}
banaction = nftables-multiport
banaction_allports = nftables-allports

[sshd]
${sshd}

[mailwizard-dovecot]
enabled = true
filter = mailwizard-dovecot
port = ${ports}
${source(v.logs)}

[mailwizard-opensmtpd]
enabled = true
filter = mailwizard-opensmtpd
port = ${ports}
${source(v.logs)}
`;
}

/** Every file the fail2ban stage writes. */
export function fail2banFiles(v: JailVars): ReadonlyArray<{path: string; content: string; mode: number}> {
	return [
		{path: FAIL2BAN_PATHS.dovecotFilter, content: dovecotFilter(), mode: 0o644},
		{path: FAIL2BAN_PATHS.smtpdFilter, content: smtpdFilter(), mode: 0o644},
		{path: FAIL2BAN_PATHS.jail, content: jailLocal(v), mode: 0o644},
	];
}
