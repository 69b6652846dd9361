// The daily check's stage (issue 19): a systemd timer where systemd is PID 1, cron otherwise;
// the job runs a copy of mailwizard installed under /usr/local with this run's check options.
import test from 'ava';
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {Action, FileAction} from '../../source/engine/types.ts';
import {checkArgs} from '../../source/runtime.ts';
import {needsOf} from '../../steps/02-packages.ts';
import {STEPS} from '../../steps/index.ts';
import {dailyMinute, schedule, type ScheduleFacts} from '../../steps/15-schedule.ts';
import {SCHEDULE_PATHS, TIMER} from '../../source/platform/schedule.ts';
import {scheduleRow} from '../../source/doctor/schedule.ts';
import {DEBIAN12, DEBIAN13, answers} from '../helpers/fixtures.ts';

const FACTS: ScheduleFacts = {bundle: '/opt/mw/dist/mailwizard.js', installed: false, node: '/usr/bin/node', checkArgs: ['--resolver', '10.0.0.53', '--dnsbl', 'bl.example.test']};
const SYSTEMD = {...DEBIAN12, init: 'systemd' as const};
const file = (as: readonly Action[], path: string) => as.find((a): a is FileAction => a.kind === 'file' && a.path === path);

test('schedule: registered after the DNS wait and before the finish stage', (t) => {
	const ids = STEPS.map((s) => s.id);
	t.is(ids.indexOf('schedule'), ids.indexOf('finish') - 1);
	t.true(ids.indexOf('schedule') > ids.indexOf('dns-wait'));
});

test('schedule without systemd: the bundle copied, the wrapper, the job with the check options, a cron.d line, cron started', (t) => {
	const as = schedule.plan(answers(), FACTS, DEBIAN12);
	t.deepEqual(as[0], {kind: 'run', cmd: {argv: ['install', '-D', '-m', '0644', FACTS.bundle, SCHEDULE_PATHS.bundle]}, why: as[0]!.kind === 'run' ? as[0]!.why : ''});
	t.regex(String(file(as, SCHEDULE_PATHS.command)!.content), /^exec \/usr\/bin\/node \/usr\/local\/lib\/mailwizard\/mailwizard\.js "\$@"$/m);
	t.is(file(as, SCHEDULE_PATHS.command)!.mode, 0o755);
	t.regex(String(file(as, SCHEDULE_PATHS.job)!.content), /^exec \/usr\/local\/sbin\/mailwizard check --notify --resolver 10\.0\.0\.53 --dnsbl bl\.example\.test$/m);
	const cron = String(file(as, SCHEDULE_PATHS.cron)!.content);
	t.regex(cron, new RegExp(`^${dailyMinute(answers().hostname)} 6 \\* \\* \\* root /usr/local/lib/mailwizard/daily-check 2>&1 \\| /usr/bin/logger -t mailwizard-check$`, 'm'));
	t.like(as.at(-1), {kind: 'service', name: 'cron', op: 'start'});
	t.falsy(file(as, SCHEDULE_PATHS.timer), 'no systemd timer without systemd');
});

test('schedule with systemd as PID 1: a oneshot service and a persistent daily timer, enabled; no cron', (t) => {
	const as = schedule.plan(answers(), FACTS, SYSTEMD);
	const service = String(file(as, SCHEDULE_PATHS.service)!.content);
	t.regex(service, /^ExecStart=\/usr\/local\/lib\/mailwizard\/daily-check$/m);
	t.regex(service, /^Type=oneshot$/m);
	t.regex(service, /^SuccessExitStatus=3$/m);
	const timer = String(file(as, SCHEDULE_PATHS.timer)!.content);
	t.regex(timer, /^OnCalendar=\*-\*-\* 06:\d\d:00$/m);
	t.regex(timer, /^Persistent=true$/m);
	t.regex(timer, /^WantedBy=timers\.target$/m);
	t.like(as.at(-1), {kind: 'service', name: TIMER});
	t.falsy(file(as, SCHEDULE_PATHS.cron));
	t.false(as.some((a) => a.kind === 'service' && a.name === 'cron'));
});

test('schedule: cron is a package only where there is no systemd', (t) => {
	for (const v of ['12', '13']) {
		t.true(
			needsOf(STEPS, v, answers(), 'sysv').some((n) => n.name === 'cron'),
			`Debian ${v} without systemd`,
		);
		t.false(
			needsOf(STEPS, v, answers(), 'systemd').some((n) => n.name === 'cron'),
			`Debian ${v} with systemd`,
		);
	}
	t.false(
		needsOf(STEPS, '13', answers({tls: {acme: {email: 'a@example.com'}}}), 'systemd').some((n) => n.name === 'cron' && n.init),
		'ACME still brings its own cron',
	);
});

