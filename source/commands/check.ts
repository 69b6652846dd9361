// mailwizard check: the records on every authoritative server, and the checks from outside.
import {EXIT, type ExitCode} from '../exit.ts';
import {checkRecords} from '../dns/check.ts';
import type {Options} from '../options.ts';
import {outsideFindings, reputationOptions} from '../platform/reputation.ts';
import {plainReporter} from '../report/plain.ts';
import {makeRuntime} from '../runtime.ts';
import {readDkimKey, recordsFor} from '../mail/dkim.ts';
import {answersOfSetup} from './saved.ts';

export async function check(o: Options): Promise<ExitCode> {
	const rt = await makeRuntime(o, true);
	const answers = answersOfSetup(rt);
	const key = await readDkimKey(rt.ctx, answers);
	const records = recordsFor(answers, key).filter((r) => r.publishable);
	const ips = [answers.ipv4, answers.ipv6].filter((x): x is string => Boolean(x));
	const [report, findings] = await Promise.all([checkRecords(records, {resolvers: rt.ctx.resolvers}), outsideFindings(rt.ctx.resolvers, {hostname: answers.hostname, ips}, reputationOptions(o))]);
	const problems = findings.filter((f) => !f.ok);
	if (o.json) process.stdout.write(`${JSON.stringify({dns: report, findings}, null, 2)}\n`);
	else {
		const r = plainReporter((l) => process.stdout.write(`${l}\n`), rt.profile.init);
		r({type: 'wait', id: 'check', report, nextPollIn: 0});
		for (const f of findings) {
			process.stdout.write(`  ${f.ok ? 'ok     ' : 'PROBLEM'} ${f.what}: ${f.detail}\n`);
			if (!f.ok && f.fix) process.stdout.write(`          -> ${f.fix}\n`);
		}
	}
	return report.complete && problems.length === 0 ? EXIT.ok : EXIT.failed;
}
