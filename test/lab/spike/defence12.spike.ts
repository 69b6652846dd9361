// SPIKE (issue 18), not a product test: after the wizard ran on the lab mx, write the defence
// files by hand from the templates, restart the daemons and check what works end to end.
import test, {type ExecutionContext} from 'ava';
import {join} from 'node:path';
import {Lab, labUnavailable, NET} from '../lab.ts';
import {makeLane, REPO} from '../assertions.ts';
import {redisConf, rspamdRedisConf, REDIS_PATHS} from '../../../templates/redis.ts';
import {bayesConf, greylistConf, RSPAMD_DEFENCE_PATHS} from '../../../templates/rspamd-defence.ts';
import {DOVECOT_SIEVE_CONF, sieveFiles} from '../../../templates/sieve.ts';
import {DOVECOT_AUTH_LOG, fail2banFiles, DEFAULT_BANS} from '../../../templates/fail2ban.ts';

const unavailable = await labUnavailable();
const CLIENT = join(REPO, 'test/lab/defence_client.py');
const GTUBE = (c: string) => `${c}JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X`;
const tok = () => Math.random().toString(36).slice(2, 10);

if (unavailable) test.skip(`spike: ${unavailable}`, () => {});
else {
	const lane = makeLane({
		file: 'test/lab/spike/defence12.spike.ts',
		node: process.execPath.startsWith('/usr/') ? process.execPath : '/usr/bin/node',
		up: (log) => Lab.up({log}),
		packagesNote: 'shared',
	});
	const {lab, PASSWORDS} = lane;
	lane.hooks();
	lane.wizardRuns();
	const sh = async (t: ExecutionContext, what: string, script: string) => {
		const r = await lab().exec('mx', ['sh', '-c', script], {timeoutMs: 180_000});
		t.log(`[${what}] exit ${r.exitCode}\n${(r.stdout + r.stderr).trim().split('\n').slice(-25).join('\n')}`);
		return r;
	};
	const client = async <T>(cmd: string, args: Record<string, unknown>, timeoutMs = 120_000): Promise<T> => {
		const r = await lab().exec('remote', ['python3', CLIENT, cmd, JSON.stringify(args)], {timeoutMs});
		try {
			return JSON.parse(r.stdout) as T;
		} catch {
			throw new Error(`${cmd}: ${r.stdout} ${r.stderr}`);
		}
	};

	test.serial('spike: Redis (socket), Rspamd Bayes + test patterns, Sieve, fail2ban written and started', async (t) => {
		t.timeout(600_000);
		const l = lab();
		t.is(
			(
				await sh(
					t,
					'rsyslog',
					'touch /var/log/auth.log /var/log/mail.log && rsyslogd </dev/null >/dev/null 2>&1 && sleep 1 && logger -p mail.info spike-hello && sleep 0.5 && tail -2 /var/log/mail.log; (service opensmtpd stop; sleep 2; service opensmtpd start) </dev/null >/dev/null 2>&1; sleep 1; pidof smtpd',
				)
			).exitCode,
			0,
		);
		await l.writeFile('mx', REDIS_PATHS.conf, redisConf({kind: 'socket'}), 0o640, 'redis:redis');
		await l.writeFile('mx', REDIS_PATHS.rspamdConf, rspamdRedisConf({kind: 'socket'}), 0o640, 'root:_rspamd');
		await l.writeFile('mx', RSPAMD_DEFENCE_PATHS.bayes, bayesConf());
		await l.writeFile('mx', RSPAMD_DEFENCE_PATHS.greylist, greylistConf(false));
		// LAB ONLY: test patterns, and the lab's private addresses are not "local".
		await l.writeFile('mx', '/etc/rspamd/override.d/options.inc', 'enable_test_patterns = true;\ngtube_patterns = "all";\nlocal_addrs = [];\n');
		t.is(
			(
				await sh(
					t,
					'redis',
					'usermod -aG redis _rspamd && mkdir -p /var/log/redis && chown redis:redis /var/log/redis && service redis-server start </dev/null >/dev/null 2>&1; sleep 1; ls -l /run/redis; id _rspamd',
				)
			).exitCode,
			0,
		);
		t.is((await sh(t, 'rspamd', 'rspamadm configtest && (service rspamd stop; sleep 2; service rspamd start) </dev/null >/dev/null 2>&1; sleep 3; rspamc stat | head -20')).exitCode, 0);
		for (const f of sieveFiles()) {
			await l.exec('mx', ['mkdir', '-p', f.path.slice(0, f.path.lastIndexOf('/'))]);
			await l.writeFile('mx', f.path, f.content, f.mode);
		}
		const conf = (await l.readFile('mx', '/etc/dovecot/dovecot.conf')) + DOVECOT_SIEVE_CONF['2.3']() + DOVECOT_AUTH_LOG;
		await l.writeFile('mx', '/etc/dovecot/dovecot.conf', conf);
		t.is(
			(
				await sh(
					t,
					'dovecot',
					'doveconf -n >/dev/null && (service dovecot stop; sleep 2; service dovecot start) </dev/null >/dev/null 2>&1; sleep 1; for s in /etc/dovecot/sieve/*.sieve; do sievec -c /etc/dovecot/dovecot.conf "$s" || exit 1; done; ls -l /etc/dovecot/sieve; doveadm who; pidof dovecot',
				)
			).exitCode,
			0,
		);
		// Logs for fail2ban without systemd: rsyslog (its imuxsock takes /dev/log over from the lab's syslog).
		for (const f of fail2banFiles({bans: {...DEFAULT_BANS, ban: '30s'}, serverAddresses: [NET.mx], ignore: [NET.remoteNoPtr], logs: 'files'})) await l.writeFile('mx', f.path, f.content);
		t.is((await sh(t, 'fail2ban', 'fail2ban-client -t && service fail2ban start </dev/null >/dev/null 2>&1; sleep 3; fail2ban-client status')).exitCode, 0);
	});

	test.serial('spike: GTUBE refused with 5xx; add-header GTUBE into Junk; a normal message into INBOX', async (t) => {
		const l = lab();
		const r = await client<{data: [number, string]}>('send', {to: 'alice@example.test', subject: 'reject', token: tok(), body: GTUBE('X')});
		t.log('reject:', JSON.stringify(r));
		t.true(r.data[0] >= 500 && r.data[0] < 600);
		const ah = tok();
		const a = await client<{data: [number, string]}>('send', {to: 'alice@example.test', subject: 'add header', token: ah, body: GTUBE('Y')});
		t.log('add header:', JSON.stringify(a));
		t.is(a.data[0], 250);
		const ok = tok();
		const n = await client<{data: [number, string]}>('send', {to: 'alice@example.test', subject: 'normal', token: ok, body: 'Hello Alice, lunch on Friday? Regards, Carol'});
		t.is(n.data[0], 250);
		const hits = await lane.maildirHits(ah);
		t.log('add header at', hits);
		t.true(hits.length > 0 && hits.every((h) => h.includes('/.Junk/')));
		const okHits = await lane.maildirHits(ok);
		t.log('normal at', okHits);
		t.true(okHits.length > 0 && okHits.every((h) => !h.includes('/.Junk/')));
		const junk = await l.exec('mx', ['sh', '-c', `grep -l ${ah} -r /var/vmail/alice/Maildir/.Junk | head -1 | xargs sed -n '1,/^$/p'`]);
		t.log(junk.stdout);
		// Moving the normal message into Junk teaches Rspamd.
		const before = (await l.exec('mx', ['rspamc', 'stat'])).stdout;
		const mv = await client<Record<string, unknown>>('move', {user: 'alice@example.test', password: PASSWORDS.alice, from: 'INBOX', to: 'Junk', token: ok});
		t.log('move:', JSON.stringify(mv));
		await new Promise((r) => setTimeout(r, 3000));
		const after = (await l.exec('mx', ['rspamc', 'stat'])).stdout;
		t.log(
			`rspamc stat before:\n${before
				.split('\n')
				.filter((x) => /BAYES|learn/i.test(x))
				.join('\n')}\nafter:\n${after
				.split('\n')
				.filter((x) => /BAYES|learn/i.test(x))
				.join('\n')}`,
		);
		t.not(before, after);
		const back = await client<Record<string, unknown>>('move', {user: 'alice@example.test', password: PASSWORDS.alice, from: 'Junk', to: 'INBOX', token: ok});
		t.log('move back:', JSON.stringify(back));
		await new Promise((r) => setTimeout(r, 3000));
		t.log(
			`after move back:\n${(await l.exec('mx', ['rspamc', 'stat'])).stdout
				.split('\n')
				.filter((x) => /BAYES|learn/i.test(x))
				.join('\n')}`,
		);
		t.log((await l.exec('mx', ['sh', '-c', 'grep -iE "sieve|pipe|imapsieve" /var/log/mail.log | tail -12'])).stdout);
	});

	test.serial('spike: ten wrong IMAP passwords ban the address on 993 and 587; the other address still works; the ban ends', async (t) => {
		t.timeout(300_000);
		const l = lab();
		const g = await client<{results: string[]}>('guess', {src: NET.remote, user: 'alice@example.test', n: 10});
		t.log('guesses:', JSON.stringify(g));
		let banned = '';
		for (let i = 0; i < 30 && !banned.includes(NET.remote); i++) {
			await new Promise((r) => setTimeout(r, 1000));
			banned = (await l.exec('mx', ['fail2ban-client', 'status', 'mailwizard-dovecot'])).stdout;
		}
		t.log(banned);
		t.true(banned.includes(NET.remote));
		t.log((await l.exec('mx', ['nft', 'list', 'ruleset'])).stdout);
		const r1 = await client<Record<string, string>>('reach', {src: NET.remote, ports: [25, 465, 587, 993]});
		const r2 = await client<Record<string, string>>('reach', {src: NET.remoteNoPtr, ports: [25, 465, 587, 993], user: 'alice@example.test', password: PASSWORDS.alice});
		t.log('banned address:', JSON.stringify(r1), 'other address:', JSON.stringify(r2));
		t.not(r1['993'], 'open');
		t.not(r1['587'], 'open');
		t.is(r2['993'], 'open');
		t.is(r2.login, 'OK');
		await new Promise((r) => setTimeout(r, 35_000));
		const r3 = await client<Record<string, string>>('reach', {src: NET.remote, ports: [993, 587]});
		t.log('after the ban time:', JSON.stringify(r3));
		t.is(r3['993'], 'open');
		// OpenSMTPD jail: wrong AUTH on 587 from the (now unbanned) address.
		const s = await client<{results: unknown[]}>('smtpguess', {src: NET.remote, user: 'alice@example.test', n: 5});
		t.log('smtp guesses:', JSON.stringify(s));
		await new Promise((r) => setTimeout(r, 3000));
		t.log((await l.exec('mx', ['fail2ban-client', 'status', 'mailwizard-opensmtpd'])).stdout);
		t.log((await l.exec('mx', ['sh', '-c', 'grep -E "smtpd.*(authentication|connected)" /var/log/mail.log | tail -6; grep -E "auth.*(mismatch|unknown)" /var/log/mail.log | tail -3'])).stdout);
	});

	test.serial('spike: Redis refuses another local user', async (t) => {
		const r = await lab().exec('mx', [
			'sh',
			'-c',
			`setpriv --reuid nobody --regid nogroup --clear-groups redis-cli -s ${REDIS_PATHS.socket} ping; setpriv --reuid _rspamd --regid _rspamd --init-groups redis-cli -s ${REDIS_PATHS.socket} ping; redis-cli -h 127.0.0.1 ping; redis-cli -s ${REDIS_PATHS.socket} --scan | head`,
		]);
		t.log(r.stdout + r.stderr);
		t.regex(r.stdout + r.stderr, /Permission denied/);
	});
}
