// Bans (issue 18): fail2ban bans an address after too many wrong passwords (answers `bans`,
// `ignore`), on 25, 465, 587 and 993, through nftables. Jails for Dovecot (IMAP logins) and
// OpenSMTPD (AUTH on 465/587) with mailwizard's own filters (templates/fail2ban.ts). fail2ban
// reads the daemons from the journal where systemd runs; without systemd from rsyslog's
// /var/log/mail.log, so rsyslog is installed and started there, and the mail daemons restarted
// once so that their lines go to it. Dovecot's one line per failed password (auth_verbose) is
// in the dovecot stage's dovecot.conf.
import type {Answers} from '../source/answers.ts';
import {onRoot} from '../source/engine/files.ts';
import type {Action, Step} from '../source/engine/types.ts';
import type {Profile} from '../source/platform/profile.ts';
import {FAIL2BAN_PATHS, fail2banFiles, JAILS} from '../templates/fail2ban.ts';
import {access} from 'node:fs/promises';

export type BansFacts = {
	/** Without systemd: rsyslog runs already (else it is started, and the mail daemons restarted onto it). */
	readonly rsyslogRunning: boolean;
	/**
	 * Without systemd: the mail daemons that run since before rsyslogd (they log elsewhere: restarted
	 * once). A run killed between rsyslogd's start and their restarts still restarts them next time.
	 */
	readonly loggingElsewhere?: readonly string[];
	/** Without systemd: the log files fail2ban reads that do not exist yet (it refuses a jail without its file). */
	readonly missingLogs: readonly string[];
	/** This host's own addresses (never banned), besides the answers' ipv4/ipv6. */
	readonly ownAddresses: readonly string[];
	/** mailwizard's jail file is there (to take away when bans are turned off). */
	readonly jailThere: boolean;
};

const AUTH_LOG = '/var/log/auth.log';

const exists = (root: string, p: string) =>
	access(onRoot(root, p)).then(
		() => true,
		() => false,
	);

/** The addresses never banned besides localhost: the answers' own, this host's, and `ignore`. */
export function serverAddresses(a: Answers, own: readonly string[]): string[] {
	return [...new Set([a.ipv4, a.ipv6, ...own].filter((x): x is string => Boolean(x) && !/^(127\.|::1$|fe80:)/i.test(x!)))];
}

/** Without systemd: rsyslog writes the logs fail2ban reads; daemons that logged elsewhere are restarted once. */
function syslog(f: BansFacts): Action[] {
	const create = f.missingLogs.map((p): Action => ({
		kind: 'run',
		cmd: {argv: ['install', '-m', '0640', '-o', 'root', '-g', 'adm', '/dev/null', p]},
		why: `fail2ban reads ${p}: it must exist before rsyslog's first line`,
	}));
	// Debian's rsyslog ships only a systemd unit (no init script): started as its unit would.
	const start: Action[] = f.rsyslogRunning ? [] : [{kind: 'run', cmd: {argv: ['rsyslogd'], daemon: true}, why: 'rsyslog writes /var/log/mail.log, which fail2ban reads (no journal without systemd)'}];
	const elsewhere = f.rsyslogRunning ? (f.loggingElsewhere ?? []) : ['dovecot', 'opensmtpd'];
	// Each daemon: restarted when it logs elsewhere; else started only if it is down (a run killed in its restart).
	const daemons = (['dovecot', 'opensmtpd'] as const).map((name): Action => ({
		kind: 'service',
		name,
		op: 'restart',
		...(elsewhere.includes(name) ? {always: true} : {}),
		why: `${name === 'dovecot' ? 'Dovecot' : 'OpenSMTPD'}'s log lines go to rsyslog`,
	}));
	return [...create, ...start, ...daemons];
}

/** sh: the start time (clock ticks since boot) of the oldest process of each binary in this mount namespace, or "-". */
const STARTED_SH = `m=$(readlink /proc/self/ns/mnt)
st() { t=$(for e in $(find /proc/[0-9]*/exe -maxdepth 0 -lname "$1" 2>/dev/null); do d=\${e%/exe}; [ "$(readlink "$d/ns/mnt")" = "$m" ] && awk '{print $22}' "$d/stat" 2>/dev/null; done | sort -n | head -n 1); echo "\${t:--}"; }
echo "$(st /usr/sbin/rsyslogd) $(st /usr/sbin/dovecot) $(st /usr/sbin/smtpd)"`;

