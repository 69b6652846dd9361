// /etc/dovecot/dovecot.conf: the guide's single file, in both dialects.
// The dialect is data: one renderer per Dovecot configuration language.
import type {DovecotDialect} from '../source/platform/profile.ts';

export type DovecotVars = {
	readonly domain: string;
	readonly cert: string;
	readonly key: string;
	readonly usersFile: string;
	readonly vmailHome: string; // /var/vmail
	readonly scheme: string; // ARGON2ID | SHA512-CRYPT
	readonly firstValidUid: number;
};

const HEADER = `# Managed by mailwizard. Changes here are replaced on the next run:
# change the answers instead. One file, as in the guide; conf.d/ is not read.
`;

const MAILBOXES = `namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = create
  }
}`;

const SERVICES = `service lmtp {
  # OpenSMTPD delivers through its mail.lmtp helper, which runs as opensmtpd:opensmtpd
  # (seen in the lab: setresuid to opensmtpd, although its log says user=vmail). Only
  # vmail and the group opensmtpd may connect: any other local account that could
  # would put mail into any mailbox, past smtpd and Rspamd.
  unix_listener lmtp {
    user = vmail
    group = opensmtpd
    mode = 0660
  }
}

service imap-login {
  # IMAPS only: port 143 is closed, so no password ever crosses the network in clear.
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}`;

function dovecot23(v: DovecotVars): string {
	return `${HEADER}
protocols = imap lmtp

ssl = required
ssl_cert = <${v.cert}
ssl_key = <${v.key}
ssl_min_protocol = TLSv1.2
ssl_prefer_server_ciphers = yes
disable_plaintext_auth = yes

# "Alice@Example.com", "alice@example.com" and "alice" are the same user.
auth_username_format = %Lu
auth_mechanisms = plain login

mail_uid = vmail
mail_gid = vmail
first_valid_uid = ${v.firstValidUid}
mail_location = maildir:~/Maildir

${MAILBOXES}

passdb {
  driver = passwd-file
  args = scheme=${v.scheme} username_format=%n ${v.usersFile}
}

userdb {
  driver = passwd-file
  args = username_format=%n ${v.usersFile}
  override_fields = uid=vmail gid=vmail home=${v.vmailHome}/%n
}

${SERVICES}
`;
}

function dovecot24(v: DovecotVars): string {
	return `dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.0
${HEADER}
protocols = imap lmtp

ssl = required
ssl_server_cert_file = ${v.cert}
ssl_server_key_file = ${v.key}
ssl_min_protocol = TLSv1.2
ssl_server_prefer_ciphers = server
auth_allow_cleartext = no

# "alice" alone is alice@${v.domain}: the same user and mailbox.
auth_default_domain = ${v.domain}
auth_mechanisms = plain login

mail_uid = vmail
mail_gid = vmail
first_valid_uid = ${v.firstValidUid}
mail_driver = maildir
mail_home = ${v.vmailHome}/%{user | username | lower}
mail_path = ~/Maildir

${MAILBOXES}

passdb passwd-file {
  passwd_file_path = ${v.usersFile}
  default_password_scheme = ${v.scheme}
  auth_username_format = %{user | username | lower}
}

userdb passwd-file {
  passwd_file_path = ${v.usersFile}
  auth_username_format = %{user | username | lower}
  fields {
    uid = vmail
    gid = vmail
    home = ${v.vmailHome}/%{user | username | lower}
  }
}

${SERVICES}
`;
}

export const DOVECOT_CONF: Record<DovecotDialect, (v: DovecotVars) => string> = {'2.3': dovecot23, '2.4': dovecot24};

/** Checks beyond the parser for a 2.4 file (debian13.md: traps that pass doveconf -n). */
export function lint24(text: string): string[] {
	const problems: string[] = [];
	text.split('\n').forEach((line, i) => {
		if (/^\s*#/.test(line)) return;
		if (/%[a-zA-Z]/.test(line.replace(/%\{[^}]*\}/g, ''))) problems.push(`line ${i + 1}: one-letter % variable (taken literally by Dovecot 2.4): ${line.trim()}`);
		if (/=\s*</.test(line)) problems.push(`line ${i + 1}: "= <" (a 2.3 habit; 2.4 wants a plain path): ${line.trim()}`);
	});
	return problems;
}

/** The users file: user:hash:uid:gid::home — uid/gid/home come from the userdb. */
export function usersFile(users: ReadonlyArray<{name: string; hash: string}>): string {
	return `${users.map((u) => `${u.name}:${u.hash}::::::`).join('\n')}\n`;
}
