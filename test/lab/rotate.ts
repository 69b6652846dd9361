// Key rotation on a set-up server (issue 21), added to a lane whose wizard has run (day2):
// rotate dkim (the old selector signs until the new record is served, mail sent during the
// switch all arrives and verifies, --finish) and rotate srs (a bounce to an address made
// with the old SRS key is still accepted, refused once --finish dropped it).
import test, {type ExecutionContext} from 'ava';
import {DIST, STATE, tag, type Lane} from './assertions.ts';
import {NET, pidofHere, type SinkMessage} from './lab.ts';

const SIGNING = '/etc/rspamd/local.d/dkim_signing.conf';

type Verify = {dkim_pass: boolean; dkim_s: string[]; dkim_error?: string; spf: [string, string]};
type Session = {mail?: [number, string]; rcpts: [number, string][]; data?: [number, string]; error?: string};

/** The records of a zone fragment whose owner names start with `prefix` (a TXT may span lines in parentheses). */
export function recordBlocks(zone: string, prefix: string): string {
	const lines = zone.split('\n');
	const out: string[] = [];
	for (let start = 0; start < lines.length; start++) {
		if (!lines[start]!.startsWith(prefix)) continue;
		let end = start;
		if (lines[start]!.includes('(')) while (end < lines.length - 1 && !lines[end]!.includes(')')) end++;
		out.push(...lines.slice(start, end + 1));
		start = end;
	}
	return out.join('\n');
}

