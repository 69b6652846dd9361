import type {Answers} from '../source/answers.ts';
import {acceptedAddresses} from '../source/answers.ts';
import {certInfo, expiryLine, renewalInPlace} from '../source/acme/certificate.ts';
import type {Action, Ctx, Step} from '../source/engine/types.ts';
import {findingLabel, problemLines, runFindings, type Finding} from '../source/platform/reputation.ts';
import {keyReminders} from '../source/rotate/age.ts';
import {JAILS} from '../templates/fail2ban.ts';

/** What the inbound defence does, and how to see and lift a ban (issue 18). */
export function defenceLines(a: Answers): string[] {
	const [imap, smtp] = JAILS;
	return [
		'Spam: Rspamd refuses clear spam (5xx); likely spam goes into the Junk folder; moving mail into or out of Junk teaches Rspamd.',
		...(a.greylisting ? ['Greylisting is on: the first mail from a new sender arrives when its server retries (5-30 minutes).'] : []),
		...(a.bans
			? [
					`Bans: ${a.bans.maxFailures} wrong passwords in ${a.bans.window} from one address shut it out of ports 25, 465, 587, 993 for ${a.bans.ban}.`,
					`  See them:  fail2ban-client status ${imap}   (and ${smtp} for SMTP AUTH)`,
					`  Lift one:  fail2ban-client set ${imap} unbanip ADDRESS   (${smtp} likewise)`,
				]
			: ['Bans: off (bans: false): password guessers are not shut out.']),
	];
}

export function summary(a: Answers, ptrChecked = false): string[] {
	const u = a.users[0]!.name;
	return [
		'Mail client settings:',
		`  IMAP      ${a.hostname} port 993, SSL/TLS, normal password, user ${u}@${a.domain} (or ${u})`,
		`  SMTP      ${a.hostname} port 465 SSL/TLS, or port 587 STARTTLS; normal password, same user`,
		'Addresses this server accepts (anything else is refused at RCPT):',
		...acceptedAddresses(a).map((x) => `  ${x}${a.aliases[x.split('@')[0]!] ? ` -> ${a.aliases[x.split('@')[0]!]!.join(', ')}` : ''}`),
		...(a.catchAll ? [`  and every other address of ${[a.domain, ...a.extraDomains].join(', ')} (catch-all -> ${a.catchAll})`] : []),
		...(ptrChecked ? [] : [`Reverse DNS: ask the provider of ${[a.ipv4, a.ipv6].filter(Boolean).join(' and ')} to point it at ${a.hostname} ("mailwizard check" verifies it).`]),
		`Firewall: open TCP ports ${a.tls.acme ? '25, 80, 443, 465, 587, 993 (80 and 443: certificate renewal, MTA-STS, autoconfig)' : '25, 465, 587, 993'}.`,
		...(a.tls.acme ? [] : ['Keep in mind (from the guide): renew the TLS certificate before it expires (then restart opensmtpd and dovecot),']),
		`${a.tls.acme ? 'Keep in mind: ' : '  '}rotate the DKIM key and the SRS key about once a year, keeping the old DKIM record and the old SRS key for a month.`,
		...defenceLines(a),
		'Test: send a mail to a test mailbox and check that SPF, DKIM and DMARC pass ("mailwizard check" for the DNS side).',
	];
}

/**
 * What the wizard cannot fix from this server, told plainly: each problem with who can fix
 * it and how; what is fine in one line each.
 */
export function outsideNotices(findings: readonly Finding[]): Action[] {
	const problems = findings.filter((f) => !f.ok);
	const fine = findings.filter((f) => f.ok);
	const out: Action[] = [];
	if (problems.length)
		out.push({
			kind: 'notice',
			level: 'warn',
			title: `${problems.length} thing${problems.length === 1 ? '' : 's'} mailwizard cannot fix from this server`,
			lines: problemLines(problems),
		});
	if (fine.length) out.push({kind: 'notice', level: 'info', title: 'Checked from this server', lines: fine.map((f) => `${findingLabel(f)}  ${f.what}: ${f.detail}`)});
	return out;
}

/** With ACME: the certificate's expiry and whether the system renews it. */
async function certificateLines(ctx: Ctx, a: Answers): Promise<string[] | undefined> {
	if (!a.tls.acme) return undefined;
	const c = await certInfo(ctx.root, a.tls.cert);
	const r = await renewalInPlace(ctx, a);
	return [c ? `Certificate: ${expiryLine(c)}` : `Certificate: none at ${a.tls.cert}`, `${r.ok ? 'Renewal' : 'PROBLEM'}: ${r.text}`];
}

export const finish: Step<{findings: readonly Finding[]; cert?: string[]; keys?: string[]} | null> = {
	id: 'finish',
	title: 'Done: what to tell your mail client, and what to keep an eye on',
	summary: 'client settings, accepted addresses, reverse DNS, blocklists, port 25',
	async facts(ctx, a) {
		// Only on a real run: a dry run asks nothing of the network.
		const findings = await runFindings(ctx, a);
		return findings ? {findings, cert: await certificateLines(ctx, a), keys: await keyReminders(ctx.root, a)} : null;
	},
	plan(a, f) {
		const ips = [a.ipv4, a.ipv6].filter((x): x is string => Boolean(x));
		const ptrOk = Boolean(f) && ips.every((ip) => f!.findings.some((x) => x.ok && x.what === `reverse DNS of ${ip}`));
		// What is fine first; then the summary; the problems last, where the eye ends.
		const checks = outsideNotices(f?.findings ?? []);
		const summaryNotice: Action = {kind: 'notice', level: 'summary', title: `${a.domain} is served by ${a.hostname}`, lines: [...summary(a, ptrOk), ...(f?.cert ?? []), ...(f?.keys ?? [])]};
		return [...checks.filter((n) => n.kind === 'notice' && n.level === 'info'), summaryNotice, ...checks.filter((n) => n.kind === 'notice' && n.level === 'warn')];
	},
};
