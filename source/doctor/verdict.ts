// The self-test's verdict: the received message judged by Rspamd as inbound mail from this
// server's own address (its /checkv2 answer: the symbols it found), read into DKIM, SPF and
// DMARC, each pass / fail / unknown with its one-line fix, and one row for all three.
import {request} from 'node:http';
import type {Row, Who} from './row.ts';

export type Symbols = Readonly<Record<string, {readonly options?: readonly string[]}>>;
export type Part = {readonly status: 'pass' | 'fail' | 'unknown'; readonly detail: string; readonly fix?: string; readonly who?: Who};

/** How the message arrived, as Rspamd is told: the envelope and the address it came from. */
export type Envelope = {readonly ip: string; readonly from: string; readonly rcpt: string; readonly helo: string; readonly hostname: string};

const opts = (s: Symbols, name: string) => {
	const o = s[name]?.options ?? [];
	return o.length ? ` (${o.join(', ')})` : '';
};
const has = (s: Symbols, name: string) => Object.hasOwn(s, name);

/** DKIM: the signature checked with the key published in DNS. signed: the d= and s= of the message's own signature, if any. */
export function dkimPart(s: Symbols, signed: {readonly d: string; readonly s: string} | undefined): Part {
	const sel = signed ? `${signed.s}._domainkey.${signed.d}` : 'the selector';
	if (has(s, 'R_DKIM_ALLOW')) return {status: 'pass', detail: `DKIM pass${signed ? ` (d=${signed.d} s=${signed.s})` : ''}`};
	if (!signed || has(s, 'R_DKIM_NA'))
		return {
			status: 'fail',
			detail: 'DKIM fail: the mail was not signed',
			fix: "Rspamd did not sign mail from an authenticated user: run mailwizard again (it rewrites /etc/rspamd/local.d/dkim_signing.conf and the key), then read rspamd's log",
			who: 'admin',
		};
	if (has(s, 'R_DKIM_REJECT'))
		return {
			status: 'fail',
			detail: `DKIM fail: the signature does not verify with the key published at ${sel}${opts(s, 'R_DKIM_REJECT')}`,
			fix: `the key Rspamd signs with differs from the one in DNS: publish ${sel} TXT as "mailwizard dns" shows, and make Rspamd sign with the key mailwizard wrote (run mailwizard again; look for another dkim_signing in /etc/rspamd/override.d and local.d)`,
			who: 'admin',
		};
	if (has(s, 'R_DKIM_PERMFAIL')) return {status: 'fail', detail: `DKIM fail: no usable key at ${sel}${opts(s, 'R_DKIM_PERMFAIL')}`, fix: `publish ${sel} TXT as "mailwizard dns" shows`, who: 'dns'};
	if (has(s, 'R_DKIM_TEMPFAIL')) return {status: 'unknown', detail: `DKIM unknown: DNS failure looking up ${sel}${opts(s, 'R_DKIM_TEMPFAIL')}`, fix: "check Rspamd's resolvers", who: 'admin'};
	return {status: 'unknown', detail: 'DKIM not checked by Rspamd', fix: LOCAL_FIX, who: 'admin'};
}

const LOCAL_FIX = 'Rspamd skips SPF, DKIM and DMARC for addresses it counts as local (options.inc local_addrs): the published address must not be one of them';

const SPF_FAIL: Readonly<Record<string, string>> = {
	R_SPF_FAIL: 'fail (-all)',
	R_SPF_SOFTFAIL: 'softfail (~all)',
	R_SPF_NEUTRAL: 'neutral (?all)',
	R_SPF_PERMFAIL: 'permerror (the record is broken)',
	R_SPF_NA: 'none (no SPF record)',
};

/** SPF for one of the server's addresses, for the envelope sender's domain. */
export function spfPart(s: Symbols, ip: string, domain: string): Part {
	if (has(s, 'R_SPF_ALLOW')) return {status: 'pass', detail: ip};
	const failed = Object.keys(SPF_FAIL).find((k) => has(s, k));
	if (failed)
		return {
			status: 'fail',
			detail: `${ip}: ${SPF_FAIL[failed]}${opts(s, failed)}`,
			fix: `publish the SPF record of ${domain} as "mailwizard dns" shows: it must allow ${ip}`,
			who: 'dns',
		};
	if (has(s, 'R_SPF_DNSFAIL')) return {status: 'unknown', detail: `${ip}: DNS failure`, fix: "check Rspamd's resolvers", who: 'admin'};
	return {status: 'unknown', detail: `${ip}: not checked by Rspamd`, fix: LOCAL_FIX, who: 'admin'};
}

