// The inbound defence end to end (issue 18), on the lane's server as the wizard left it, with
// real clients on the lab's remote host (test/lab/defence_client.py): GTUBE refused with 5xx and
// never in a mailbox; Rspamd's "add header" test message filed into Junk, a normal one into
// INBOX; a move into Junk over IMAP teaches Bayes; ten wrong IMAP passwords from one lab address
// ban it on 993 and 587 while the other address still logs in and sends, and the ban ends after
// its time (the lab's answers: bans {ban: 20s}); no other local user can use Redis.
// Rspamd's test patterns are the lab's own (never the product's): written here, then removed.
// Run by the Debian 12 and 13 lanes, with and without systemd, last before their cleanup.
import test, {type ExecutionContext} from 'ava';
import {join} from 'node:path';
import {DIST, STATE, type Lane} from './assertions.ts';
import {LAB_DIR, NET, PYTHON} from './lab.ts';

const CLIENT = join(LAB_DIR, 'defence_client.py');
/** The lab's ban time (answersText: bans {ban: 20s}). */
export const LAB_BAN_SECONDS = 20;
const OVERRIDE = '/etc/rspamd/override.d/options.inc';
const GTUBE = (c: 'X' | 'Y') => `${c}JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tok = () => Math.random().toString(36).slice(2, 12);

type Sent = {rcpt?: [number, string]; data?: [number, string]};
type Reach = Record<string, string>;

export function defence(lane: Lane): void {
	const client = async <T>(cmd: string, args: Record<string, unknown>, timeoutMs = 90_000): Promise<T> => {
		const r = await lane.lab().exec('remote', [PYTHON, CLIENT, cmd, JSON.stringify({host: NET.mx, ...args})], {timeoutMs});
		try {
			return JSON.parse(r.stdout) as T;
		} catch {
			throw new Error(`defence_client ${cmd}: exit ${r.exitCode}: ${r.stdout} ${r.stderr}`);
		}
	};
	const mx = async (script: string) => lane.lab().exec('mx', ['sh', '-c', script], {timeoutMs: 120_000});
	/**
	 * How many messages Rspamd has learned (rspamc stat's "Messages learned", counted by the
	 * controller at once; the Bayes statfiles' own counts are read from Redis on a timer).
	 */
	const learned = async () => Number(/Messages learned: (\d+)/.exec((await mx('rspamc stat')).stdout)?.[1] ?? NaN);
	const restartRspamd = async (t: ExecutionContext) => {
		const r = await mx(
			`(service rspamd stop; sleep 1; service rspamd start) </dev/null >/dev/null 2>&1; i=0; until perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(PeerAddr => "127.0.0.1:11333", Timeout => 1) ? 0 : 1)'; do [ $i -ge 120 ] && exit 1; sleep 0.5; i=$((i+1)); done`,
		);
		t.is(r.exitCode, 0, 'Rspamd answers again after its restart');
	};

	test.serial('defence: the wizard set up Redis on its socket, the compiled Sieve script and both jails', async (t) => {
		if (!lane.needWizard(t)) return;
		const r = await mx(
			'ls -l /run/redis/redis-server.sock; ls /etc/dovecot/sieve/spam-to-junk.svbin; fail2ban-client status; id -nG _rspamd; grep -E "^(bantime|maxretry|ignoreip)" /etc/fail2ban/jail.d/mailwizard.local',
		);
		t.log(r.stdout + r.stderr);
		t.is(r.exitCode, 0);
		t.regex(r.stdout, /^srwxrwx--- .* redis redis .*redis-server\.sock$/m, 'the socket is 770 redis:redis');
		t.regex(r.stdout, /Jail list:\s+mailwizard-dovecot, mailwizard-opensmtpd/);
		t.regex(r.stdout, /\bredis\b/, '_rspamd is in the redis group');
		t.regex(r.stdout, /^bantime = 20s$/m);
		t.regex(r.stdout, /^ignoreip = .*192\.0\.2\.200/m, "the answers' ignore list");
		t.notRegex((await mx('cat /etc/rspamd/local.d/*.conf /etc/rspamd/local.d/*.inc 2>/dev/null')).stdout, /enable_test_patterns|gtube_patterns/, 'no test pattern in the product');
		const st = await lane.wizard(t, [lane.NODE, DIST, 'status', '--state-dir', STATE], 'status');
		t.log(
			st.stdout
				.split('\n')
				.filter((l) => l.startsWith('Defence:'))
				.join('\n'),
		);
		t.regex(st.stdout, /^Defence: Redis answers on \/run\/redis\/redis-server\.sock/m, 'status: Redis');
		t.regex(st.stdout, /^Defence: the Sieve script \S+ is compiled/m, 'status: the Sieve script');
		t.regex(st.stdout, /^Defence: fail2ban's jail mailwizard-dovecot is running/m, 'status: the jails');
		t.regex(st.stdout, /^Defence: fail2ban's jail mailwizard-opensmtpd is running/m);
		t.regex(st.stdout, /^Defence: nftables accepts fail2ban's bans/m, 'status: the bans can reach the firewall (CAP_NET_ADMIN)');
	});

	test.serial('defence: GTUBE is refused with 5xx and lands nowhere; the "add header" test message goes to Junk; a normal one to INBOX', async (t) => {
		t.timeout(240_000);
		if (!lane.needWizard(t)) return;
		// LAB ONLY: Rspamd's test patterns (3.4: enable_test_patterns; 3.8 and later: gtube_patterns).
		await lane.lab().writeFile('mx', OVERRIDE, 'enable_test_patterns = true;\ngtube_patterns = "all";\n');
		await restartRspamd(t);
		const reject = tok();
		const r = await client<Sent>('send', {to: 'alice@example.test', subject: 'gtube', token: reject, body: GTUBE('X')});
		t.log('GTUBE:', JSON.stringify(r));
		t.true((r.data?.[0] ?? 0) >= 500 && (r.data?.[0] ?? 0) < 600, `refused with 5xx at the end of DATA: ${JSON.stringify(r)}`);
		const header = tok();
		const a = await client<Sent>('send', {to: 'alice@example.test', subject: 'maybe spam', token: header, body: GTUBE('Y')});
		t.is(a.data?.[0], 250, JSON.stringify(a));
		const normal = tok();
		const n = await client<Sent>('send', {to: 'alice@example.test', subject: 'lunch', token: normal, body: 'Hello Alice, lunch on Friday? Regards, Carol'});
		t.is(n.data?.[0], 250, JSON.stringify(n));
		const junk = await lane.maildirHits(header);
		t.log('add header:', junk, 'normal:', await lane.maildirHits(normal, 1));
		t.true(junk.length > 0 && junk.every((h) => h.includes('/.Junk/')), `the "add header" message is in Junk only: ${junk.join(', ')}`);
		const inbox = await lane.maildirHits(normal);
		t.true(inbox.length > 0 && inbox.every((h) => !h.includes('/.Junk/')), `the normal message is in INBOX: ${inbox.join(', ')}`);
		t.deepEqual(await lane.maildirHits(reject, 2000), [], 'GTUBE is in no mailbox');
	});

	test.serial('defence: moving a message into Junk over IMAP teaches Rspamd (Bayes learns it as spam)', async (t) => {
		t.timeout(120_000);
		if (!lane.needWizard(t)) return;
		const token = tok();
		// Long enough for Bayes (it skips a message of fewer than 11 tokens).
		const body =
			'Cheap replica watches at the best prices of the season: click now, this limited offer ends tonight, free shipping worldwide, satisfaction guaranteed or your money back, order today and save big.';
		const n = await client<Sent>('send', {to: 'alice@example.test', subject: 'to be moved', token, body});
		t.is(n.data?.[0], 250, JSON.stringify(n));
		t.true((await lane.maildirHits(token)).length > 0);
		const before = await learned();
		const mv = await client<{found: number}>('move', {user: 'alice@example.test', password: lane.PASSWORDS.alice, from: 'INBOX', to: 'Junk', token});
		t.is(mv.found, 1, JSON.stringify(mv));
		let after = before;
		for (let i = 0; i < 20 && !(after > before); i++) {
			await sleep(500);
			after = await learned();
		}
		t.log(`Rspamd's messages learned: ${before} -> ${after}`);
		if (!(after > before)) t.log((await mx('grep -iE "sieve|pipe|learn|rspamc" /var/log/mail.log | tail -15; tail -15 /var/log/rspamd/rspamd.log; rspamc stat | grep -i bayes')).stdout);
		t.true(after > before, 'rspamc stat: one more message learned (IMAPSieve ran rspamc learn_spam)');
		t.regex((await mx('tail -n 200 /var/log/rspamd/rspamd.log')).stdout, /learned message as spam/, "Rspamd's log: learned as spam");
		// The lab's test patterns go: nothing later depends on them.
		await lane.lab().exec('mx', ['rm', '-f', OVERRIDE]);
		await restartRspamd(t);
	});

	test.serial('defence: ten wrong IMAP passwords ban that address on 993 and 587 within seconds; the other address still logs in and sends; the ban ends', async (t) => {
		t.timeout(180_000);
		if (!lane.needWizard(t)) return;
		const banned = NET.remoteNoPtr;
		// The guesses run while the jail is watched: Dovecot's auth penalty holds the last ones back
		// for up to 15 s, longer than the lab's ban may last once the tenth failure is in.
		const started = Date.now();
		const guessing = client<{results: string[]}>('guess', {src: banned, user: 'alice@example.test', n: 10});
		let status = '';
		while (Date.now() - started < 45_000 && !status.includes(banned)) {
			await sleep(500);
			status = (await lane.lab().exec('mx', ['fail2ban-client', 'status', 'mailwizard-dovecot'])).stdout;
		}
		// The ban began within the last poll (500 ms): times below count from here.
		const t0 = Date.now();
		t.log(`banned ${t0 - started} ms after the first guess:\n${status}`);
		t.true(status.includes(banned), `${banned} is in the jail's banned list`);
		const r1 = await client<Reach>('reach', {src: banned, ports: [25, 465, 587, 993]});
		const other = await client<Reach>('reach', {src: NET.remote, ports: [25, 465, 587, 993], user: 'alice@example.test', password: lane.PASSWORDS.alice});
		const sends = await client<{ok: boolean; error?: string}>('submit', {src: NET.remote, user: 'alice@example.test', password: lane.PASSWORDS.alice, to: 'bob@example.test', token: tok()});
		t.log('banned address:', JSON.stringify(r1), 'other address:', JSON.stringify(other), 'sends:', JSON.stringify(sends));
		if (Object.values(r1).includes('open'))
			t.log((await mx('date; grep -hE "Ban|Unban|Found|Restore|ERROR|WARN" /var/log/fail2ban.log | tail -30; nft list ruleset; grep -h 31 /var/log/mail.log | tail -14')).stdout);
		for (const p of ['25', '465', '587', '993']) t.not(r1[p], 'open', `${banned} cannot reach port ${p}`);
		t.is(other['993'], 'open');
		t.is(other['587'], 'open');
		t.is(other.login, 'OK', 'the other address logs in over IMAPS');
		t.true(sends.ok, `the other address sends on 587: ${JSON.stringify(sends)}`);
		// Still banned at half the ban time; reachable again once it is over.
		await sleep(Math.max(0, t0 + (LAB_BAN_SECONDS / 2) * 1000 - Date.now()));
		const half = await client<Reach>('reach', {src: banned, ports: [993, 587]});
		t.log(`after ${Date.now() - t0} ms:`, JSON.stringify(half));
		if (half['993'] === 'open')
			t.log((await mx('date; grep -hE "Ban|Unban|Found|Restore|ERROR|WARN" /var/log/fail2ban.log | tail -30; nft list ruleset; grep -h 31 /var/log/mail.log | tail -14')).stdout);
		t.not(half['993'], 'open', `still banned at half the ban time (${LAB_BAN_SECONDS / 2} s)`);
		let r2: Reach = {};
		while (Date.now() - t0 < (LAB_BAN_SECONDS + 40) * 1000) {
			r2 = await client<Reach>('reach', {src: banned, ports: [993, 587]});
			if (r2['993'] === 'open' && r2['587'] === 'open') break;
			await sleep(1000);
		}
		t.log(`after ${Date.now() - t0} ms (ban ${LAB_BAN_SECONDS} s):`, JSON.stringify(r2));
		t.log((await mx('grep -hE "Ban|Unban|Found" /var/log/fail2ban.log | tail -20')).stdout);
		t.log('guesses:', JSON.stringify(await guessing));
		t.is(r2['993'], 'open', 'the ban ended after its time');
		t.is(r2['587'], 'open');
	});

	test.serial('defence: wrong AUTH on 587 is counted by the OpenSMTPD jail', async (t) => {
		t.timeout(120_000);
		if (!lane.needWizard(t)) return;
		const failed = async () => Number(/Total failed:\s*(\d+)/.exec((await lane.lab().exec('mx', ['fail2ban-client', 'status', 'mailwizard-opensmtpd'])).stdout)?.[1] ?? NaN);
		const before = await failed();
		const s = await client<{results: unknown[]}>('smtpguess', {src: NET.remoteNoPtr, user: 'alice@example.test', n: 3});
		t.log('smtp guesses:', JSON.stringify(s));
		let after = before;
		for (let i = 0; i < 20 && after < before + 3; i++) {
			await sleep(500);
			after = await failed();
		}
		t.log(`mailwizard-opensmtpd total failed: ${before} -> ${after}`);
		t.true(after >= before + 3);
		// Three failures stay under the ban; nothing to lift. (fail2ban-client set mailwizard-opensmtpd unbanip ADDRESS would.)
	});

	test.serial('defence: no other local user can use Redis (socket 770, no TCP port)', async (t) => {
		if (!lane.needWizard(t)) return;
		const other = await mx('setpriv --reuid nobody --regid nogroup --clear-groups redis-cli -s /run/redis/redis-server.sock ping 2>&1');
		const rspamd = await mx('setpriv --reuid _rspamd --regid _rspamd --init-groups redis-cli -s /run/redis/redis-server.sock ping 2>&1');
		const tcp = await mx('redis-cli -h 127.0.0.1 -p 6379 ping 2>&1');
		t.log(`nobody: ${other.stdout.trim()} · _rspamd: ${rspamd.stdout.trim()} · TCP 6379: ${tcp.stdout.trim()}`);
		t.regex(other.stdout, /Permission denied/);
		t.regex(rspamd.stdout, /PONG/, "Rspamd's user can");
		t.regex(tcp.stdout, /Connection refused/);
	});
}
