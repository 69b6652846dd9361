// Where the daily check lives (the schedule stage installs it; check verifies it is in place).
export const SCHEDULE_PATHS = {
	bundle: '/usr/local/lib/mailwizard/mailwizard.js',
	command: '/usr/local/sbin/mailwizard',
	job: '/usr/local/lib/mailwizard/daily-check',
	cron: '/etc/cron.d/mailwizard',
	service: '/etc/systemd/system/mailwizard-check.service',
	timer: '/etc/systemd/system/mailwizard-check.timer',
} as const;
export const TIMER = 'mailwizard-check.timer';
