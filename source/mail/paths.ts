// Where the mail system keeps its files: read by the stages that write them and by the commands.
export const VMAIL_HOME = '/var/vmail';
export const DOVECOT_PATHS = {conf: '/etc/dovecot/dovecot.conf', users: '/etc/dovecot/users'} as const;
export const DKIM_DIR = '/var/lib/rspamd/dkim';
export const RSPAMD_DKIM_CONF = '/etc/rspamd/local.d/dkim_signing.conf';
export const FILTER_RSPAMD = '/usr/libexec/opensmtpd/filter-rspamd';
export const LMTP_SOCKET = '/var/run/dovecot/lmtp';
