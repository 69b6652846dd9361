// Issue 18's stages as tables: answers + facts in, actions out (spam: Redis, Rspamd, Sieve;
// bans: fail2ban, rsyslog without systemd), Dovecot's configuration, the finish, the check's rows.
import test from 'ava';
import {fakeExec} from '../../source/engine/exec.ts';
import type {Action} from '../../source/engine/types.ts';
import {dovecotConf} from '../../steps/07-dovecot.ts';
import {defenceLines} from '../../steps/11-finish.ts';
import {inGroup, spam} from '../../steps/12-spam.ts';
import {bans, parseStarted, serverAddresses, type BansFacts} from '../../steps/13-bans.ts';
import {STEPS} from '../../steps/index.ts';
import {needsOf} from '../../steps/02-packages.ts';
import {jailRows, redisRow} from '../../source/doctor/defence.ts';
import {lint24} from '../../templates/dovecot.ts';
import {DEBIAN12, DEBIAN13, answers} from '../helpers/fixtures.ts';

const paths = (xs: Action[]) => xs.flatMap((a) => (a.kind === 'file' ? [a.path] : []));
const runs = (xs: Action[]) => xs.flatMap((a) => (a.kind === 'run' ? [a.cmd.argv.join(' ')] : []));
const services = (xs: Action[]) => xs.flatMap((a) => (a.kind === 'service' ? [`${a.name} ${a.op}${a.always ? ' always' : ''}`] : []));
const FACTS: BansFacts = {rsyslogRunning: true, missingLogs: [], ownAddresses: ['127.0.0.1', '10.77.0.25', 'fe80::1'], jailThere: false};
const SYSTEMD = {...DEBIAN13, init: 'systemd' as const};
const content = (xs: Action[], p: string) => {
	const f = xs.find((a) => a.kind === 'file' && a.path === p);
	return f && f.kind === 'file' && typeof f.content === 'string' ? f.content : '';
};

test('the registry: spam and bans after OpenSMTPD, before the DNS wait', (t) => {
	const ids = STEPS.map((s) => s.id);
	t.deepEqual(ids.slice(ids.indexOf('opensmtpd'), ids.indexOf('dns-wait') + 1), ['opensmtpd', 'spam', 'bans', 'dns-wait']);
});

test('packages: Redis and Sieve always; fail2ban and nftables with bans; rsyslog only without systemd, python3-systemd only with it', (t) => {
	const names = (init: 'sysv' | 'systemd', over = {}) => needsOf(STEPS, '13', answers(over), init).map((n) => n.name);
	for (const p of ['redis-server', 'dovecot-sieve', 'fail2ban', 'nftables']) t.true(names('sysv').includes(p), p);
	t.true(names('sysv').includes('rsyslog'));
	t.false(names('sysv').includes('python3-systemd'));
	t.true(names('systemd').includes('python3-systemd'));
	t.false(names('systemd').includes('rsyslog'));
	t.false(names('sysv', {bans: false}).includes('fail2ban'), 'bans: false installs no fail2ban');
});

test('spam: Redis on its socket only, Rspamd pointed at it, Bayes and greylisting, the Sieve scripts compiled; _rspamd joins the redis group once', (t) => {
	const first = spam.plan(answers(), {rspamdInRedisGroup: false}, DEBIAN12);
	t.deepEqual(paths(first).slice(0, 4), ['/etc/redis/redis.conf', '/etc/rspamd/local.d/redis.conf', '/etc/rspamd/local.d/classifier-bayes.conf', '/etc/rspamd/local.d/greylist.conf']);
	t.regex(content(first, '/etc/redis/redis.conf'), /^port 0$/m);
	t.regex(content(first, '/etc/redis/redis.conf'), /^unixsocketperm 770$/m);
	t.regex(content(first, '/etc/rspamd/local.d/greylist.conf'), /enabled = false/);
	t.deepEqual(runs(first), ['usermod -aG redis _rspamd']);
	t.deepEqual(services(first), ['redis-server restart', 'rspamd restart always']);
	const sieves = first.filter((a) => a.kind === 'file' && a.path.endsWith('.sieve'));
	t.is(sieves.length, 3);
	for (const s of sieves) t.true(s.kind === 'file' && s.verify?.[0]?.argv[0] === 'sievec', 'compiled with sievec after it is written');
	// The product never enables Rspamd's test patterns: the lab writes them itself.
	t.notRegex(JSON.stringify(first), /enable_test_patterns|gtube_patterns/);
	const again = spam.plan(answers({greylisting: true}), {rspamdInRedisGroup: true}, DEBIAN12);
	t.deepEqual(runs(again), []);
	t.deepEqual(services(again), ['redis-server restart', 'rspamd restart']);
	t.regex(content(again, '/etc/rspamd/local.d/greylist.conf'), /enabled = true/);
	t.true(
		again.some((a) => a.kind === 'notice' && /Greylisting is on/.test(a.title)),
		'said clearly',
	);
});