test('schedule: the installed copy equal to the running bundle is not copied again; from the sources, only a warning', (t) => {
	const again = schedule.plan(answers(), {...FACTS, installed: true}, DEBIAN13);
	t.false(again.some((a) => a.kind === 'run'));
	const dev = schedule.plan(answers(), {...FACTS, bundle: undefined}, DEBIAN12);
	t.deepEqual(
		dev.map((a) => a.kind),
		['notice'],
	);
});

test('schedule facts: the installed copy is compared byte for byte; the run options are repeated as given', async (t) => {
	const root = mkdtempSync(join(tmpdir(), 'mw-schedule-'));
	mkdirSync(join(root, 'usr/local/lib/mailwizard'), {recursive: true});
	writeFileSync(join(root, SCHEDULE_PATHS.bundle), 'old');
	const f = await schedule.facts({root, checkArgs: ['--probe', 'none']} as never, answers(), STEPS);
	// Under ava the stages run from the sources: nothing to install.
	t.is(f.bundle, undefined);
	t.false(f.installed);
	t.deepEqual(f.checkArgs, ['--probe', 'none']);
	t.deepEqual(checkArgs({resolvers: [], stateDir: '/var/lib/mailwizard'}), []);
	t.deepEqual(checkArgs({resolvers: ['10.0.0.53'], dnsbls: [], probe: 'none', stateDir: '/srv/mw state'}), [
		'--resolver',
		'10.0.0.53',
		'--dnsbl',
		'none',
		'--probe',
		'none',
		'--state-dir',
		'/srv/mw state',
	]);
	// The wizard's --no-self-test reaches the daily check; by default the daily check sends its test message.
	t.deepEqual(checkArgs({resolvers: [], stateDir: '/var/lib/mailwizard', selfTest: false}), ['--no-self-test']);
	t.deepEqual(checkArgs({resolvers: [], stateDir: '/var/lib/mailwizard', selfTest: true}), []);
	const quoted = schedule.plan(answers(), {...FACTS, checkArgs: ['--state-dir', '/srv/mw state']}, DEBIAN12);
	t.regex(String(file(quoted, SCHEDULE_PATHS.job)!.content), /--state-dir '\/srv\/mw state'$/m);
});

test("check's schedule row: the job and its timer or cron line in place and running is ok; missing or stopped fails with the fix", async (t) => {
	const root = mkdtempSync(join(tmpdir(), 'mw-schedule-row-'));
	const put = (p: string) => (mkdirSync(join(root, p, '..'), {recursive: true}), writeFileSync(join(root, p), 'x'));
	const exec = (code: number) => ({run: async () => ({exitCode: code, stdout: '', stderr: ''})});
	const sysv = (code: number) => ({root, profile: DEBIAN12, exec: exec(code)}) as never;
	const systemd = (code: number) => ({root, profile: SYSTEMD, exec: exec(code)}) as never;
	t.like(await scheduleRow(sysv(0)), {
		id: 'schedule',
		area: 'daemons',
		status: 'fail',
		detail: `no daily check: ${SCHEDULE_PATHS.job} is missing`,
		fix: 'run mailwizard again: its schedule stage installs the daily check',
	});
	put(SCHEDULE_PATHS.job);
	t.like(await scheduleRow(sysv(0)), {status: 'fail', detail: `no daily check: ${SCHEDULE_PATHS.cron} is missing`});
	put(SCHEDULE_PATHS.cron);
	t.like(await scheduleRow(sysv(0)), {status: 'ok', detail: `cron runs ${SCHEDULE_PATHS.job} daily (${SCHEDULE_PATHS.cron})`});
	t.like(await scheduleRow(sysv(1)), {status: 'fail', detail: 'cron is not running: the daily check does not run'});
	t.like(await scheduleRow(systemd(0)), {status: 'fail', detail: `no daily check: ${SCHEDULE_PATHS.timer} is missing`});
	put(SCHEDULE_PATHS.timer);
	t.like(await scheduleRow(systemd(0)), {status: 'ok'});
	t.like(await scheduleRow(systemd(3)), {status: 'fail', fix: `systemctl enable --now ${TIMER}`});
});
