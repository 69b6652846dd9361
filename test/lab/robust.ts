// Issue 20.4 on a real server: a daemon that refuses its new configuration (the validator
// passes, the daemon cannot bind) fails the step with the daemon's own message; the previous
// files come back, the daemon runs again on them and mail still flows; exit 1. Once the cause
// is gone, the next run goes on. Run by the Debian 12 lane after its other checks.
import test from 'ava';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {ANSWERS, answersText, type Lane} from './assertions.ts';
import {NET, PYTHON, pidofHere} from './lab.ts';

const V6_ANSWERS = '/root/mailwizard-v6.yaml';
/** An address the mx does not hold: smtpd then listens on every address (0.0.0.0 and ::) instead of its interface. */
const V6 = '2001:db8::99';
/** Something else already listens on 127.0.0.2:587: the old smtpd.conf (the mx's interface) does not collide, the new one (0.0.0.0) does. */
const HOLDER = `import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.2", 587))
s.listen(5)
print("listening", flush=True)
time.sleep(3600)
`;

export function robust(lane: Lane): void {
	const wizardWith = (answers: string) => lane.WIZARD.map((a) => (a === ANSWERS ? answers : a));

	test.serial('20.4: smtpd refusing its new configuration (port taken): exit 1 with its own message, the old files back, smtpd running on them, mail flows; the next run goes on', async (t) => {
		t.timeout(15 * 60_000);
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const conf = () => l.readFile('mx', '/etc/smtpd.conf');
		const before = await conf();
		const text = answersText('test/lab/robust.ts');
		await l.writeFile('mx', V6_ANSWERS, /^ipv6: /m.test(text) ? text.replace(/^ipv6: .*$/m, `ipv6: ${V6}`) : `${text}ipv6: ${V6}\n`, 0o600);
		const log = join(l.base, 'holder-587.log');
		const holder = l.spawnDaemon('mx', [PYTHON, '-c', HOLDER], log);
		for (let i = 0; i < 50 && !readFileSync(log, 'utf8').includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));
		t.regex(readFileSync(log, 'utf8'), /listening/, 'the port holder is up');

		const failed = await lane.wizard(t, wizardWith(V6_ANSWERS), 'wizard, port 587 taken');
		lane.logRun(t, failed, 40);
		t.is(failed.exitCode, 1);
		t.regex(failed.stdout, /ERROR in step opensmtpd: .*bind: Address already in use$/m, "the step fails with smtpd's own message");
		t.regex(failed.stdout, /restored and opensmtpd is running again on them/);
		t.is(await conf(), before, 'the previous smtpd.conf is back');
		const smtpd = await l.exec('mx', ['sh', '-c', pidofHere('smtpd')]);
		t.not(smtpd.stdout.trim(), '', 'smtpd runs again');
		const token = Math.random().toString(36).slice(2);
		const s = await lane.inbound(['alice@example.test'], token);
		t.is(s.data?.[0], 250, JSON.stringify(s));
		t.is((await lane.maildirHits(token)).length, 1, 'mail still flows: it lands in the Maildir');

		process.kill(holder, 'SIGTERM');
		for (let i = 0; i < 50; i++) {
			const ss = await l.exec('mx', ['ss', '-Hltn', 'sport = :587']);
			if (!ss.stdout.includes('127.0.0.2:587')) break;
			await new Promise((r) => setTimeout(r, 100));
		}
		const fixed = await lane.wizard(t, wizardWith(V6_ANSWERS), 'wizard, port 587 free again');
		lane.logRun(t, fixed, 30);
		t.true(fixed.exitCode === 0 || fixed.exitCode === 75, `goes on past opensmtpd (exit ${fixed.exitCode}; 75: the AAAA is not published in the lab)`);
		t.notRegex(fixed.stdout, /ERROR/);
		t.regex(await conf(), /^listen on 0\.0\.0\.0 port 587/m, 'the new configuration is in place');
		const listening = await l.exec('mx', ['ss', '-Hltn', 'sport = :587']);
		t.regex(listening.stdout, /0\.0\.0\.0:587/, 'smtpd listens on it');

		const back = await lane.wizard(t, lane.WIZARD, 'wizard, the original answers again');
		lane.logRun(t, back, 20);
		t.is(back.exitCode, 0);
		t.is(await conf(), before);
		t.regex((await l.exec('mx', ['ss', '-Hltn', 'sport = :587'])).stdout, new RegExp(`${NET.mx.replace(/\./g, '\\.')}:587`));
	});
}
