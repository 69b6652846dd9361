// Issue 14 on a real server (findings 1 and 11): an authenticated user sends only as the
// addresses that are theirs (their own and the aliases that reach them), and only smtpd's
// user (opensmtpd) and vmail can connect to Dovecot's LMTP socket. Run by the Debian 12 and
// Debian 13 lanes after their refusals.
import test, {type ExecutionContext} from 'ava';
import {randomBytes} from 'node:crypto';
import type {Lane} from './assertions.ts';

type Submit = {ok: boolean; stage?: string; response?: [number, string]; error?: string};

const LMTP = '/var/run/dovecot/lmtp';

/** Connects to the LMTP socket as a user (setpriv, no other groups): the greeting or the error. */
const CONNECT = `import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(${JSON.stringify(LMTP)})
    print('connected: ' + s.recv(200).decode('utf-8', 'replace').strip())
except OSError as e:
    print('refused: %s' % e.strerror)
`;

export function security(lane: Lane): void {
	const tag = () => randomBytes(6).toString('hex');

	function submit(port: 465 | 587, who: 'alice' | 'bob', from: string, token: string, headerFrom?: string): Promise<Submit> {
		return lane.lab().client<Submit>('submit', {
			port,
			mode: port === 465 ? 'smtps' : 'starttls',
			user: `${who}@example.test`,
			password: lane.PASSWORDS[who],
			from,
			header_from: headerFrom ?? from,
			to: ['carol@remote.test'],
			subject: `security ${token}`,
			token,
		});
	}

	async function refused(t: ExecutionContext, s: Submit, token: string): Promise<void> {
		t.log(JSON.stringify(s));
		t.false(s.ok);
		t.is(s.stage, 'send', 'authenticated, then refused');
		t.is(s.response?.[0], 530, `refused at MAIL FROM with a 5xx: ${JSON.stringify(s.response)}`);
		t.is(await lane.lab().waitSink((m) => m.data.includes(token), 3000), undefined, 'nothing reached remote.test');
	}

	for (const port of [587, 465] as const) {
		test.serial(`security: on ${port} bob cannot send as alice@ nor as a made-up address of the domain (530 at MAIL FROM)`, async (t) => {
			t.timeout(60_000);
			if (!lane.needWizard(t)) return;
			const asAlice = tag();
			await refused(t, await submit(port, 'bob', 'alice@example.test', asAlice), asAlice);
			const madeUp = tag();
			await refused(t, await submit(port, 'bob', `made-up-${madeUp}@example.test`, madeUp), madeUp);
		});
	}

	test.serial('security: alice sends as postmaster@ (an alias of hers): accepted, DKIM-signed for example.test', async (t) => {
		t.timeout(120_000);
		if (!lane.needWizard(t)) return;
		const token = tag();
		const s = await submit(587, 'alice', 'postmaster@example.test', token);
		t.true(s.ok, JSON.stringify(s));
		const m = await lane.lab().waitSink((x) => x.data.includes(token));
		if (!m) {
			await lane.mxEvidence(t);
			return t.fail('nothing arrived at remote.test within 30 s');
		}
		t.is(m.mail_from, 'postmaster@example.test');
		const v = await lane.lab().client<{dkim_pass: boolean; dkim_d: string[]; from: string; dkim_error?: string}>('verify', {file: m.file});
		t.log(`at remote: From ${v.from}, DKIM ${v.dkim_pass ? 'pass' : `FAIL ${v.dkim_error ?? ''}`} d=${v.dkim_d?.join(',')}`);
		t.true(v.dkim_pass, 'the signature verifies');
		t.true(v.dkim_d?.includes('example.test'));
		t.regex(v.from ?? '', /postmaster@example\.test/);
	});

	test.serial("security: bob's envelope is his own but his From header says alice@: what arrives says bob@, and no valid signature vouches for alice@", async (t) => {
		t.timeout(120_000);
		if (!lane.needWizard(t)) return;
		const token = tag();
		const s = await submit(465, 'bob', 'bob@example.test', token, 'alice@example.test');
		t.true(s.ok, JSON.stringify(s));
		const m = await lane.lab().waitSink((x) => x.data.includes(token));
		if (!m) return t.fail('nothing arrived at remote.test within 30 s');
		const v = await lane.lab().client<{dkim_pass: boolean; from: string; dkim_error?: string}>('verify', {file: m.file});
		// (Rspamd signs the header as bob wrote it, then smtpd's masquerade rewrites it: the
		// signature no longer verifies. Either way nothing valid says "from alice".)
		t.log(`at remote: From ${v.from}, DKIM ${v.dkim_pass ? 'pass' : `fail ${v.dkim_error ?? ''}`}`);
		t.regex(v.from ?? '', /bob@example\.test/, 'the From header is the sender smtpd checked');
		t.notRegex(m.data, /^From:.*alice@example\.test/im, 'no From header names alice');
	});

	test.serial('security: the LMTP socket: nobody cannot connect, opensmtpd (which runs mail.lmtp) can, and mail is still delivered', async (t) => {
		t.timeout(120_000);
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		const ls = await l.exec('mx', ['stat', '-c', '%A %U:%G', LMTP]);
		t.log(`${LMTP}: ${ls.stdout.trim()}`);
		t.is(ls.stdout.trim(), 'srw-rw---- vmail:opensmtpd');
		const as = (user: string, group: string) => l.exec('mx', ['setpriv', `--reuid=${user}`, `--regid=${group}`, '--clear-groups', '/usr/bin/python3', '-c', CONNECT]);
		const nobody = await as('nobody', 'nogroup');
		t.log(`as nobody: ${nobody.stdout.trim()} ${nobody.stderr.trim()}`);
		t.regex(nobody.stdout, /^refused: Permission denied/);
		const smtpd = await as('opensmtpd', 'opensmtpd');
		t.log(`as opensmtpd: ${smtpd.stdout.trim()} ${smtpd.stderr.trim()}`);
		t.regex(smtpd.stdout, /^connected: 220 /, 'the user smtpd delivers as still gets the LMTP greeting');
		const token = tag();
		const s = await lane.inbound(['bob@example.test'], token);
		t.is(s.data?.[0], 250, JSON.stringify(s));
		const hits = await lane.maildirHits(token);
		t.true(hits.length === 1 && hits[0]!.startsWith('/bob/Maildir/'), `delivered through LMTP: ${hits.join(', ')}`);
	});
}
