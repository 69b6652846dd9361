// The commands: the wizard (dry run or apply), dns, status, check, reset.
import {closeSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {createInterface} from 'node:readline/promises';
import {EXIT, UsageError, type Options} from '../cli.tsx';
import {loadAnswers, makeRuntime, writable, type Runtime} from '../runtime.ts';
import {apply, type Outcome} from '../engine/apply.ts';
import {planStep, type StepPlan} from '../engine/plan.ts';
import {printPlan} from '../engine/print.ts';
import {StepError, type Event} from '../engine/types.ts';
import {formatJson, formatTable, formatZone} from '../dns/format.ts';
import {plainReporter} from '../report/plain.ts';
import {STEPS} from '../../steps/index.ts';
import {readDkimKey, recordsFor} from '../mail/dkim.ts';
import {checkRecords} from '../dns/check.ts';
import {readText} from '../engine/files.ts';
import {DOVECOT_PATHS} from '../mail/paths.ts';
import {acceptedAddresses} from '../answers.ts';
import {outsideFindings, reputationOptions} from '../platform/reputation.ts';

export async function runCommand(o: Options): Promise<number> {
	switch (o.command) {
		case 'wizard':
			return o.dryRun ? dryRun(o) : wizard(o);
		case 'dns':
			return dns(o);
		case 'status':
			return status(o);
		case 'check':
			return check(o);
		case 'reset':
			return reset(o);
	}
}

/** Plans every step against this machine (or --target) and prints it. Writes nothing. */
export async function planAll(rt: Runtime, answers: ReturnType<typeof loadAnswers>): Promise<{plans: StepPlan[]; refused: Array<{id: string; error: StepError}>}> {
	const plans: StepPlan[] = [];
	const refused: Array<{id: string; error: StepError}> = [];
	for (const step of STEPS) {
		try {
			plans.push(await planStep(step, rt.ctx, answers, STEPS));
		} catch (error) {
			if (!(error instanceof StepError)) throw error;
			refused.push({id: step.id, error});
			plans.push({
				step,
				actions: [{kind: 'notice', level: 'warn', title: `This step would stop here: ${error.message}`, lines: error.hint ? [error.hint] : []}],
				changes: 0,
			});
		}
	}
	return {plans, refused};
}

async function dryRun(o: Options): Promise<number> {
	// In a terminal without an answers file, the wizard asks its questions and previews
	// every stage's plan; it never applies anything in a dry run.
	if (!o.answers && process.stdin.isTTY && process.stdout.isTTY) {
		const {runTui} = await import('../app.tsx');
		return runTui(o);
	}
	const rt = await makeRuntime(o, true);
	const answers = loadAnswers(rt, false);
	const {plans, refused} = await planAll(rt, answers);
	process.stdout.write(`# mailwizard dry run for ${answers.domain} on ${rt.profile.source === 'target' ? `--target ${o.target}` : 'this machine'} — nothing is changed\n\n`);
	process.stdout.write(printPlan(plans, rt.profile.init));
	if (refused.length) process.stdout.write(`\n${refused.length} step${refused.length === 1 ? '' : 's'} would stop: ${refused.map((r) => r.id).join(', ')} (see "would stop here" above).\n`);
	return EXIT.ok;
}

/** One mailwizard per state directory: a stale lock (dead pid) is taken over. */
export function lock(dir: string): () => void {
	const file = join(dir, 'lock');
	let fd: number;
	try {
		fd = openSync(file, 'wx', 0o600);
	} catch {
		const pid = Number(readFileSync(file, 'utf8').trim());
		let alive = false;
		try {
			process.kill(pid, 0);
			alive = pid !== process.pid;
		} catch {}
		if (alive) throw new UsageError(`another mailwizard (pid ${pid}) is running with the state in ${dir}`);
		rmSync(file, {force: true});
		fd = openSync(file, 'wx', 0o600);
	}
	writeFileSync(fd, `${process.pid}\n`);
	closeSync(fd);
	return () => rmSync(file, {force: true});
}

async function confirmOnTerminal(question: string): Promise<boolean> {
	const rl = createInterface({input: process.stdin, output: process.stdout});
	try {
		return /^y(es)?$/i.test((await rl.question(question)).trim());
	} finally {
		rl.close();
	}
}

async function wizard(o: Options): Promise<number> {
	const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
	if (!o.answers && !o.yes && interactive) {
		const {runTui} = await import('../app.tsx');
		return runTui(o);
	}
	if (o.root === '/' && process.getuid?.() !== 0) throw new UsageError('the wizard changes the system and must run as root (sudo). To preview without root: --dry-run');
	// Answers are loaded and validated before anything is written, even the state.
	const probe = await makeRuntime(o, true);
	const answers = loadAnswers(probe, true);
	if (!o.yes) {
		if (!interactive) throw new UsageError('no terminal to confirm on: add --yes to apply the answers unattended');
		if (!(await confirmOnTerminal(`Set up ${answers.domain} on this server as ${answers.hostname}? Every command is shown as it runs. [y/N] `))) return EXIT.ok;
	}
	const rt = writable(probe);
	const unlock = lock(join(o.root === '/' ? '' : o.root, o.stateDir));
	const controller = new AbortController();
	let interrupts = 0;
	const onSigint = () => {
		interrupts++;
		controller.abort();
		if (interrupts > 1) {
			unlock();
			process.exit(EXIT.interrupted);
		}
	};
	process.on('SIGINT', onSigint);
	process.on('SIGTERM', onSigint);
	try {
		const report = plainReporter((l) => process.stdout.write(`${l}\n`), rt.profile.init, o.verbose);
		const gen = apply({
			steps: STEPS,
			ctx: rt.ctx,
			answers,
			state: rt.state,
			wait: o.noWait || !process.stdout.isTTY ? 'once' : 'poll',
			pollMs: o.pollSeconds * 1000,
			signal: controller.signal,
			checkDns: (records, signal) => checkRecords(records, {resolvers: rt.ctx.resolvers, signal}),
		});
		let outcome: Outcome;
		for (;;) {
			const next = await gen.next();
			if (next.done) {
				outcome = next.value;
				break;
			}
			report(next.value as Event);
		}
		return outcomeCode(outcome);
	} finally {
		process.off('SIGINT', onSigint);
		process.off('SIGTERM', onSigint);
		unlock();
	}
}

export function outcomeCode(outcome: Outcome): number {
	switch (outcome) {
		case 'done':
		case 'quit':
			return EXIT.ok;
		case 'waiting':
			return EXIT.waiting;
		case 'interrupted':
			process.stdout.write('Interrupted: progress is saved. Run the same command again to continue.\n');
			return EXIT.interrupted;
		case 'failed':
			return EXIT.failed;
	}
}

async function dns(o: Options): Promise<number> {
	const rt = await makeRuntime(o, true);
	const answers = loadAnswers(rt, false);
	const key = await readDkimKey(rt.ctx, answers);
	const records = recordsFor(answers, {publicKeyDer: key.publicKeyDer});
	if (o.json) process.stdout.write(`${formatJson(records)}\n`);
	else if (o.zone) process.stdout.write(formatZone(records));
	else process.stdout.write(`${formatTable(records)}\n`);
	if (!key.publicKeyDer) {
		process.stderr.write(
			key.pem === undefined && process.getuid?.() !== 0
				? `note: ${key.path} is not readable by this user (or does not exist yet): run as root to see the DKIM record\n`
				: `note: the DKIM key ${key.path} does not exist yet: the wizard creates it; its record is shown after that\n`,
		);
	}
	return EXIT.ok;
}

function detectDialect(text: string | undefined): '2.3' | '2.4' | undefined {
	if (text === undefined) return undefined;
	return /^\s*dovecot_config_version\s*=/m.test(text) ? '2.4' : '2.3';
}

async function status(o: Options): Promise<number> {
	const rt = await makeRuntime(o, true);
	const data = rt.state.data();
	let answers;
	try {
		answers = loadAnswers(rt, false);
	} catch {}
	const onDisk = detectDialect(await readText(rt.ctx.root, DOVECOT_PATHS.conf));
	const mismatch =
		onDisk && rt.profile.dovecotVersion && onDisk !== rt.profile.dovecot
			? `dovecot.conf is written for Dovecot ${onDisk}, but Dovecot ${rt.profile.dovecotVersion} is installed: it will not load it. Run mailwizard again to re-render it.`
			: undefined;
	const steps = STEPS.map((s) => {
		const st = data.steps[s.id];
		const waiting = s.waitsForDns && data.wait && !st?.done;
		return {id: s.id, title: s.title, state: waiting ? 'waiting' : st?.done ? 'done' : 'pending', at: st?.at};
	});
	if (o.json) {
		process.stdout.write(
			`${JSON.stringify({stateFile: rt.state.file, domain: answers?.domain, steps, wait: data.wait ? {since: data.wait.since, lastCheck: data.wait.lastCheck, records: data.wait.records.length} : undefined, finishedAt: data.finishedAt, accepts: answers ? acceptedAddresses(answers) : undefined, problems: mismatch ? [mismatch] : []}, null, 2)}\n`,
		);
		return EXIT.ok;
	}
	if (!data.answers) process.stdout.write(`No saved progress in ${rt.state.file}.\n`);
	else process.stdout.write(`Progress for ${answers?.domain ?? '(unknown domain)'} (${rt.state.file}):\n`);
	for (const s of steps) process.stdout.write(`  ${s.state === 'done' ? '✓' : s.state === 'waiting' ? '…' : ' '} ${s.id.padEnd(12)} ${s.state.padEnd(8)} ${s.title}\n`);
	if (data.wait?.lastCheck) process.stdout.write(`DNS: ${data.wait.lastCheck.ok}/${data.wait.lastCheck.total} records published at the last check (${data.wait.lastCheck.at}).\n`);
	if (answers) process.stdout.write(`Accepted addresses: ${acceptedAddresses(answers).join(', ')}${answers.catchAll ? ` (+ catch-all -> ${answers.catchAll})` : ''}\n`);
	if (mismatch) process.stdout.write(`PROBLEM: ${mismatch}\n`);
	return EXIT.ok;
}

async function check(o: Options): Promise<number> {
	const rt = await makeRuntime(o, true);
	const answers = loadAnswers(rt, false);
	const key = await readDkimKey(rt.ctx, answers);
	const records = recordsFor(answers, {publicKeyDer: key.publicKeyDer}).filter((r) => r.publishable);
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

async function reset(o: Options): Promise<number> {
	const rt = await makeRuntime(o, false);
	rt.state.reset();
	process.stdout.write(`Saved progress in ${rt.state.file} forgotten. Nothing else was changed.\n`);
	return EXIT.ok;
}
