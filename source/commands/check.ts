// mailwizard check: the server's doctor. Every row (daemons, ports, certificates, DNS on the
// authoritative servers, SPF's DNS-lookup count through its includes, reverse DNS, blocklists,
// outbound port 25, the mail queue, disk, and the self-test: a signed message to postmaster,
// judged on arrival and removed) checked in parallel, each in bounded time; a table or --json;
// exit 0 all ok, 1 any fail, 3 only warn/unknown.
import type {ExitCode} from '../exit.ts';
import type {Answers} from '../answers.ts';
import {readRegular} from '../engine/files.ts';
import type {Options} from '../options.ts';
import {reputationOptions} from '../platform/reputation.ts';
import {makeRuntime, type Runtime} from '../runtime.ts';
import {readDkimKey, recordsFor} from '../mail/dkim.ts';
import {answersOfSetup} from './saved.ts';
import {STEPS} from '../../steps/index.ts';
import {bounded, rowsExit, rowsJson, rowsTable, type Row} from '../doctor/row.ts';
import {daemonRows, MAIL_PORTS, portRows} from '../doctor/daemons.ts';
import {diskRows} from '../doctor/disk.ts';
import {dnsRows} from '../doctor/dns.ts';
import {resolverTxt, spfRows} from '../doctor/spf.ts';
import {scheduleRow} from '../doctor/schedule.ts';
import {defenceRows} from '../doctor/defence.ts';
import {outsideRows} from '../doctor/outside.ts';
import {smtpdQueueRows} from '../doctor/queue.ts';
import {tlsRows} from '../doctor/tls.ts';
import {notify} from '../doctor/notify.ts';
import {selftestRows} from '../doctor/selftest.ts';
import {stateDirOf} from '../options.ts';

const LIMIT_MS = 20_000;
/** The self-test bounds each of its steps (45 s at most in all); this is only the last resort. */
const SELFTEST_LIMIT_MS = 60_000;

/** Every row of this server, in a stable order. */
export async function doctorRows(rt: Runtime, answers: Answers, o: Pick<Options, 'dnsbls' | 'probe' | 'selfTest' | 'stateDir'>): Promise<Row[]> {
	const key = await readDkimKey(rt.ctx, answers);
	const records = recordsFor(answers, {publicKeyDer: key.publicKeyDer}).filter((r) => r.publishable);
	const ips = [answers.ipv4, answers.ipv6].filter((x): x is string => Boolean(x));
	const host = answers.ipv4 ?? '127.0.0.1';
	const cert = await readRegular(rt.ctx.root, answers.tls.cert).catch(() => undefined);
	// A daemon several stages restart (Rspamd, Dovecot) is one row.
	const daemons = [...new Map(STEPS.filter((s) => !s.usedWhen || s.usedWhen(answers)).flatMap((s) => (s.daemons ?? []).map((d) => [d.service, d] as const))).values()];
	const groups = await Promise.all([
		bounded('daemons', 'daemons', LIMIT_MS, () => daemonRows(rt.ctx, daemons)),
		bounded('schedule', 'daemons', LIMIT_MS, async () => [await scheduleRow(rt.ctx)]),
		bounded('defence', 'daemons', LIMIT_MS, () => defenceRows(rt.ctx, answers)),
		bounded('ports', 'ports', LIMIT_MS, () => portRows(host, MAIL_PORTS)),
		bounded('tls', 'tls', LIMIT_MS, () => tlsRows(host, answers.hostname, answers.tls.cert, cert)),
		bounded('dns', 'dns', LIMIT_MS, () => dnsRows(records, rt.ctx.resolvers, key.publicKeyDer !== undefined)),
		bounded('spf', 'dns', LIMIT_MS, () => spfRows([answers.domain, ...answers.extraDomains], resolverTxt(rt.ctx.resolvers))),
		bounded('reputation', 'reputation', LIMIT_MS, () => outsideRows(rt.ctx.resolvers, {hostname: answers.hostname, ips, ...reputationOptions(o)})),
		bounded('queue', 'queue', LIMIT_MS, () => smtpdQueueRows(rt.ctx)),
		bounded('disk', 'disk', LIMIT_MS, () => diskRows(rt.ctx.root)),
		// Not with --root (a test's read-only tree): the self-test changes smtpd's tables for a moment.
		o.selfTest && rt.ctx.root === '/'
			? bounded('selftest', 'selftest', SELFTEST_LIMIT_MS, () => selftestRows(rt.ctx, {domain: answers.domain, hostname: answers.hostname, host, ips, stateDir: o.stateDir}))
			: [],
	]);
	return groups.flat();
}

export async function check(o: Options): Promise<ExitCode> {
	const rt = await makeRuntime(o, true);
	const answers = answersOfSetup(rt);
	const rows = await doctorRows(rt, answers, o);
	if (o.json) process.stdout.write(rowsJson(rows));
	else for (const l of rowsTable(rows)) process.stdout.write(`${l}\n`);
	if (o.notify) {
		const n = await notify(rt.exec, `${stateDirOf(o)}/check-last.json`, answers.hostname, `postmaster@${answers.domain}`, rows);
		if (n.error) process.stderr.write(`could not mail postmaster: ${n.error}\n`);
		else if (n.sent) process.stderr.write(`mailed postmaster@${answers.domain}: ${n.sent} check(s) changed\n`);
	}
	return rowsExit(rows);
}
