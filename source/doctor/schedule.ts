// The schedule row: the daily check is in place and something runs it (the timer is active,
// or cron runs). The daily check cannot mail about its own absence: this row says it.
import {access} from 'node:fs/promises';
import {onRoot} from '../engine/files.ts';
import {serviceRunning} from '../engine/services.ts';
import type {Ctx} from '../engine/types.ts';
import {SCHEDULE_PATHS, TIMER} from '../platform/schedule.ts';
import type {Row} from './row.ts';

const AGAIN = 'run mailwizard again: its schedule stage installs the daily check';

async function exists(root: string, path: string): Promise<boolean> {
	return access(onRoot(root, path)).then(
		() => true,
		() => false,
	);
}

export async function scheduleRow(ctx: Pick<Ctx, 'root' | 'profile' | 'exec'>): Promise<Row> {
	const id = 'schedule';
	const fail = (detail: string, fix: string): Row => ({id, area: 'daemons', status: 'fail', detail, fix, who: 'admin'});
	const systemd = ctx.profile.init === 'systemd';
	const missing = [SCHEDULE_PATHS.job, systemd ? SCHEDULE_PATHS.timer : SCHEDULE_PATHS.cron];
	for (const p of missing) if (!(await exists(ctx.root, p))) return fail(`no daily check: ${p} is missing`, AGAIN);
	if (systemd) {
		if (await serviceRunning(ctx, TIMER)) return {id, area: 'daemons', status: 'ok', detail: `${TIMER} runs ${SCHEDULE_PATHS.job} daily`};
		return fail(`${TIMER} is not active: the daily check does not run`, `systemctl enable --now ${TIMER}`);
	}
	if (await serviceRunning(ctx, 'cron', '/usr/sbin/cron')) return {id, area: 'daemons', status: 'ok', detail: `cron runs ${SCHEDULE_PATHS.job} daily (${SCHEDULE_PATHS.cron})`};
	return fail('cron is not running: the daily check does not run', 'service cron start (and read its log for why it stopped)');
}
