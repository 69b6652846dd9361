// IPv6 end to end (issue 20): the lab's links carry 2001:db8:77::/64 with AAAA and ip6.arpa
// PTR records, and the answers give the mx an IPv6 address. Mail is received on 25 over
// IPv6, submitted on 465 and 587 and read over IMAPS over IPv6, delivered to a domain whose
// MX has only an IPv6 address (SPF passes for the mx's IPv6 address, DKIM verifies), and an
// IPv6 client without PTR is refused like its IPv4 twin. Run by the Debian 12 and 13 lanes.
import test, {type ExecutionContext} from 'ava';
import {randomBytes} from 'node:crypto';
import type {Lane} from './assertions.ts';
import {NET6, reverse6Label} from './lab.ts';

type Submit = {ok: boolean; tls?: string; stage?: string; error?: string};
type Verify = {dkim_pass: boolean; dkim_d: string[]; spf: [string, string]; dkim_error?: string};

export function ipv6(lane: Lane): void {
	const tag = () => randomBytes(6).toString('hex');
	const ptr6 = (a: string) => `${reverse6Label(a)}.${NET6.reverseZone}`;

	test.serial('ipv6: the wizard published AAAA for the mail host; PTRs of the lab are there', async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lane.lab();
		t.deepEqual(await l.dig('mail.example.test', 'AAAA'), [NET6.mx]);
		t.deepEqual(await l.dig(ptr6(NET6.mx), 'PTR'), ['mail.example.test.']);
		t.deepEqual(await l.dig(ptr6(NET6.remoteNoPtr), 'PTR', 'mx'), [], 'the second IPv6 address of the remote host has no PTR');
		const listening = await l.probe('mx', ['ss', '-Hltn']);
		for (const port of [25, 465, 587, 993]) t.regex(listening.stdout, new RegExp(`\\[(::|${NET6.mx.replace(/:/g, ':')})\\]:${port}\\s`), `something listens on port ${port} over IPv6`);
	});

	test.serial('ipv6: mail from remote.test over IPv6 on 25 lands in the Maildir and is read over IMAPS over IPv6', async (t) => {
		t.timeout(120_000);
		if (!lane.needWizard(t)) return;
		const token = tag();
		const s = await lane.inbound(['alice@example.test'], token, {source: NET6.remote, family: 6});
		t.is(s.banner?.[0], 220, JSON.stringify(s));
		t.is(s.rcpts[0]?.[0], 250, JSON.stringify(s));
		t.is(s.data?.[0], 250, JSON.stringify(s));
		const i = await lane.lab().client<{messages?: Array<Record<string, string>>; error?: string}>('imap', {user: 'alice@example.test', password: lane.PASSWORDS.alice, token, wait: 15, family: 6});
		if (i.messages?.length !== 1) await lane.queueEvidence(t);
		t.is(i.messages?.length, 1, JSON.stringify(i));
		const hits = await lane.maildirHits(token, 1);
		const text = hits.length ? await lane.lab().readFile('mx', `/var/vmail${hits[0]}`) : '';
		t.true(text.includes(NET6.remote), 'the Received header names the IPv6 client');
	});

	for (const [port, mode] of [
		[587, 'starttls'],
		[465, 'smtps'],
	] as const) {
		test.serial(`ipv6: submission on ${port} over IPv6 to a domain whose MX has only IPv6: delivered over IPv6, SPF passes for the IPv6 address, DKIM verifies`, async (t) => {
			t.timeout(120_000);
			if (!lane.needWizard(t)) return;
			await deliveredOverIpv6(t, port, mode);
		});
	}

	async function deliveredOverIpv6(t: ExecutionContext, port: number, mode: string): Promise<void> {
		const token = tag();
		const to = `dave-${port}@six.remote.test`;
		const s = await lane
			.lab()
			.client<Submit>('submit', {port, mode, family: 6, user: 'alice@example.test', password: lane.PASSWORDS.alice, from: 'alice@example.test', to: [to], subject: `ipv6 ${token}`, token});
		t.true(s.ok, JSON.stringify(s));
		if (!s.ok) return lane.mxEvidence(t);
		const m = await lane.lab().waitSink((x) => x.data.includes(token));
		if (!m) {
			await lane.queueEvidence(t);
			return void t.fail('nothing arrived at six.remote.test within 30 s');
		}
		t.is(m.peer, NET6.mx, 'the mx connected from its IPv6 address');
		t.deepEqual(m.rcpt_tos, [to]);
		const v = await lane.lab().client<Verify>('verify', {file: m.file});
		t.log(`SPF ${v.spf?.join(': ')}; DKIM ${v.dkim_pass ? 'pass' : `FAIL ${v.dkim_error ?? ''}`}`);
		t.is(v.spf?.[0], 'pass', 'SPF passes for the mx IPv6 address');
		t.true(v.dkim_pass, 'DKIM verifies');
	}

	test.serial('ipv6: a client without reverse DNS over IPv6 is refused (550), like over IPv4', async (t) => {
		if (!lane.needWizard(t)) return;
		await lane.refusedWithoutPtr(t, {source: NET6.remoteNoPtr, family: 6});
	});
}