/** Whether rsyslogd runs, and which mail daemons run since before it (their lines go elsewhere). */
export function parseStarted(out: string): {rsyslogRunning: boolean; loggingElsewhere: string[]} {
	const [rs, dv, sm] = out.trim().split(/\s+/);
	const t = (x: string | undefined) => (x && /^\d+$/.test(x) ? Number(x) : undefined);
	const r = t(rs);
	if (r === undefined) return {rsyslogRunning: false, loggingElsewhere: []};
	const before = (x: number | undefined) => x !== undefined && x < r;
	return {rsyslogRunning: true, loggingElsewhere: [...(before(t(dv)) ? ['dovecot'] : []), ...(before(t(sm)) ? ['opensmtpd'] : [])]};
}

function jails(a: Answers & {bans: Exclude<Answers['bans'], false>}, f: BansFacts, profile: Profile): Action[] {
	const files = fail2banFiles({bans: a.bans, serverAddresses: serverAddresses(a, f.ownAddresses), ignore: a.ignore, logs: profile.init === 'systemd' ? 'journal' : 'files'});
	const why: Record<string, string> = {
		[FAIL2BAN_PATHS.dovecotFilter]: "fail2ban's filter for Dovecot's failed passwords (2.3 and 2.4)",
		[FAIL2BAN_PATHS.smtpdFilter]: "fail2ban's filter for OpenSMTPD's failed AUTH",
		[FAIL2BAN_PATHS.jail]: `${a.bans.maxFailures} wrong passwords in ${a.bans.window} from one address ban it for ${a.bans.ban} on 25, 465, 587 and 993`,
	};
	return [
		...files.map((x): Action => ({
			kind: 'file',
			path: x.path,
			content: x.content,
			mode: x.mode,
			restarts: 'fail2ban',
			...(x.path === FAIL2BAN_PATHS.jail ? {verify: [{argv: ['fail2ban-client', '-t']}]} : {}),
			why: why[x.path] ?? 'fail2ban',
		})),
		{kind: 'service', name: 'fail2ban', op: 'restart', why: `load the jails ${JAILS.join(' and ')}`},
	];
}

export const bans: Step<BansFacts> = {
	id: 'bans',
	title: 'Bans: addresses that guess passwords are shut out for a while',
	summary: 'fail2ban jails for Dovecot and OpenSMTPD (nftables), on 25, 465, 587, 993',
	packages: {
		'12': ['fail2ban', 'nftables', {name: 'rsyslog', init: 'sysv'}, {name: 'python3-systemd', init: 'systemd'}],
		'13': ['fail2ban', 'nftables', {name: 'rsyslog', init: 'sysv'}, {name: 'python3-systemd', init: 'systemd'}],
	},
	usedWhen: (a) => a.bans !== false,
	// fail2ban-server is Python: its init script's status (or systemctl) says whether it runs.
	daemons: [{service: 'fail2ban'}, {service: 'dovecot', exe: '/usr/sbin/dovecot'}, {service: 'opensmtpd', exe: '/usr/sbin/smtpd'}],
	async facts(ctx, a) {
		const sysv = ctx.profile.init !== 'systemd' && a.bans !== false;
		const missing = sysv ? (await Promise.all([FAIL2BAN_PATHS.mailLog, AUTH_LOG].map(async (p) => ((await exists(ctx.root, p)) ? [] : [p])))).flat() : [];
		const started = sysv ? parseStarted((await ctx.exec.run({argv: ['sh', '-c', STARTED_SH], daemon: true}).catch(() => ({stdout: ''}))).stdout) : {rsyslogRunning: true, loggingElsewhere: []};
		return {
			...started,
			missingLogs: missing,
			ownAddresses: Object.values(ctx.host.interfaces).flatMap((l) => l.map((i) => i.address)),
			jailThere: await exists(ctx.root, FAIL2BAN_PATHS.jail),
		};
	},
	plan(a, f, profile) {
		if (a.bans === false) {
			if (!f.jailThere) return [];
			return [
				{kind: 'run', cmd: {argv: ['rm', '-f', FAIL2BAN_PATHS.jail]}, why: 'bans: false — mailwizard’s jails go'},
				{kind: 'service', name: 'fail2ban', op: 'restart', always: true, why: 'unload the jails'},
			];
		}
		return [...(profile.init === 'systemd' ? [] : syslog(f)), ...jails({...a, bans: a.bans}, f, profile)];
	},
};
