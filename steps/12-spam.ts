// Spam (issue 18): Rspamd's verdicts acted on. Redis (only on a Unix socket, for the redis group,
// which Rspamd's user joins) holds Bayes and greylisting; Bayes learns on its own and from the
// users; greylisting is an answer (off by default). Sieve files a message Rspamd marked "add
// header" into Junk, and a move into or out of Junk over IMAP teaches Bayes (rspamc). Rspamd's
// "reject" is refused by OpenSMTPD's filter at the end of DATA (filter-rspamd, already there).
// Dovecot's side (the plugins, the script paths) is in the dovecot stage's dovecot.conf.
import type {Answers} from '../source/answers.ts';
import {readText} from '../source/engine/files.ts';
import type {Action, Step} from '../source/engine/types.ts';
import {REDIS_PATHS, redisConf, rspamdRedisConf} from '../templates/redis.ts';
import {bayesConf, greylistConf, RSPAMD_DEFENCE_PATHS} from '../templates/rspamd-defence.ts';
import {SIEVE_PATHS, sieveFiles} from '../templates/sieve.ts';

export type SpamFacts = {
	/** Rspamd's user is in the redis group (it may use the socket). */
	readonly rspamdInRedisGroup: boolean;
};

/** Whether `user` is a member of `group` in /etc/group's text. */
export function inGroup(etcGroup: string | undefined, group: string, user: string): boolean {
	const line = (etcGroup ?? '').split('\n').find((l) => l.startsWith(`${group}:`));
	return Boolean(line?.split(':')[3]?.split(',').includes(user));
}

function redis(f: SpamFacts): Action[] {
	const join: Action[] = f.rspamdInRedisGroup
		? []
		: [{kind: 'run', cmd: {argv: ['usermod', '-aG', 'redis', '_rspamd']}, why: "Rspamd's user joins the redis group: only that group may use Redis's socket"}];
	return [
		{kind: 'dir', path: '/var/log/redis', mode: 0o2750, owner: 'redis', group: 'adm', why: "Redis's log (Debian's place for it)"},
		{
			kind: 'file',
			path: REDIS_PATHS.conf,
			content: redisConf({kind: 'socket'}),
			mode: 0o640,
			owner: 'redis',
			group: 'redis',
			restarts: 'redis-server',
			why: `Redis for Rspamd: no TCP port, only the socket ${REDIS_PATHS.socket} (mode 770, group redis)`,
		},
		...join,
		{kind: 'service', name: 'redis-server', op: 'restart', why: 'Redis on its socket'},
	];
}

function rspamd(a: Answers, f: SpamFacts): Action[] {
	const check = [{argv: ['rspamadm', 'configtest']}];
	return [
		{
			kind: 'file',
			path: REDIS_PATHS.rspamdConf,
			content: rspamdRedisConf({kind: 'socket'}),
			mode: 0o640,
			owner: 'root',
			group: '_rspamd',
			verify: check,
			restarts: 'rspamd',
			why: "Rspamd's modules use Redis over its socket",
		},
		{
			kind: 'file',
			path: RSPAMD_DEFENCE_PATHS.bayes,
			content: bayesConf(),
			mode: 0o644,
			verify: check,
			restarts: 'rspamd',
			why: 'Bayes in Redis: learns from clear verdicts and from what users move into and out of Junk',
		},
		{
			kind: 'file',
			path: RSPAMD_DEFENCE_PATHS.greylist,
			content: greylistConf(a.greylisting),
			mode: 0o644,
			verify: check,
			restarts: 'rspamd',
			why: a.greylisting ? 'greylisting on (answer greylisting: true)' : 'greylisting off (answer greylisting: false, the default)',
		},
		// A new group is taken at the process's start: restart even when no file changed.
		{kind: 'service', name: 'rspamd', op: 'restart', why: 'load Redis, Bayes and greylisting', ...(f.rspamdInRedisGroup ? {} : {always: true})},
	];
}

function sieve(): Action[] {
	const compile = (path: string) => [{argv: ['sievec', '-c', '/etc/dovecot/dovecot.conf', path]}];
	return [
		{kind: 'dir', path: SIEVE_PATHS.dir, mode: 0o755, owner: 'root', group: 'root', why: 'the global Sieve scripts (root writes them, Dovecot reads them)'},
		{kind: 'dir', path: SIEVE_PATHS.pipeDir, mode: 0o755, owner: 'root', group: 'root', why: 'the only programs a Sieve script may pipe a message to'},
		...sieveFiles().map((s): Action => ({
			kind: 'file',
			path: s.path,
			content: s.content,
			mode: s.mode,
			owner: 'root',
			group: 'root',
			...(s.path.endsWith('.sieve') ? {verify: compile(s.path)} : {}),
			why: SIEVE_WHY[s.path] ?? 'Sieve',
		})),
	];
}

const SIEVE_WHY: Record<string, string> = {
	[SIEVE_PATHS.spamToJunk]: 'before each delivery: a message Rspamd marked as spam goes into Junk (compiled with sievec)',
	[SIEVE_PATHS.reportSpam]: 'IMAPSieve: a message moved into Junk is learned as spam',
	[SIEVE_PATHS.reportHam]: 'IMAPSieve: a message moved out of Junk (not to Trash) is learned as ham',
	[SIEVE_PATHS.learnSpam]: 'hands the message to rspamc learn_spam',
	[SIEVE_PATHS.learnHam]: 'hands the message to rspamc learn_ham',
};

export const spam: Step<SpamFacts> = {
	id: 'spam',
	title: 'Spam: refused, or filed into Junk; Junk moves teach Rspamd',
	summary: 'Redis for Rspamd (Bayes, greylisting), Sieve files spam into Junk',
	packages: {'12': ['redis-server', 'dovecot-sieve'], '13': ['redis-server', 'dovecot-sieve']},
	// redis-server is a link to redis-check-rdb: that is the binary its process runs.
	daemons: [
		{service: 'redis-server', exe: '/usr/bin/redis-check-rdb'},
		{service: 'rspamd', exe: '/usr/bin/rspamd', ready: {tcp: 11333}},
	],
	async facts(ctx) {
		return {rspamdInRedisGroup: inGroup(await readText(ctx.root, '/etc/group'), 'redis', '_rspamd')};
	},
	plan(a, f) {
		const notice: Action[] = a.greylisting
			? [
					{
						kind: 'notice',
						level: 'warn',
						title: 'Greylisting is on',
						lines: [
							'The first mail from every new sender is answered "451 try again later" and arrives when the sender retries, usually after 5 to 30 minutes.',
							'greylisting: false in the answers turns it off.',
						],
					},
				]
			: [];
		return [...redis(f), ...rspamd(a, f), ...sieve(), ...notice];
	},
};
