// /etc/smtpd.conf and its tables: the guide's configuration, with recipients
// checked at RCPT time (no backscatter) and the SRS keys kept in a root-only file.

export type SmtpdVars = {
	readonly hostname: string;
	readonly domains: readonly string[];
	readonly cert: string;
	readonly key: string;
	/** Interface to listen on (the one holding the public address), or undefined: every address. */
	readonly iface?: string;
	readonly catchAll: boolean;
	readonly filterRspamd: string;
	readonly lmtpSocket: string;
};

export const SMTPD_PATHS = {
	conf: '/etc/smtpd.conf',
	srs: '/etc/smtpd/srs.conf',
	passwds: '/etc/smtpd/passwds',
	virtuals: '/etc/smtpd/virtuals',
	recipients: '/etc/smtpd/recipients',
	domains: '/etc/smtpd/domains',
	mailname: '/etc/mailname',
} as const;

export function smtpdConf(v: SmtpdVars): string {
	const on = v.iface ? `listen on ${v.iface}` : 'listen on 0.0.0.0';
	const pki = `pki "${v.hostname}"`;
	return `# Managed by mailwizard. Changes here are replaced on the next run:
# change the answers instead. Tables under /etc/smtpd/ are reloaded with
# "smtpctl update table NAME".

pki "${v.hostname}" cert "${v.cert}"
pki "${v.hostname}" key "${v.key}"

# Sender Rewriting Scheme keys (root-only file): forwarded mail keeps passing SPF.
include "${SMTPD_PATHS.srs}"

table domains file:${SMTPD_PATHS.domains}
table passwds file:${SMTPD_PATHS.passwds}
table virtuals file:${SMTPD_PATHS.virtuals}
table recipients file:${SMTPD_PATHS.recipients}

# Clients without (matching) reverse DNS are refused at connect.
filter "rdns" phase connect match !rdns disconnect "550 DNS error"
filter "fcrdns" phase connect match !fcrdns disconnect "550 DNS error"
# Rspamd: spam checks inbound, DKIM signing outbound.
filter "rspamd" proc-exec "${v.filterRspamd}"

# Inbound from other servers: TLS offered, never required.
${on} port 25 tls ${pki} hostname "${v.hostname}" filter { "rdns", "fcrdns", "rspamd" }
# Submission from clients: TLS and authentication required.
${on} port 465 smtps ${pki} hostname "${v.hostname}" auth <passwds> filter "rspamd"
${on} port 587 tls-require ${pki} hostname "${v.hostname}" auth <passwds> filter "rspamd"
${
	v.iface
		? `# Mail from programs on this server (cron, monitoring).
listen on lo port 25 hostname "${v.hostname}"
`
		: ''
}
action "RECV" lmtp "${v.lmtpSocket}" rcpt-to virtual <virtuals>
action "SEND" relay helo "${v.hostname}" srs

${
	v.catchAll
		? `# catch-all: every address of these domains is accepted (and spam to random names with it).
match from any for domain <domains> action "RECV"`
		: `# Only real recipients (users and aliases): anything else is refused at RCPT.
match from any for domain <domains> rcpt-to <recipients> action "RECV"`
}
match from any auth for any action "SEND"
match from local for any action "SEND"
`;
}

export function srsConf(key: string, backup?: string): string {
	return `srs key "${key}"\n${backup ? `srs key backup "${backup}"\n` : ''}`;
}

export type VirtualEntry = {readonly address: string; readonly targets: readonly string[]};

export function tableFile(lines: readonly string[]): string {
	return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
