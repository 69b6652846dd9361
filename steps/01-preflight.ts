import type {Answers} from '../source/answers.ts';
import {dpkgVersions} from '../source/engine/facts.ts';
import {readText} from '../source/engine/files.ts';
import {StepError, type Action, type Step} from '../source/engine/types.ts';
import {describe, type Profile} from '../source/platform/profile.ts';
import {addressWarnings, publicIpv6, unansweredIpv6} from '../source/platform/addresses.ts';
import {passwordScheme} from '../source/platform/passwords.ts';
import {problemLines, runFindings, type Finding} from '../source/platform/reputation.ts';

export const OTHER_MTAS = ['exim4-base', 'exim4-daemon-light', 'exim4-daemon-heavy', 'postfix', 'sendmail-bin', 'nullmailer', 'msmtp-mta', 'dma'] as const;

export type PreflightFacts = {
	readonly memBytes: number;
	readonly systemHostname: string;
	readonly otherMtas: readonly string[];
	/** Public IPv6 addresses the interfaces hold (absent: none looked for). */
	readonly ipv6Held?: readonly string[];
	/** On a real run: reverse DNS, blocklists and outbound port 25, checked before anything (see finish). */
	readonly outside?: readonly Finding[];
};

export const preflight: Step<PreflightFacts> = {
	id: 'preflight',
	title: 'Preflight: system, memory, other mail servers',
	summary: 'checks the distribution, the init system, memory and an MTA already installed',
	async facts(ctx, a) {
		// What the operator must ask others for (a PTR, an open port 25) takes days: say it first.
		const outside = runFindings(ctx, a);
		const installed = await dpkgVersions(ctx, OTHER_MTAS);
		const hn = (await readText(ctx.root, '/etc/hostname'))?.trim() || ctx.host.hostname;
		return {memBytes: ctx.host.memBytes, systemHostname: hn, otherMtas: OTHER_MTAS.filter((p) => installed[p] !== undefined), ipv6Held: publicIpv6(ctx.host.interfaces), outside: await outside};
	},
	plan(a: Answers, f, profile: Profile) {
		if (!profile.supported) {
			throw new StepError(
				`${profile.id} ${profile.version || '(unknown version)'} is not supported: mailwizard sets up Debian 12 (bookworm) and Debian 13 (trixie).`,
				'Nothing was changed. Use a Debian 12 or 13 server, or preview a plan anywhere with --dry-run --target debian13.',
			);
		}
		const actions: Action[] = [];
		const scheme = passwordScheme(f.memBytes);
		actions.push({
			kind: 'notice',
			level: 'info',
			title: 'This system',
			lines: [describe(profile), `${(f.memBytes / 2 ** 30).toFixed(1)} GiB of memory: passwords are hashed with ${scheme}${scheme === 'SHA512-CRYPT' ? ' (ARGON2ID needs at least 1 GiB)' : ''}`],
		});
		const warnings = [...addressWarnings(a), ...unansweredIpv6(a, f.ipv6Held ?? [])];
		if (f.systemHostname !== a.hostname && f.systemHostname.split('.')[0] !== a.hostname.split('.')[0]) {
			warnings.push(
				`This system calls itself "${f.systemHostname}", the mail host is "${a.hostname}". Mail uses ${a.hostname} (in /etc/mailname and the SMTP greeting); consider "hostnamectl set-hostname ${a.hostname}".`,
			);
		}
		if (warnings.length) actions.push({kind: 'notice', level: 'warn', title: 'Check these', lines: warnings});
		const problems = (f.outside ?? []).filter((x) => !x.ok);
		if (problems.length)
			actions.push({
				kind: 'notice',
				level: 'warn',
				title: `${problems.length} thing${problems.length === 1 ? '' : 's'} mailwizard cannot fix from this server: start on ${problems.length === 1 ? 'it' : 'them'} now (checked again at the end)`,
				lines: problemLines(problems),
			});
		if (f.otherMtas.length > 0) {
			if (!a.removeMta) {
				throw new StepError(
					`Another mail server is installed: ${f.otherMtas.join(', ')}. It holds port 25 and would fight OpenSMTPD.`,
					'Nothing was changed. Remove it yourself, or let mailwizard remove it: answer "remove_mta: true" (answers file) or agree in the wizard.',
				);
			}
			actions.push({
				kind: 'run',
				cmd: {argv: ['apt-get', 'purge', '-y', ...f.otherMtas], env: {DEBIAN_FRONTEND: 'noninteractive'}, daemon: true},
				why: `remove ${f.otherMtas.join(', ')} (you agreed: remove_mta) so that OpenSMTPD can take port 25`,
			});
		}
		return actions;
	},
};
