import type {Answers} from '../source/answers.ts';
import {acceptedAddresses} from '../source/answers.ts';
import type {Step} from '../source/engine/types.ts';

export function summary(a: Answers): string[] {
	const u = a.users[0]!.name;
	return [
		'Mail client settings:',
		`  IMAP      ${a.hostname} port 993, SSL/TLS, normal password, user ${u}@${a.domain} (or ${u})`,
		`  SMTP      ${a.hostname} port 465 SSL/TLS, or port 587 STARTTLS; normal password, same user`,
		'Addresses this server accepts (anything else is refused at RCPT):',
		...acceptedAddresses(a).map((x) => `  ${x}${a.aliases[x.split('@')[0]!] ? ` -> ${a.aliases[x.split('@')[0]!]!.join(', ')}` : ''}`),
		...(a.catchAll ? [`  and every other address of ${[a.domain, ...a.extraDomains].join(', ')} (catch-all -> ${a.catchAll})`] : []),
		`Reverse DNS: ask the provider of ${[a.ipv4, a.ipv6].filter(Boolean).join(' and ')} to point it at ${a.hostname} ("mailwizard check" verifies it).`,
		'Keep in mind (from the guide): renew the TLS certificate before it expires (then restart opensmtpd and dovecot),',
		'  rotate the DKIM key and the SRS key about once a year, keeping the old DKIM record and the old SRS key for a month.',
		'Test: send a mail to a test mailbox and check that SPF, DKIM and DMARC pass ("mailwizard check" for the DNS side).',
	];
}

export const finish: Step<null> = {
	id: 'finish',
	title: 'Done: what to tell your mail client, and what to keep an eye on',
	summary: 'client settings, accepted addresses, reminders',
	async facts() {
		return null;
	},
	plan(a) {
		return [{kind: 'notice', level: 'summary', title: `${a.domain} is served by ${a.hostname}`, lines: summary(a)}];
	},
};
