// Spam into Junk, and users teaching Rspamd: Dovecot's Sieve (Debian's dovecot-sieve).
// - A global script runs before any user script at delivery (LMTP): a message filter-rspamd
//   marked `X-Spam: yes` (Rspamd's "add header" verdict) is filed into Junk.
// - IMAPSieve: a message copied or moved into Junk is piped to `rspamc learn_spam`; out of
//   Junk (anywhere but Trash) to `rspamc learn_ham`, as Rspamd's documentation describes.
// The Dovecot part is a fragment appended to the end of /etc/dovecot/dovecot.conf (the
// single file templates/dovecot.ts renders; conf.d/ is not read), in either dialect.
import type {DovecotDialect} from '../source/platform/profile.ts';

export const SIEVE_PATHS = {
	/** Global scripts: root-owned, readable by vmail; compiled with sievec when written. */
	dir: '/etc/dovecot/sieve',
	spamToJunk: '/etc/dovecot/sieve/spam-to-junk.sieve',
	reportSpam: '/etc/dovecot/sieve/report-spam.sieve',
	reportHam: '/etc/dovecot/sieve/report-ham.sieve',
	/** sieve_pipe_bin_dir: the only programs a Sieve `pipe` may run (mode 0755, root-owned). */
	pipeDir: '/etc/dovecot/sieve-pipe',
	learnSpam: '/etc/dovecot/sieve-pipe/rspamd-learn-spam',
	learnHam: '/etc/dovecot/sieve-pipe/rspamd-learn-ham',
} as const;

/** The header filter-rspamd adds on Rspamd's "add header" action (filter-rspamd.go: `X-Spam: yes`). */
export const SPAM_HEADER = 'X-Spam';

/** The global before-script: spam goes to Junk (created if missing); nothing else is touched. */
export function spamToJunkSieve(): string {
	return `# Managed by mailwizard. Runs before each user's own Sieve script at delivery.
require ["fileinto", "mailbox"];

# filter-rspamd writes "${SPAM_HEADER}: yes" when Rspamd's verdict is "add header".
# (:is compares case-insensitively: "Yes" from another filter matches too.)
if header :is "${SPAM_HEADER}" "yes" {
  fileinto :create "Junk";
  stop;
}
`;
}

/** IMAPSieve, into Junk: learn as spam. */
export function reportSpamSieve(): string {
	return `# Managed by mailwizard. A message copied or moved into Junk teaches Rspamd: spam.
require ["vnd.dovecot.pipe", "copy", "imapsieve"];

pipe :copy "${basename(SIEVE_PATHS.learnSpam)}";
`;
}

/** IMAPSieve, out of Junk: learn as ham, unless it goes to the Trash. */
export function reportHamSieve(): string {
	return `# Managed by mailwizard. A message moved out of Junk teaches Rspamd: not spam.
require ["vnd.dovecot.pipe", "copy", "imapsieve", "environment", "variables"];

if environment :matches "imap.mailbox" "*" {
  set "mailbox" "\${1}";
}
# Deleting spam from Junk is not a verdict.
if string "\${mailbox}" "Trash" {
  stop;
}
pipe :copy "${basename(SIEVE_PATHS.learnHam)}";
`;
}

/**
 * The pipe programs (run as vmail). rspamc talks to Rspamd's controller on loopback, which
 * Debian's Rspamd trusts without a password from 127.0.0.1 (secure_ip).
 */
export function learnScript(kind: 'spam' | 'ham'): string {
	return `#!/bin/sh
# Managed by mailwizard. The message arrives on stdin (Sieve pipe from IMAPSieve).
exec /usr/bin/rspamc --connect 127.0.0.1:11334 learn_${kind} >/dev/null
`;
}

function basename(p: string): string {
	return p.slice(p.lastIndexOf('/') + 1);
}

function sieve23(): string {
	return `
# ---- Sieve (mailwizard): spam into Junk, and Junk moves teach Rspamd.
protocol lmtp {
  mail_plugins = $mail_plugins sieve
}

protocol imap {
  mail_plugins = $mail_plugins imap_sieve
}

plugin {
  sieve_before = ${SIEVE_PATHS.spamToJunk}
  sieve_plugins = sieve_imapsieve sieve_extprograms
  sieve_global_extensions = +vnd.dovecot.pipe
  sieve_pipe_bin_dir = ${SIEVE_PATHS.pipeDir}

  # Into Junk (a MOVE is a COPY here): learn spam.
  imapsieve_mailbox1_name = Junk
  imapsieve_mailbox1_causes = COPY
  imapsieve_mailbox1_before = file:${SIEVE_PATHS.reportSpam}

  # Out of Junk, anywhere: learn ham (the script skips Trash).
  imapsieve_mailbox2_name = *
  imapsieve_mailbox2_from = Junk
  imapsieve_mailbox2_causes = COPY
  imapsieve_mailbox2_before = file:${SIEVE_PATHS.reportHam}
}
`;
}

function sieve24(): string {
	return `
# ---- Sieve (mailwizard): spam into Junk, and Junk moves teach Rspamd.
protocol lmtp {
  mail_plugins {
    sieve = yes
  }
}

protocol imap {
  mail_plugins {
    imap_sieve = yes
  }
}

sieve_script spam_to_junk {
  type = before
  cause = delivery
  path = ${SIEVE_PATHS.spamToJunk}
}

sieve_plugins {
  sieve_imapsieve = yes
  sieve_extprograms = yes
}

sieve_global_extensions {
  vnd.dovecot.pipe = yes
}

sieve_pipe_bin_dir = ${SIEVE_PATHS.pipeDir}

# Into Junk (a MOVE is a copy here): learn spam.
mailbox Junk {
  sieve_script report_spam {
    type = before
    cause = copy
    path = ${SIEVE_PATHS.reportSpam}
  }
}

# Out of Junk, anywhere: learn ham (the script skips Trash).
imapsieve_from Junk {
  sieve_script report_ham {
    type = before
    cause = copy
    path = ${SIEVE_PATHS.reportHam}
  }
}
`;
}

/** Appended to the end of dovecot.conf (after everything DOVECOT_CONF renders). */
export const DOVECOT_SIEVE_CONF: Record<DovecotDialect, () => string> = {'2.3': sieve23, '2.4': sieve24};

/** Every file the Sieve stage writes, with its mode (the .sieve files are then compiled with sievec). */
export function sieveFiles(): ReadonlyArray<{path: string; content: string; mode: number}> {
	return [
		{path: SIEVE_PATHS.spamToJunk, content: spamToJunkSieve(), mode: 0o644},
		{path: SIEVE_PATHS.reportSpam, content: reportSpamSieve(), mode: 0o644},
		{path: SIEVE_PATHS.reportHam, content: reportHamSieve(), mode: 0o644},
		{path: SIEVE_PATHS.learnSpam, content: learnScript('spam'), mode: 0o755},
		{path: SIEVE_PATHS.learnHam, content: learnScript('ham'), mode: 0o755},
	];
}
