import type {Answers} from '../source/answers.ts';
import {randomKey, readText} from '../source/engine/files.ts';
import type {Action, Cmd, FileAction, PackageNeed, Step} from '../source/engine/types.ts';
import {domainsOf, recipients, virtuals} from '../source/mail/addresses.ts';
import {FILTER_RSPAMD, LMTP_SOCKET} from '../source/mail/paths.ts';
import type {Host} from '../source/platform/host.ts';
import {chooseHash, parseHashes, smtpdHash, verifyDovecotHash, type HashPlan} from '../source/platform/passwords.ts';
import {SMTPD_PATHS, parseSrs, rootAliases, type SmtpdVars, sendersLines, smtpdConf, srsConf, tableFile} from '../templates/smtpd.ts';

export const SYSTEMD_DROPIN = '/etc/systemd/system/opensmtpd.service.d/mailwizard.conf';
export const SYSTEMD_DROPIN_TEXT = `# Added by mailwizard.
[Unit]
Wants=network-online.target
After=network-online.target

[Service]
Restart=on-failure
RestartSec=5s
`;

export type SmtpdFacts = {
	readonly srsKey: string;
	readonly srsBackup?: string;
	readonly iface?: string;
	readonly hashes: ReadonlyArray<{name: string} & HashPlan>;
	/** /etc/aliases as it is. */
	readonly aliases?: string;
};

/**
 * The interface that holds every answered address (smtpd listens on interfaces, as in the
 * guide); undefined when none does (NAT): then smtpd listens on every address.
 */
export function interfaceOf(host: Host, addresses: readonly (string | undefined)[]): string | undefined {
	const wanted = addresses.filter((x): x is string => Boolean(x));
	for (const [name, list] of Object.entries(host.interfaces)) {
		if (wanted.length && wanted.every((w) => list?.some((i) => i.address === w))) return name;
	}
	return undefined;
}

/** The package asks for its mail name: answered ahead, so the install asks nothing. */
const SMTPD = {
	name: 'opensmtpd',
	label: 'OpenSMTPD',
	preseed: {selections: (a: Answers) => `opensmtpd opensmtpd/mailname string ${a.hostname}\n`, what: 'its mail name'},
} as const satisfies PackageNeed;

function update(table: string): Cmd {
	return {argv: ['smtpctl', 'update', 'table', table]};
}

function confVars(a: Answers, domains: readonly string[], iface: string | undefined): SmtpdVars {
	const catchAll = a.catchAll !== undefined;
	return {hostname: a.hostname, domains, cert: a.tls.cert, key: a.tls.key, iface, ipv6: a.ipv6 !== undefined, catchAll, filterRspamd: FILTER_RSPAMD, lmtpSocket: LMTP_SOCKET};
}

/** Where smtpd listens, said in the plan: every published address is served. */
function listenWhy(a: Answers, iface: string | undefined): string {
	const addresses = [a.ipv4, a.ipv6].filter(Boolean).join(', ');
	if (iface) return `listen on ${iface} (which holds ${addresses})`;
	return `listen on every IPv4${a.ipv6 ? ' and IPv6 (::)' : ''} address: no interface holds ${addresses} (NAT?), and every address published in DNS must be served`;
}

