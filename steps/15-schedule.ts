// The daily check (issue 19): `mailwizard check --notify` once a day, which mails postmaster
// only when a check changes state. It runs a copy of this mailwizard installed under
// /usr/local (the clone it was started from, or npx's cache, may be gone by then), through a
// small script that repeats this run's --resolver/--dnsbl/--probe/--state-dir. A systemd timer
// where systemd is PID 1, else a line in /etc/cron.d and Debian's cron (installed only there).
import {createHash} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import {onRoot} from '../source/engine/files.ts';
import type {Action, Step} from '../source/engine/types.ts';
import {SCHEDULE_PATHS, TIMER} from '../source/platform/schedule.ts';
import {runningBundle} from '../source/platform/self.ts';

export type ScheduleFacts = {
	/** The bundle this run runs from (undefined: from the sources, nothing to install). */
	readonly bundle?: string;
	/** The installed copy is byte for byte the running bundle. */
	readonly installed: boolean;
	/** The node binary running this (an absolute path: cron's PATH may not hold it). */
	readonly node: string;
	readonly checkArgs: readonly string[];
};

const sh = (a: string) => (/^[\w@%+=:,./[\]-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

async function digest(path: string): Promise<string | undefined> {
	try {
		return createHash('sha256')
			.update(await readFile(path))
			.digest('hex');
	} catch {
		return undefined;
	}
}

/** The minute past 06:00 of the daily run, spread by host name (not every server at once). */
export function dailyMinute(hostname: string): number {
	return createHash('sha256').update(hostname).digest()[0]! % 60;
}

function scripts(f: ScheduleFacts): Action[] {
	const wrapper = `#!/bin/sh\n# Managed by mailwizard: the copy of mailwizard its last run installed (the daily check runs it).\nexec ${sh(f.node)} ${SCHEDULE_PATHS.bundle} "$@"\n`;
	const job = [
		'#!/bin/sh',
		'# Managed by mailwizard: the daily check. It mails postmaster only when a check changes state,',
		'# with the check, its fix and the command to see more. Exit 0 all ok, 1 a check fails,',
		'# 3 only warnings or unknowns.',
		`exec ${SCHEDULE_PATHS.command} ${['check', '--notify', ...f.checkArgs].map(sh).join(' ')}`,
		'',
	].join('\n');
	return [
		{kind: 'file', path: SCHEDULE_PATHS.command, content: wrapper, mode: 0o755, why: '"mailwizard" on root\'s PATH runs the installed copy'},
		{kind: 'file', path: SCHEDULE_PATHS.job, content: job, mode: 0o755, why: 'the daily check, with the resolvers, blocklists and probe of this run'},
	];
}

function systemdJob(minute: number): Action[] {
	const service = `# Managed by mailwizard\n[Unit]\nDescription=mailwizard check: mail postmaster when a check changes state\nAfter=network-online.target\nWants=network-online.target\n\n[Service]\nType=oneshot\nExecStart=${SCHEDULE_PATHS.job}\n# 3: only warnings or unknowns (mailed when they change); 1 (a check fails) shows in systemctl --failed.\nSuccessExitStatus=3\n`;
	const timer = `# Managed by mailwizard\n[Unit]\nDescription=the daily mailwizard check\n\n[Timer]\nOnCalendar=*-*-* 06:${String(minute).padStart(2, '0')}:00\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n`;
	return [
		{kind: 'file', path: SCHEDULE_PATHS.service, content: service, mode: 0o644, restarts: TIMER, why: 'the check as a systemd unit'},
		{kind: 'file', path: SCHEDULE_PATHS.timer, content: timer, mode: 0o644, restarts: TIMER, why: 'once a day, and after a boot when the time was missed (Persistent)'},
		{kind: 'service', name: TIMER, op: 'restart', why: 'enable the daily timer (it stays enabled across reboots)'},
	];
}

function cronJob(minute: number): Action[] {
	const line = `${minute} 6 * * * root ${SCHEDULE_PATHS.job} 2>&1 | /usr/bin/logger -t mailwizard-check`;
	const content = `# Managed by mailwizard: the daily check (it mails postmaster when a check changes state;\n# its output goes to syslog, so cron mails nothing on the days nothing changed).\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n${line}\n`;
	return [
		{kind: 'file', path: SCHEDULE_PATHS.cron, content, mode: 0o644, why: 'once a day, through cron (no systemd here)'},
		{kind: 'service', name: 'cron', op: 'start', why: 'cron runs the daily check (its init script starts it at boot)'},
	];
}

export const schedule: Step<ScheduleFacts> = {
	id: 'schedule',
	title: 'Daily check: mailwizard check mails postmaster when something changes',
	summary: 'installs a daily "mailwizard check --notify" (a systemd timer, or cron without systemd)',
	packages: {'12': [{name: 'cron', init: 'sysv'}], '13': [{name: 'cron', init: 'sysv'}]},
	async facts(ctx) {
		const bundle = runningBundle();
		const [mine, there] = bundle ? await Promise.all([digest(bundle), digest(onRoot(ctx.root, SCHEDULE_PATHS.bundle))]) : [undefined, undefined];
		return {bundle, installed: mine !== undefined && mine === there, node: process.execPath, checkArgs: ctx.checkArgs ?? []};
	},
	plan(a, f, profile) {
		if (!f.bundle)
			return [
				{
					kind: 'notice',
					level: 'warn',
					title: 'No daily check installed',
					lines: ['mailwizard runs from its sources here: build it (npm run build) and run dist/mailwizard.js to install the daily check.'],
				},
			];
		const install: Action[] = f.installed
			? []
			: [
					{
						kind: 'run',
						cmd: {argv: ['install', '-D', '-m', '0644', f.bundle, SCHEDULE_PATHS.bundle]},
						why: 'a copy of this mailwizard for the daily check: it works after a reboot and once the clone or npx cache is gone',
					},
				];
		const minute = dailyMinute(a.hostname);
		return [...install, ...scripts(f), ...(profile.init === 'systemd' ? systemdJob(minute) : cronJob(minute))];
	},
};
