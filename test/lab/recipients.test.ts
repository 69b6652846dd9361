// Who the server accepts mail for, changed on a live server (issue 9): an alias added by a
// re-run touches only the two tables and reloads them without restarting smtpd; a
// catch-all, only when asked for, accepts any address and delivers it to its user.
import test from 'ava';
import {ANSWERS, answersText, makeLane, tag} from './assertions.ts';
import {Lab, labUnavailable, pidofHere} from './lab.ts';

const unavailable = await labUnavailable();

const PIDS = pidofHere('smtpd', 'dovecot', 'rspamd');

if (unavailable) {
	test.skip(`lab (recipients) skipped: ${unavailable}`, () => {});
} else {
	const lane = makeLane({
		file: 'test/lab/recipients.test.ts',
		node: process.execPath.startsWith('/usr/') ? process.execPath : '/usr/bin/node',
		up: (log) => Lab.up({log}),
		packagesNote: "the mx sees the machine's packages",
	});
	lane.hooks();
	lane.wizardRuns();

	/** Authenticated submission on 587 with MAIL FROM `from` (issue 14: the sendas table). */
	const submitAs = (who: 'alice' | 'bob', from: string) =>
		lane.lab().client<{ok: boolean; stage?: string; response?: [number, string]}>('submit', {
			port: 587,
			mode: 'starttls',
			user: `${who}@example.test`,
			password: lane.PASSWORDS[who],
			from,
			to: ['carol@remote.test'],
			subject: `sendas ${tag()}`,
			token: tag(),
		});

	test.serial('recipients: a re-run that only adds an alias rewrites the three tables (recipients, virtuals, sendas) and reloads them; nothing restarts', async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const before = await l.exec('mx', ['sh', '-c', PIDS]);
		await l.writeFile('mx', ANSWERS, answersText('test/lab/recipients.test.ts').replace('aliases:\n', 'aliases:\n  sales: bob\n'), 0o600);
		const r = await lane.wizard(t, lane.WIZARD, 'wizard: alias added');
		lane.logRun(t, r, 40);
		t.is(r.exitCode, 0);
		const writes = [...r.stdout.matchAll(/^\s+write (\S+)$/gm)].map((m) => m[1]);
		t.deepEqual(writes, ['/etc/smtpd/recipients', '/etc/smtpd/virtuals', '/etc/smtpd/sendas']);
		t.notRegex(r.stdout, /^\s+(restart|start) /m, 'no service restarted');
		t.is((await l.exec('mx', ['sh', '-c', PIDS])).stdout, before.stdout, 'the same daemons still run');
		const token = tag();
		const s = await lane.inbound(['sales@example.test'], token);
		t.is(s.rcpts[0]?.[0], 250, JSON.stringify(s));
		const hits = await lane.maildirHits(token);
		t.true(hits.length === 1 && hits[0]!.startsWith('/bob/Maildir/'), `delivered to bob: ${hits.join(', ')}`);
		// The reloaded sendas table: bob may now send as sales@ (without a restart).
		const sent = await submitAs('bob', 'sales@example.test');
		t.true(sent.ok, JSON.stringify(sent));
	});

	test.serial("recipients: with catch_all an unknown address is accepted and lands in its user's mailbox; its user still cannot send as it", async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const unknown = `nobody-${tag()}@example.test`;
		const refused = await lane.inbound([unknown], tag());
		t.is(refused.rcpts[0]?.[0], 550, 'refused while there is no catch-all');
		await l.writeFile('mx', ANSWERS, `${answersText('test/lab/recipients.test.ts')}catch_all: alice\n`, 0o600);
		const r = await lane.wizard(t, lane.WIZARD, 'wizard: catch-all');
		lane.logRun(t, r, 40);
		t.is(r.exitCode, 0);
		t.regex(r.stdout, /Catch-all/, 'the wizard warns what a catch-all costs');
		const token = tag();
		const s = await lane.inbound([unknown], token);
		t.is(s.rcpts[0]?.[0], 250, JSON.stringify(s));
		const hits = await lane.maildirHits(token);
		t.true(hits.length === 1 && hits[0]!.startsWith('/alice/Maildir/'), `delivered to alice: ${hits.join(', ')}`);
		// A catch-all delivers every address to alice; it does not let her send as any of them.
		const sent = await submitAs('alice', unknown);
		t.false(sent.ok, JSON.stringify(sent));
		t.is(sent.response?.[0], 530, JSON.stringify(sent));
		const q = await l.exec('mx', ['smtpctl', 'show', 'queue']);
		t.is(q.stdout.trim(), '', 'nothing stuck in the queue');
	});

	lane.cleanup();
}