/** DMARC: SPF or DKIM passing, aligned with the From domain, and a policy published. */
export function dmarcPart(s: Symbols, domain: string): Part {
	if (has(s, 'DMARC_POLICY_ALLOW') || has(s, 'DMARC_POLICY_ALLOW_WITH_FAILURES')) return {status: 'pass', detail: 'DMARC pass'};
	for (const k of ['DMARC_POLICY_REJECT', 'DMARC_POLICY_QUARANTINE', 'DMARC_POLICY_SOFTFAIL'])
		if (has(s, k)) return {status: 'fail', detail: `DMARC fail: neither DKIM nor SPF passes for ${domain}${opts(s, k)}`, fix: 'fix DKIM and SPF (above)', who: 'admin'};
	if (has(s, 'DMARC_NA')) return {status: 'fail', detail: `DMARC fail: no DMARC record at _dmarc.${domain}`, fix: `publish _dmarc.${domain} TXT as "mailwizard dns" shows`, who: 'dns'};
	if (has(s, 'DMARC_BAD_POLICY'))
		return {status: 'fail', detail: `DMARC fail: the record at _dmarc.${domain} is broken${opts(s, 'DMARC_BAD_POLICY')}`, fix: `publish _dmarc.${domain} TXT as "mailwizard dns" shows`, who: 'dns'};
	if (has(s, 'DMARC_DNSFAIL')) return {status: 'unknown', detail: 'DMARC unknown: DNS failure', fix: "check Rspamd's resolvers", who: 'admin'};
	return {status: 'unknown', detail: 'DMARC not checked by Rspamd', fix: LOCAL_FIX, who: 'admin'};
}

/** The d= and s= of the message's first DKIM-Signature header (folded lines joined). */
export function signatureOf(message: string): {d: string; s: string} | undefined {
	const head = message.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' ');
	const line = /^DKIM-Signature:(.*)$/im.exec(head)?.[1];
	if (!line) return undefined;
	const tag = (t: string) => new RegExp(`(?:^|;)\\s*${t}\\s*=\\s*([^;\\s]+)`).exec(line)?.[1];
	const d = tag('d');
	const s = tag('s');
	return d && s ? {d, s} : undefined;
}

/** What happened besides the verdict: the message's trip, for the row's detail. */
export type Trip = {readonly to: string; readonly deliveredMs: number; readonly removed: boolean};

/** One row from the three parts (SPF one part per address). */
export function selftestRow(dkim: Part, spf: readonly Part[], dmarc: Part, trip: Trip): Row {
	const spfStatus = spf.some((p) => p.status === 'fail') ? 'fail' : spf.some((p) => p.status === 'unknown') ? 'unknown' : 'pass';
	const spfText = spfStatus === 'pass' ? `SPF pass (${spf.map((p) => p.detail).join(', ')})` : `SPF ${spfStatus}: ${spf.map((p) => p.detail).join('; ')}`;
	const parts = [dkim, {status: spfStatus, detail: spfText, fix: spf.find((p) => p.fix && p.status === spfStatus)?.fix, who: spf.find((p) => p.status === spfStatus)?.who} as Part, dmarc];
	const how = `signed mail to ${trip.to} delivered in ${trip.deliveredMs} ms, ${trip.removed ? 'removed' : 'NOT removed'}`;
	const detail = `${parts.map((p) => p.detail).join(', ')}: ${how}`;
	const status = parts.some((p) => p.status === 'fail') ? 'fail' : parts.some((p) => p.status === 'unknown') ? 'unknown' : trip.removed ? 'ok' : 'warn';
	if (status === 'ok') return {id: 'selftest', area: 'selftest', status, detail};
	// warn: every part passed, only the removal did not happen.
	const bad = status === 'warn' ? [] : parts.filter((p) => p.status === status && p.fix);
	const fixes = [...new Set(bad.map((p) => p.fix!))];
	if (!trip.removed) fixes.push('remove the test message by hand: doveadm expunge -A header X-Mailwizard-Selftest ""');
	return {id: 'selftest', area: 'selftest', status, detail, fix: fixes.join('; '), who: bad[0]?.who ?? 'admin'};
}

/** Rspamd's normal worker (filter-rspamd's localhost:11333) judges the message as inbound from e.ip. */
export function rspamdCheck(message: string, e: Envelope, timeoutMs: number, port = 11333): Promise<{symbols: Symbols; skipped: boolean}> {
	const body = Buffer.from(message.replace(/\r?\n/g, '\r\n'));
	const headers = {IP: e.ip, From: e.from, Rcpt: e.rcpt, Helo: e.helo, Hostname: e.hostname, 'Content-Length': String(body.length)};
	const once = (host: string) =>
		new Promise<{symbols: Symbols; skipped: boolean}>((resolve, reject) => {
			const req = request({host, port, method: 'POST', path: '/checkv2', headers, timeout: timeoutMs}, (res) => {
				const chunks: Buffer[] = [];
				res.on('data', (c: Buffer) => chunks.push(c));
				res.on('end', () => {
					try {
						if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
						const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {symbols?: Symbols; is_skipped?: boolean};
						resolve({symbols: j.symbols ?? {}, skipped: Boolean(j.is_skipped)});
					} catch (error) {
						reject(new Error(`Rspamd's answer: ${(error as Error).message}`));
					}
				});
			});
			req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
			req.on('error', reject);
			req.end(body);
		});
	return once('127.0.0.1').catch((error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? once('::1') : Promise.reject(error)));
}