test('inGroup reads /etc/group', (t) => {
	t.true(inGroup('redis:x:110:_rspamd,other\n', 'redis', '_rspamd'));
	t.false(inGroup('redis:x:110:\n_rspamd:x:111:\n', 'redis', '_rspamd'));
	t.false(inGroup(undefined, 'redis', '_rspamd'));
});

test('Dovecot: the Sieve fragment in both dialects; auth_verbose only with bans; 2.4 stays free of 2.3 habits', (t) => {
	const c23 = dovecotConf(answers(), DEBIAN12, 'ARGON2ID');
	t.regex(c23, /sieve_before = \/etc\/dovecot\/sieve\/spam-to-junk\.sieve/);
	t.regex(c23, /^auth_verbose = yes$/m);
	const c24 = dovecotConf(answers(), DEBIAN13, 'ARGON2ID');
	t.regex(c24, /sieve_script spam_to_junk \{/);
	t.deepEqual(lint24(c24), []);
	t.notRegex(dovecotConf(answers({bans: false}), DEBIAN13, 'ARGON2ID'), /auth_verbose/);
});

test('bans without systemd: the log files and rsyslog first, the mail daemons restarted onto it once, then the jails (files backend)', (t) => {
	const xs = bans.plan(answers({bans: {max_failures: 5, window: '10m', ban: '30s'}, ignore: ['198.51.100.0/24']}), {...FACTS, rsyslogRunning: false, missingLogs: ['/var/log/mail.log']}, DEBIAN12);
	t.deepEqual(runs(xs), ['install -m 0640 -o root -g adm /dev/null /var/log/mail.log', 'rsyslogd']);
	t.deepEqual(services(xs), ['dovecot restart always', 'opensmtpd restart always', 'fail2ban restart']);
	const jail = content(xs, '/etc/fail2ban/jail.d/mailwizard.local');
	t.regex(jail, /^maxretry = 5$/m);
	t.regex(jail, /^bantime = 30s$/m);
	t.regex(jail, /^logpath = \/var\/log\/mail\.log$/m);
	t.regex(jail, /^ignoreip = 127\.0\.0\.0\/8 ::1 192\.0\.2\.\d+ .*10\.77\.0\.25 198\.51\.100\.0\/24$/m);
	t.notRegex(jail, /fe80/);
	const verify = xs.find((a) => a.kind === 'file' && a.path.endsWith('mailwizard.local'));
	t.deepEqual(verify?.kind === 'file' ? verify.verify : undefined, [{argv: ['fail2ban-client', '-t']}]);
	// rsyslog already running: the mail daemons only started if down (a run killed in their restart), not restarted.
	t.deepEqual(services(bans.plan(answers(), FACTS, DEBIAN12)), ['dovecot restart', 'opensmtpd restart', 'fail2ban restart']);
	// Killed after rsyslogd started, before the restarts: the daemon that still logs elsewhere is restarted.
	t.deepEqual(services(bans.plan(answers(), {...FACTS, loggingElsewhere: ['opensmtpd']}, DEBIAN12)), ['dovecot restart', 'opensmtpd restart always', 'fail2ban restart']);
});

test('which mail daemons run since before rsyslogd (their start times in clock ticks)', (t) => {
	t.deepEqual(parseStarted('- 100 120\n'), {rsyslogRunning: false, loggingElsewhere: []});
	t.deepEqual(parseStarted('500 100 600\n'), {rsyslogRunning: true, loggingElsewhere: ['dovecot']});
	t.deepEqual(parseStarted('500 700 - \n'), {rsyslogRunning: true, loggingElsewhere: []});
	t.deepEqual(parseStarted(''), {rsyslogRunning: false, loggingElsewhere: []});
});

test('bans with systemd: the journal, no rsyslog', (t) => {
	const xs = bans.plan(answers(), FACTS, SYSTEMD);
	t.deepEqual(runs(xs), []);
	t.deepEqual(services(xs), ['fail2ban restart']);
	t.regex(content(xs, '/etc/fail2ban/jail.d/mailwizard.local'), /^backend = systemd$/m);
	t.notRegex(content(xs, '/etc/fail2ban/jail.d/mailwizard.local'), /logpath = \/var\/log\/mail\.log/);
});

test('bans: false writes no jail, and takes away the one an earlier run wrote', (t) => {
	t.deepEqual(bans.plan(answers({bans: false}), FACTS, DEBIAN12), []);
	const off = bans.plan(answers({bans: false}), {...FACTS, jailThere: true}, DEBIAN12);
	t.deepEqual(runs(off), ['rm -f /etc/fail2ban/jail.d/mailwizard.local']);
	t.deepEqual(services(off), ['fail2ban restart always']);
});

test('the server’s own addresses: the answers’ and the interfaces’, never loopback or link-local', (t) => {
	t.deepEqual(serverAddresses(answers({ipv6: '2001:db8::25'}), ['127.0.0.1', '::1', 'fe80::2', '10.0.0.5']), [answers().ipv4!, '2001:db8::25', '10.0.0.5']);
});

test('the finish says how to see and lift a ban, with the real jail names', (t) => {
	const lines = defenceLines(answers()).join('\n');
	t.regex(lines, /10 wrong passwords in 10m .* for 1h/);
	t.regex(lines, /fail2ban-client status mailwizard-dovecot/);
	t.regex(lines, /fail2ban-client set mailwizard-dovecot unbanip ADDRESS/);
	t.regex(lines, /mailwizard-opensmtpd/);
	t.regex(defenceLines(answers({bans: false})).join('\n'), /Bans: off/);
	t.regex(defenceLines(answers({greylisting: true})).join('\n'), /Greylisting is on/);
});

test('check: Redis answers on its socket; a jail that is not loaded fails with its fix', async (t) => {
	const ok = fakeExec([
		{match: (a) => a[0] === 'redis-cli', result: {exitCode: 0, stdout: 'PONG\n', stderr: ''}},
		{match: (a) => a[0] === 'fail2ban-client' && a[2] === 'mailwizard-dovecot', result: {exitCode: 0, stdout: '|- Currently banned:\t2\n', stderr: ''}},
		{match: (a) => a[0] === 'fail2ban-client', result: {exitCode: 255, stdout: '', stderr: 'Sorry but the jail does not exist'}},
	]);
	t.is((await redisRow({exec: ok, profile: DEBIAN12})).status, 'ok');
	const rows = await jailRows({exec: ok}, answers());
	t.deepEqual(
		rows.map((r) => [r.id, r.status]),
		[
			['jail:mailwizard-dovecot', 'ok'],
			['jail:mailwizard-opensmtpd', 'fail'],
		],
	);
	t.regex(rows[0]!.detail, /2 banned now/);
	t.deepEqual(await jailRows({exec: ok}, answers({bans: false})), []);
	const down = fakeExec([{match: (a) => a[0] === 'redis-cli', result: {exitCode: 1, stdout: '', stderr: 'Could not connect to Redis'}}]);
	t.is((await redisRow({exec: down, profile: DEBIAN12})).status, 'fail');
});