export function rotation(lane: Lane): void {
	const mw = (...args: string[]) => [lane.NODE, DIST, ...args, '--state-dir', STATE, '--resolver', NET.dns];
	const lab = () => lane.lab();

	/** Rspamd's main process, as the mx sees it (a reload restarts its workers, never it). */
	async function rspamdMain(): Promise<string> {
		const r = await lab().exec('mx', ['sh', '-c', `for p in $(${pidofHere('rspamd')}); do echo "$p $(awk '/^PPid:/ {print $2}' /proc/$p/status)"; done`]);
		const rows = r.stdout
			.trim()
			.split('\n')
			.map((l) => l.trim().split(/\s+/))
			.filter((x) => x.length === 2);
		const pids = rows.map(([p]) => p);
		return rows
			.filter(([, ppid]) => !pids.includes(ppid))
			.map(([p]) => p)
			.join(' ');
	}

	/** alice submits one mail to bob@remote.test on 587; its token, or why it was not taken. */
	async function submit(label: string): Promise<{token: string; error?: string}> {
		const token = tag();
		const s = await lab().client<{ok: boolean; error?: string}>('submit', {
			port: 587,
			mode: 'starttls',
			user: 'alice@example.test',
			password: lane.PASSWORDS.alice,
			from: 'alice@example.test',
			to: ['bob@remote.test'],
			subject: `${label} ${token}`,
			token,
		});
		return s.ok ? {token} : {token, error: `${label}: submit: ${JSON.stringify(s)}`};
	}

	/** What arrived at remote.test with this token, verified against the lab DNS. */
	async function arrived(t: ExecutionContext, token: string, label: string): Promise<{v?: Verify; m?: SinkMessage; error?: string}> {
		const m = await lab().waitSink((x) => x.data.includes(token));
		if (!m) return {error: `${label}: nothing arrived at remote.test`};
		const v = await lab().client<Verify>('verify', {file: m.file});
		t.log(`${label}: DKIM ${v.dkim_pass ? 'pass' : 'FAIL'} s=${v.dkim_s?.join(',')}${v.dkim_error ? ` (${v.dkim_error})` : ''}`);
		return {v, m};
	}

	async function sendAndVerify(t: ExecutionContext, label: string): Promise<{v?: Verify; m?: SinkMessage; error?: string}> {
		const s = await submit(label);
		return s.error ? {error: s.error} : arrived(t, s.token, label);
	}

	/** A bounce (null sender) from remote.test to an address of the mx. */
	const bounce = (rcpt: string, token: string) => lane.inbound([rcpt], token, {from: ''}) as Promise<Session>;

	test.serial('rotate dkim: the new key waits for its record (exit 75) and the old selector still signs; a mail sent then verifies', async (t) => {
		t.timeout(180_000);
		if (!lane.needWizard(t)) return;
		const r = await lane.wizard(t, mw('rotate', 'dkim', '--selector', 'lab2', '--no-wait'), 'rotate dkim (record not published)');
		lane.logRun(t, r, 30);
		t.is(r.exitCode, 75);
		t.regex(r.stdout, /lab2\._domainkey\.example\.test/, 'the new record is printed');
		t.regex(await lab().readFile('mx', SIGNING), /selector = "mail";/, 'Rspamd still signs with "mail"');
		const sent = await sendAndVerify(t, 'before the switch');
		t.falsy(sent.error, sent.error);
		t.true(sent.v?.dkim_pass, 'DKIM verifies');
		t.deepEqual(sent.v?.dkim_s, ['mail']);
		const st = await lane.wizard(t, mw('status'), 'status');
		t.regex(st.stdout, /DKIM rotation: waiting for the record of "lab2"/);
	});

	test.serial(
		'rotate dkim: once the record is served the re-run switches with a reload; every mail sent during the switch arrives and verifies; then "lab2" signs and both records resolve',
		async (t) => {
			t.timeout(300_000);
			if (!lane.needWizard(t)) return;
			const z = await lane.wizard(t, [...mw('dns', '--zone')], 'dns --zone (rotation)');
			// The new selector's record of every domain (day2 has added shop.example.test).
			const block = recordBlocks(z.stdout, 'lab2._domainkey.');
			t.regex(block, /^lab2\._domainkey\.example\.test\.\s.*v=DKIM1/ms, z.stdout);
			await lab().appendZone(block);
			const main = await rspamdMain();
			t.truthy(main, "Rspamd's main process");
			// Mail is submitted one after the other while the command switches (3 to 40 mails).
			let switching = true;
			const sent: Array<{token: string; error?: string}> = [];
			const sender = (async () => {
				while ((switching || sent.length < 3) && sent.length < 40) sent.push(await submit(`during the switch #${sent.length + 1}`));
			})();
			const r = await lane.wizard(t, mw('rotate', 'dkim', '--no-wait'), 'rotate dkim (record published)');
			switching = false;
			await sender;
			lane.logRun(t, r, 30);
			t.is(r.exitCode, 0);
			t.regex(r.stdout, /reload rspamd/);
			t.notRegex(r.stdout, /restart rspamd/);
			const during = [];
			for (const [i, s] of sent.entries()) during.push(s.error ? {error: s.error} : await arrived(t, s.token, `during the switch #${i + 1}`));
			t.deepEqual(
				during.map((d) => d.error ?? (d.v?.dkim_pass ? 'ok' : `DKIM failed: ${d.v?.dkim_error}`)),
				during.map(() => 'ok'),
				`${during.length} mails sent during the switch: all arrived and verify`,
			);
			t.log(`during the switch: ${during.filter((d) => d.v?.dkim_s.includes('mail')).length} signed by "mail", ${during.filter((d) => d.v?.dkim_s.includes('lab2')).length} by "lab2"`);
			t.is(await rspamdMain(), main, "Rspamd's main process is the same (a reload)");
			t.regex(await lab().readFile('mx', SIGNING), /selector = "lab2";/);
			const after = await sendAndVerify(t, 'after the switch');
			t.true(after.v?.dkim_pass, after.error);
			t.deepEqual(after.v?.dkim_s, ['lab2']);
			for (const s of ['mail', 'lab2']) t.regex((await lab().dig(`${s}._domainkey.example.test`, 'TXT')).join(''), /v=DKIM1/, `${s}: still published`);
		},
	);

	test.serial('rotate dkim: a wizard re-run keeps the new selector; --finish is refused before 7 days, with --now the old key is gone and mail still verifies', async (t) => {
		t.timeout(2 * 240_000);
		if (!lane.needWizard(t)) return;
		// The saved answers (a day-two lane added a domain the answers file does not have).
		const saved = lane.WIZARD.filter((a, i, all) => a !== '--answers' && all[i - 1] !== '--answers');
		const w = await lane.wizard(t, saved, 'wizard after the rotation');
		lane.logRun(t, w, 15);
		t.is(w.exitCode, 0);
		t.regex(await lab().readFile('mx', SIGNING), /selector = "lab2";/, 'the wizard did not undo the rotation');
		const early = await lane.wizard(t, mw('rotate', 'dkim', '--finish'), 'rotate dkim --finish');
		t.is(early.exitCode, 2, early.stdout + early.stderr);
		t.regex(early.stderr, /minimum overlap of 7/);
		const now = await lane.wizard(t, mw('rotate', 'dkim', '--finish', '--now'), 'rotate dkim --finish --now');
		lane.logRun(t, now, 20);
		t.is(now.exitCode, 0);
		t.regex(now.stdout, /mail\._domainkey\.example\.test TXT/, 'names the record that can go');
		t.is((await lab().exec('mx', ['test', '-e', '/etc/rspamd/dkim/example.test.mail.key'])).exitCode, 1, 'the old key is deleted');
		const sent = await sendAndVerify(t, 'after --finish');
		t.true(sent.v?.dkim_pass, sent.error);
		t.deepEqual(sent.v?.dkim_s, ['lab2']);
	});

	test.serial('rotate srs: a bounce to an address made with the old key is still accepted and returned; forwarded mail passes SPF; after --finish the old address is refused', async (t) => {
		t.timeout(300_000);
		if (!lane.needWizard(t)) return;
		const forward = async (label: string) => {
			const token = tag();
			const s = await lane.inbound(['fwd@example.test'], token);
			t.is(s.rcpts[0]?.[0], 250, `${label}: ${JSON.stringify(s)}`);
			const m = await lab().waitSink((x) => x.data.includes(token));
			if (!m) throw new Error(`${label}: nothing forwarded to remote.test`);
			t.regex(m.mail_from, /^SRS0=[^=]+=[^=]+=remote\.test=carol@example\.test$/i, label);
			return m;
		};
		const old = (await forward('forwarded before the rotation')).mail_from;
		const forged = old.replace(/^SRS0=[^=]+=/i, 'SRS0=AAAA=');
		t.not(forged, old);
		const f = await bounce(forged, tag());
		t.true((f.rcpts[0]?.[0] ?? 0) >= 500, `an SRS address with a wrong hash is refused: ${JSON.stringify(f)}`);

		const r = await lane.wizard(t, mw('rotate', 'srs'), 'rotate srs');
		lane.logRun(t, r, 25);
		t.is(r.exitCode, 0);
		const conf = await lab().readFile('mx', '/etc/smtpd/srs.conf');
		const keys = [...conf.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
		t.is(keys.length, 2, 'a key and a backup key');
		const stateText = await lab().readFile('mx', `${STATE}/state.json`);
		for (const k of keys) t.false(r.stdout.includes(k) || r.stderr.includes(k) || stateText.includes(k), 'no SRS key in the output or the state');

		const token = tag();
		const b = await bounce(old, token);
		t.is(b.rcpts[0]?.[0], 250, `the bounce to the old-key address is accepted: ${JSON.stringify(b)}`);
		t.is(b.data?.[0], 250, JSON.stringify(b));
		const back = await lab().waitSink((x) => x.data.includes(token));
		t.deepEqual(back?.rcpt_tos, ['carol@remote.test'], 'the bounce goes back to the original sender');

		const m = await forward('forwarded after the rotation');
		t.not(m.mail_from, old);
		const spf = await lab().client<{spf: [string, string]}>('spfcheck', {ip: m.peer, sender: m.mail_from, helo: m.helo});
		t.is(spf.spf?.[0], 'pass', JSON.stringify(spf));
		t.regex((await lane.wizard(t, mw('status'), 'status (srs)')).stdout, /SRS rotation: the new key signs since/);

		const early = await lane.wizard(t, mw('rotate', 'srs', '--finish'), 'rotate srs --finish');
		t.is(early.exitCode, 2, early.stdout + early.stderr);
		t.regex(early.stderr, /bounce window of 30/);
		const fin = await lane.wizard(t, mw('rotate', 'srs', '--finish', '--now'), 'rotate srs --finish --now');
		lane.logRun(t, fin, 20);
		t.is(fin.exitCode, 0);
		const refused = await bounce(old, tag());
		t.true((refused.rcpts[0]?.[0] ?? 0) >= 500, `after --finish the old-key address is refused: ${JSON.stringify(refused)}`);
		const accepted = await bounce(m.mail_from, tag());
		t.is(accepted.rcpts[0]?.[0], 250, `the new-key address is accepted: ${JSON.stringify(accepted)}`);
	});
}
