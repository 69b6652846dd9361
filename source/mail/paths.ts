// Where the mail system keeps its files: read by the stages that write them and by the commands.
export const VMAIL_HOME = '/var/vmail';
export const DOVECOT_PATHS = {conf: '/etc/dovecot/dovecot.conf', users: '/etc/dovecot/users'} as const;
/** Only root writes here; Rspamd (_rspamd) reads the keys through the group. */
export const DKIM_DIR = '/etc/rspamd/dkim';
/** Where keys were kept before: a directory in /var/lib/rspamd, which the _rspamd user owns. */
export const OLD_DKIM_DIR = '/var/lib/rspamd/dkim';
export const RSPAMD_DKIM_CONF = '/etc/rspamd/local.d/dkim_signing.conf';
export const FILTER_RSPAMD = '/usr/libexec/opensmtpd/filter-rspamd';
export const LMTP_SOCKET = '/var/run/dovecot/lmtp';
