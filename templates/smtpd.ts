// /etc/smtpd.conf and its tables: the guide's configuration, with recipients
// checked at RCPT time (no backscatter) and the SRS keys kept in a root-only file.

export type SmtpdVars = {
	readonly hostname: string;
	readonly domains: readonly string[];
	readonly cert: string;
	readonly key: string;
	/** Interface to listen on (the one holding the public address), or undefined: every address. */
	readonly iface?: string;
	/** Without an interface: also listen on every IPv6 address (an AAAA is published for an address behind NAT). */
	readonly ipv6?: boolean;
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
	sendas: '/etc/smtpd/sendas',
	domains: '/etc/smtpd/domains',
	mailname: '/etc/mailname',
	aliases: '/etc/aliases',
} as const;

export function smtpdConf(v: SmtpdVars): string {
	const ons = v.iface ? [`listen on ${v.iface}`] : ['listen on 0.0.0.0', ...(v.ipv6 ? ['listen on ::'] : [])];
	const each = (rest: string) => ons.map((on) => `${on} ${rest}`).join('\n');
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
table sendas file:${SMTPD_PATHS.sendas}

# Clients without (matching) reverse DNS are refused at connect.
filter "rdns" phase connect match !rdns disconnect "550 DNS error"
filter "fcrdns" phase connect match !fcrdns disconnect "550 DNS error"
# Rspamd: spam checks inbound, DKIM signing outbound.
filter "rspamd" proc-exec "${v.filterRspamd}"

# Inbound from other servers: TLS offered, never required.
${each(`port 25 tls ${pki} hostname "${v.hostname}" filter { "rdns", "fcrdns", "rspamd" }`)}
# Submission from clients: TLS and authentication required. A user sends only as the
# addresses the table sendas gives them (MAIL FROM refused otherwise), and "masquerade"
# rewrites the From header to that sender, so nobody gets another user's signature.
${each(`port 465 smtps ${pki} hostname "${v.hostname}" auth <passwds> senders <sendas> masquerade filter "rspamd"`)}
${each(`port 587 tls-require ${pki} hostname "${v.hostname}" auth <passwds> senders <sendas> masquerade filter "rspamd"`)}
${
	v.iface
		? `# Mail from programs on this server (cron, monitoring).
listen on lo port 25 hostname "${v.hostname}"
`
		: ''
}
action "RECV" lmtp "${v.lmtpSocket}" rcpt-to virtual <virtuals>
action "SEND" relay helo "${v.hostname}" srs
# Mail for root and the other system accounts (cron, apt, monitoring): ${SMTPD_PATHS.aliases}
# sends root to the postmaster address, which is delivered like any mail to the domain.
table aliases file:${SMTPD_PATHS.aliases}
action "LOCAL" mbox alias <aliases>

${
	v.catchAll
		? `# catch-all: every address of these domains is accepted (and spam to random names with it).
match from any for domain <domains> action "RECV"`
		: `# Only real recipients (users and aliases): anything else is refused at RCPT.
match from any for domain <domains> rcpt-to <recipients> action "RECV"`
}
match from any auth for any action "SEND"
match from local for local action "LOCAL"
match from local for any action "SEND"
`;
}

export function srsConf(key: string, backup?: string): string {
	return `srs key "${key}"\n${backup ? `srs key backup "${backup}"\n` : ''}`;
}

/** The keys of srs.conf: the one that signs, and the backup still accepted for bounces (a rotation's overlap). */
export function parseSrs(text: string | undefined): {key?: string; backup?: string} {
	const key = /^\s*srs\s+key\s+"([^"]+)"/m.exec(text ?? '')?.[1];
	const backup = /^\s*srs\s+key\s+backup\s+"([^"]+)"/m.exec(text ?? '')?.[1];
	return {key, backup};
}

export type VirtualEntry = {readonly address: string; readonly targets: readonly string[]};

export function tableFile(lines: readonly string[]): string {
	return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export type SendersVars = {
	/** The users' names (local parts). */
	readonly users: readonly string[];
	/** Every domain of the server, the main one first. */
	readonly domains: readonly string[];
	/** local part -> targets: local names (users or aliases) or external addresses. */
	readonly aliases: Readonly<Record<string, readonly string[]>>;
};

/**
 * The users each alias delivers to, followed through aliases of aliases (external targets
 * reach nobody). Each alias is resolved once: linear in the size of the alias graph.
 */
export function aliasOwners(v: Pick<SendersVars, 'users' | 'aliases'>): Map<string, ReadonlySet<string>> {
	const users = new Set(v.users);
	const memo = new Map<string, Set<string>>();
	const reach = (local: string): Set<string> => {
		const known = memo.get(local);
		if (known) return known;
		const out = new Set<string>();
		memo.set(local, out); // the answers refuse loops; this only keeps a loop finite
		if (users.has(local)) out.add(local);
		else if (Object.hasOwn(v.aliases, local)) for (const t of v.aliases[local]!) if (!t.includes('@')) for (const u of reach(t)) out.add(u);
		return out;
	};
	return new Map(Object.keys(v.aliases).map((local) => [local, reach(local)]));
}

/**
 * The sendas table (smtpd.conf: "senders <sendas>"; "senders" itself is a keyword there): each login smtpd accepts (as in the passwds table: the full address in
 * every domain, then the bare name) maps to the addresses that user may send as: their own
 * name and the aliases that deliver to them, in every domain. A catch-all grants nothing.
 */
export function sendersLines(v: SendersVars): string[] {
	const owned = new Map(v.users.map((u) => [u, [u]]));
	for (const [alias, users] of aliasOwners(v)) for (const u of users) owned.get(u)?.push(alias);
	return v.users.flatMap((u) => {
		const addresses = v.domains.flatMap((d) => owned.get(u)!.map((local) => `${local}@${d}`)).join(', ');
		return [...v.domains.map((d) => `${u}@${d}`), u].map((login) => `${login} ${addresses}`);
	});
}

/**
 * /etc/aliases with root's mail sent to the postmaster address (cron and apt write to root);
 * every other line of the file is kept as it is.
 */
export function rootAliases(existing: string | undefined, postmaster: string): string {
	const line = `root: ${postmaster}`;
	const lines = (existing ?? '').split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
	const at = lines.findIndex((l) => /^\s*root\s*:/.test(l));
	if (at >= 0) lines[at] = line;
	else lines.push(...(existing === undefined ? ['# See aliases(5). root: added by mailwizard.'] : []), line);
	return `${lines.join('\n')}\n`;
}
