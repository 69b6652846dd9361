// Day two on a live server (issue 17), run by the day2 lane (Debian 12) and the Debian 13 lane
// on their set-up server: user add / passwd / remove and alias add through the commands, each
// converging only the mail tables; no daemon's master process changes. Then domain add: its
// records printed, published, its mail accepted and DKIM-signed for it.
import test from 'ava';
import {DIST, STATE, WIZARD_TIMEOUT_MS, tag, type Lane} from './assertions.ts';
import {NET, pidofHere} from './lab.ts';

/** The daemons of the mx (pidof sees every process of the machine: the mx's mount namespace only). */
const PIDS = pidofHere('smtpd', 'dovecot', 'rspamd');

export function day2(lane: Lane): void {
	const CAROL = {first: `carol-${tag()}`, second: `carol2-${tag()}`};
	const mw = (...args: string[]) => [lane.NODE, DIST, ...args, '--state-dir', STATE];
	const pids = async () => (await lane.lab().exec('mx', ['sh', '-c', PIDS])).stdout.trim();
	const imap = (password: string, token: string) => lane.lab().client<{ok: boolean; messages?: unknown[]; error?: string}>('imap', {user: 'carol@example.test', password, token, wait: 10});
	const submit = (password: string) =>
		lane.lab().client<{ok: boolean; stage?: string; response?: [number, string]}>('submit', {
			port: 587,
			mode: 'starttls',
			user: 'carol@example.test',
			password,
			from: 'carol@example.test',
			to: ['dave@remote.test'],
			subject: `day2 ${tag()}`,
			token: tag(),
		});

	test.serial('day2: user add with a password file converges only the mail tables, nothing restarts; carol receives and reads over IMAPS; the same command again changes nothing', async (t) => {
		t.timeout(180_000);
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const before = await pids();
		t.truthy(before, 'the daemons run in the mx');
		await l.writeFile('mx', '/root/carol.pass', `${CAROL.first}\n`, 0o600);
		const r = await lane.wizard(t, mw('user', 'add', 'carol', '--password-file', '/root/carol.pass', '--yes'), 'user add carol');
		lane.logRun(t, r, 40);
		t.is(r.exitCode, 0);
		t.notRegex(r.stdout, /^\s+(restart|start) /m, 'no service restarted');
		t.deepEqual([...r.stdout.matchAll(/^\s+write (\S+)$/gm)].map((m) => m[1]).sort(), [
			'/etc/dovecot/users',
			'/etc/smtpd/passwds',
			'/etc/smtpd/recipients',
			'/etc/smtpd/sendas',
			'/etc/smtpd/virtuals',
		]);
		t.is(await pids(), before, 'the same daemons still run');
		const token = tag();
		const s = await lane.inbound(['carol@example.test'], token);
		t.is(s.rcpts[0]?.[0], 250, JSON.stringify(s));
		const i = await imap(CAROL.first, token);
		t.is(i.messages?.length, 1, JSON.stringify(i));
		const t0 = Date.now();
		const again = await lane.wizard(t, mw('user', 'add', 'carol', '--password-file', '/root/carol.pass', '--yes'), 'user add carol again');
		t.is(again.exitCode, 0, again.stdout + again.stderr);
		t.regex(again.stdout, /^Nothing to change: carol is already a user/m);
		t.true(Date.now() - t0 < 15_000, `the second run took ${Date.now() - t0} ms`);
	});

	test.serial('day2: user passwd — the old password is refused on IMAPS and submission, the new one works; nothing restarts', async (t) => {
		t.timeout(180_000);
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const before = await pids();
		await l.writeFile('mx', '/root/carol2.pass', `${CAROL.second}\n`, 0o600);
		const r = await lane.wizard(t, mw('user', 'passwd', 'carol', '--password-file', '/root/carol2.pass', '--yes'), 'user passwd carol');
		lane.logRun(t, r, 40);
		t.is(r.exitCode, 0);
		t.is(await pids(), before, 'the same daemons still run');
		const token = tag();
		t.is((await lane.inbound(['carol@example.test'], token)).rcpts[0]?.[0], 250);
		t.false((await imap(CAROL.first, token)).ok, 'the old password is refused on IMAPS');
		t.is((await imap(CAROL.second, token)).messages?.length, 1, 'the new one reads the mail');
		const old = await submit(CAROL.first);
		t.false(old.ok, JSON.stringify(old));
		const now = await submit(CAROL.second);
		t.true(now.ok, JSON.stringify(now));
	});

	test.serial('day2: alias add — mail to the alias reaches its target; nothing restarts', async (t) => {
		t.timeout(180_000);
		if (!lane.needWizard(t)) return;
		const before = await pids();
		const r = await lane.wizard(t, mw('alias', 'add', 'orders', 'carol', '--yes'), 'alias add orders carol');
		lane.logRun(t, r, 40);
		t.is(r.exitCode, 0);
		t.is(await pids(), before, 'the same daemons still run');
		const token = tag();
		t.is((await lane.inbound(['orders@example.test'], token)).rcpts[0]?.[0], 250);
		const hits = await lane.maildirHits(token);
		t.true(hits.length === 1 && hits[0]!.startsWith('/carol/Maildir/'), `delivered to carol: ${hits.join(', ')}`);
	});

	test.serial('day2: user remove — RCPT to the removed address is refused with 550, the mailbox stays and the command says where', async (t) => {
		t.timeout(180_000);
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const before = await pids();
		// The alias to carol must go first: the same validation as the answers file says so.
		const refused = await lane.wizard(t, mw('user', 'remove', 'carol', '--yes'), 'user remove carol (alias left)');
		t.is(refused.exitCode, 2, refused.stdout + refused.stderr);
		t.regex(refused.stderr, /aliases\.orders: "carol" is neither a user nor an alias/);
		t.is((await lane.wizard(t, mw('alias', 'remove', 'orders', '--yes'), 'alias remove orders')).exitCode, 0);
		const r = await lane.wizard(t, mw('user', 'remove', 'carol', '--yes'), 'user remove carol');
		lane.logRun(t, r, 40);
		t.is(r.exitCode, 0);
		t.regex(r.stdout, /The mailbox stays in \/var\/vmail\/carol/);
		t.is(await pids(), before, 'the same daemons still run');
		const s = await lane.inbound(['carol@example.test'], tag());
		t.is(s.rcpts[0]?.[0], 550, JSON.stringify(s));
		t.is((await l.exec('mx', ['test', '-d', '/var/vmail/carol/Maildir'])).exitCode, 0, 'the mailbox is still on disk');
	});

	test.serial('day2: domain add — its records are printed and waited for (75); once published, mail to it is accepted and mail from it is DKIM-signed for it', async (t) => {
		t.timeout(WIZARD_TIMEOUT_MS + 120_000);
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		// Inside the lab's example.test zone (which NSD serves): its records can be published there.
		const DOMAIN = 'shop.example.test';
		const add = mw('domain', 'add', DOMAIN, '--yes', '--no-wait', '--resolver', NET.dns);
		const first = await lane.wizard(t, add, 'domain add');
		lane.logRun(t, first, 60);
		t.is(first.exitCode, 75, 'the records are not published yet: it waits, resumable');
		t.regex(first.stdout, /MX +@ +shop\.example\.test\. +\d+ +10 mail\.example\.test\./, 'the MX record to publish is printed');
		t.regex(first.stdout, /mail\._domainkey\.shop\.example\.test\. +\d+ +v=DKIM1; k=rsa;.*p=[A-Za-z0-9+/]{20}/, 'the DKIM record with its key is printed');
		const z = await lane.wizard(t, mw('dns', '--zone', '--resolver', NET.dns), 'dns --zone (new domain)');
		t.is(z.exitCode, 0, z.stderr);
		const fragment = z.stdout
			.split(/^(?=; zone )/m)
			.filter((part) => part.startsWith(`; zone ${DOMAIN}:`))
			.join('');
		t.regex(fragment, /_domainkey\.shop\.example\.test\.\s+\d*\s*IN\s+TXT\s+\(?\s*"v=DKIM1;/);
		await l.appendZone(fragment);
		t.deepEqual(await l.dig(DOMAIN, 'MX'), ['10 mail.example.test.']);
		const again = await lane.wizard(t, add, 'domain add (published)');
		lane.logRun(t, again, 30);
		t.is(again.exitCode, 0, 'the records are seen: the domain is set up');
		t.regex(again.stdout, /DNS: (\d+)\/\1 records/);

		const token = tag();
		const s = await lane.inbound([`alice@${DOMAIN}`], token);
		t.is(s.rcpts[0]?.[0], 250, JSON.stringify(s));
		const hits = await lane.maildirHits(token);
		t.true(hits.length === 1 && /^\/?alice\//.test(hits[0]!), `delivered to alice: ${hits.join(', ') || '(nothing)'}`);

		const out = tag();
		const sent = await l.client<{ok: boolean}>('submit', {
			port: 587,
			mode: 'starttls',
			user: 'alice@example.test',
			password: lane.PASSWORDS.alice,
			from: `alice@${DOMAIN}`,
			to: ['bob@remote.test'],
			subject: `day2 domain ${out}`,
			token: out,
		});
		t.true(sent.ok, JSON.stringify(sent));
		const m = await l.waitSink((x) => x.data.includes(out));
		if (!m) {
			await lane.queueEvidence(t);
			return t.fail('nothing arrived at remote.test within 30 s');
		}
		const v = await l.client<{dkim_pass: boolean; dkim_d: string[]; dkim_error?: string}>('verify', {file: m.file});
		t.log(`at remote: DKIM ${v.dkim_pass ? 'pass' : 'FAIL'} d=${v.dkim_d?.join(',')}${v.dkim_error ? ` (${v.dkim_error})` : ''}`);
		t.true(v.dkim_pass, 'the signature verifies against the published record');
		t.true(v.dkim_d.includes(DOMAIN), `signed for d=${DOMAIN}`);
	});
}