export const opensmtpd: Step<SmtpdFacts> = {
	id: 'opensmtpd',
	title: 'OpenSMTPD: receive on 25, submission on 465 and 587',
	summary: "writes the guide's smtpd.conf: TLS, SRS, reverse-DNS and Rspamd filters, LMTP delivery",
	packages: {
		'12': [
			{...SMTPD, min: '7.4', from: 'backports', why: "Debian 12's own 6.8 fails every TLS handshake with OpenSSL 3."},
			{name: 'opensmtpd-filter-rspamd', min: '0.1.8', from: 'next', why: '0.1.7 never passes the user to Rspamd, so mail would leave unsigned.'},
			'ca-certificates',
		],
		'13': [SMTPD, 'opensmtpd-filter-rspamd', 'ca-certificates'],
	},
	daemons: [{service: 'opensmtpd', exe: '/usr/sbin/smtpd'}],
	passwords: true,
	async facts(ctx, a) {
		const srs = parseSrs(await readText(ctx.root, SMTPD_PATHS.srs));
		const existing = parseHashes(await readText(ctx.root, SMTPD_PATHS.passwds), ' ');
		const tools = (await ctx.exec.which('smtpctl')) && (await ctx.exec.which('doveadm'));
		const hashes = await Promise.all(
			a.users.map(async (u) => {
				const plan = await chooseHash(
					ctx,
					tools ? u : {...u, password: undefined},
					u.smtpdHash,
					existing.get(`${u.name}@${a.domain}`),
					(p) => smtpdHash(ctx, p),
					(h, p) => verifyDovecotHash(ctx, `{CRYPT}${h}`, p),
				);
				return {name: u.name, ...plan};
			}),
		);
		return {srsKey: srs.key ?? randomKey(30), srsBackup: srs.backup, iface: interfaceOf(ctx.host, [a.ipv4, a.ipv6]), hashes, aliases: await readText(ctx.root, SMTPD_PATHS.aliases)};
	},
	plan(a, f, profile) {
		const domains = domainsOf(a);
		const passwds = f.hashes.flatMap((h) => [...domains.map((d) => `${h.name}@${d} ${h.hash}`), `${h.name} ${h.hash}`]);
		const table = (path: string, lines: string[], name: string, why: string, mode = 0o644, group?: string): FileAction => ({
			kind: 'file',
			path,
			content: tableFile(lines),
			mode,
			owner: 'root',
			group,
			restarts: 'opensmtpd',
			onChange: [update(name)],
			secrets: name === 'passwds' ? f.hashes.map((h) => h.hash) : undefined,
			sensitive: name === 'passwds' ? 'word' : undefined,
			why,
		});
		const actions: Action[] = [
			{kind: 'file', path: SMTPD_PATHS.mailname, content: `${a.hostname}\n`, mode: 0o644, restarts: 'opensmtpd', why: 'the name smtpd gives itself; it must match the reverse DNS of the address'},
			{kind: 'dir', path: '/etc/smtpd', mode: 0o755, why: 'the tables'},
			{
				kind: 'file',
				path: SMTPD_PATHS.srs,
				content: srsConf(f.srsKey, f.srsBackup),
				secrets: [f.srsKey, ...(f.srsBackup ? [f.srsBackup] : [])],
				sensitive: 'quote',
				mode: 0o600,
				owner: 'root',
				restarts: 'opensmtpd',
				why: 'SRS keys (random, kept across runs; rotate yearly, keeping the old one as backup)',
			},
			table(SMTPD_PATHS.domains, domains, 'domains', 'the domains this server receives mail for'),
			table(SMTPD_PATHS.recipients, recipients(a), 'recipients', 'every address that exists: anything else is refused at RCPT (no backscatter)'),
			table(SMTPD_PATHS.virtuals, virtuals(a), 'virtuals', 'users go to their mailbox (LMTP), aliases to their targets'),
			table(
				SMTPD_PATHS.sendas,
				sendersLines({users: a.users.map((u) => u.name), domains, aliases: a.aliases}),
				'sendas',
				'who may send as which address on 465/587: each user as their own address and the aliases that reach them, in every domain',
			),
			{...table(SMTPD_PATHS.aliases, [], 'aliases', `mail for root (cron, apt) goes to postmaster@${a.domain}`), content: rootAliases(f.aliases, `postmaster@${a.domain}`)},
			table(SMTPD_PATHS.passwds, passwds, 'passwds', 'submission logins (full address or bare name), crypt(3) hashes from smtpctl encrypt', 0o640, 'opensmtpd'),
			{
				kind: 'file',
				path: SMTPD_PATHS.conf,
				content: smtpdConf(confVars(a, domains, f.iface)),
				mode: 0o644,
				validate: ['smtpd', '-n', '-f', '%s'],
				restarts: 'opensmtpd',
				why: listenWhy(a, f.iface),
			},
			...(profile.init === 'systemd'
				? [
						{
							kind: 'file',
							path: SYSTEMD_DROPIN,
							content: SYSTEMD_DROPIN_TEXT,
							mode: 0o644,
							restarts: 'opensmtpd',
							why: 'start smtpd once the network is up, and again if it fails (an IPv6 address still in duplicate-address detection at boot makes its bind fail)',
						} as const,
					]
				: []),
			{
				kind: 'service',
				name: 'opensmtpd',
				op: 'restart',
				why: 'load the new configuration',
				verify: [{argv: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do smtpctl show status >/dev/null 2>&1 && exit 0; sleep 0.5; done; exit 1']}],
			},
		];
		if (a.catchAll)
			actions.unshift({
				kind: 'notice',
				level: 'warn',
				title: 'Catch-all',
				lines: [`Every address of ${domains.join(', ')} is accepted and delivered to ${a.catchAll}: spam to random names lands there too.`],
			});
		return actions;
	},
};
