// mailwizard status: which stages are done, pending, waiting; what the server accepts.
import {acceptedAddresses, type Answers} from '../answers.ts';
import {certInfo, expiryLine, renewalInPlace} from '../acme/certificate.ts';
import {EXIT, type ExitCode} from '../exit.ts';
import {readText} from '../engine/files.ts';
import type {StateData} from '../engine/state.ts';
import type {Options} from '../options.ts';
import {loadAnswers, makeRuntime, type Runtime} from '../runtime.ts';
import {STEPS} from '../../steps/index.ts';
import {DOVECOT_PATHS} from '../mail/paths.ts';
import {dkimStatusLines} from '../rotate/dkim.ts';
import {keyDates} from '../rotate/age.ts';
import {srsStatusLines} from '../rotate/srs.ts';
import {defenceRows} from '../doctor/defence.ts';
import type {Row} from '../doctor/row.ts';

function detectDialect(text: string | undefined): '2.3' | '2.4' | undefined {
	if (text === undefined) return undefined;
	return /^\s*dovecot_config_version\s*=/m.test(text) ? '2.4' : '2.3';
}

/** A dovecot.conf written for the other Dovecot than the one installed. */
async function dialectProblem(rt: Runtime): Promise<string | undefined> {
	const onDisk = detectDialect(await readText(rt.ctx.root, DOVECOT_PATHS.conf));
	return onDisk && rt.profile.dovecotVersion && onDisk !== rt.profile.dovecot
		? `dovecot.conf is written for Dovecot ${onDisk}, but Dovecot ${rt.profile.dovecotVersion} is installed: it will not load it. Run mailwizard again to re-render it.`
		: undefined;
}

function stagesOf(data: StateData) {
	return STEPS.map((s) => {
		const st = data.steps[s.id];
		const waiting = s.waitsForDns && data.wait && !st?.done;
		return {id: s.id, title: s.title, state: waiting ? 'waiting' : st?.done ? 'done' : 'pending', at: st?.at};
	});
}

/** The ACME certificate's expiry and whether the system renews it. */
/** The keys' rotation phases and the reminders for a key older than a year. */
async function keyLines(rt: Runtime, data: StateData, a: Answers | undefined): Promise<string[]> {
	const at = new Date();
	const made = await keyDates(rt.ctx.root, a);
	return [...dkimStatusLines(data.rotation?.dkim, made.dkim ?? data.steps.dkim?.at, at), ...srsStatusLines(data.rotation?.srs, made.srs ?? data.steps.opensmtpd?.at, at)];
}

async function certificateLines(rt: Runtime, a: Answers): Promise<string[]> {
	const c = await certInfo(rt.ctx.root, a.tls.cert);
	if (!c) return [`Certificate: none yet at ${a.tls.cert} (the acme stage orders it).`];
	const r = await renewalInPlace(rt.ctx, a);
	return [`Certificate: ${expiryLine(c)}.`, `${r.ok ? 'Renewal' : 'PROBLEM'}: ${r.text}.`];
}

/** Issue 18's defences once their stages ran: Redis, the compiled Sieve script, the jails (root only: the socket is the redis group's). */
async function defenceOf(rt: Runtime, data: StateData, a: Answers | undefined): Promise<Row[]> {
	if (!a || !data.steps.spam?.done || process.getuid?.() !== 0) return [];
	return defenceRows(rt.ctx, a);
}

export async function status(o: Options): Promise<ExitCode> {
	const rt = await makeRuntime(o, true);
	const data = rt.state.data();
	let answers: Answers | undefined;
	try {
		answers = loadAnswers(rt, false);
	} catch {}
	const mismatch = await dialectProblem(rt);
	const steps = stagesOf(data);
	const defence = await defenceOf(rt, data, answers);
	if (o.json) {
		process.stdout.write(
			`${JSON.stringify({stateFile: rt.state.file, domain: answers?.domain, steps, wait: data.wait ? {since: data.wait.since, lastCheck: data.wait.lastCheck, records: data.wait.records.length} : undefined, finishedAt: data.finishedAt, rotation: data.rotation, keys: await keyLines(rt, data, answers), accepts: answers ? acceptedAddresses(answers) : undefined, defence: defence.map(({id, status, detail}) => ({id, status, detail})), problems: mismatch ? [mismatch] : []}, null, 2)}\n`,
		);
		return EXIT.ok;
	}
	if (!data.answers) process.stdout.write(`No saved progress in ${rt.state.file}.\n`);
	else process.stdout.write(`Progress for ${answers?.domain ?? '(unknown domain)'} (${rt.state.file}):\n`);
	for (const s of steps) process.stdout.write(`  ${s.state === 'done' ? '✓' : s.state === 'waiting' ? '…' : ' '} ${s.id.padEnd(12)} ${s.state.padEnd(8)} ${s.title}\n`);
	if (data.wait?.lastCheck) process.stdout.write(`DNS: ${data.wait.lastCheck.ok}/${data.wait.lastCheck.total} records published at the last check (${data.wait.lastCheck.at}).\n`);
	if (answers) process.stdout.write(`Accepted addresses: ${acceptedAddresses(answers).join(', ')}${answers.catchAll ? ` (+ catch-all -> ${answers.catchAll})` : ''}\n`);
	for (const l of await keyLines(rt, data, answers)) process.stdout.write(`${l}\n`);
	if (answers?.tls.acme) for (const l of await certificateLines(rt, answers)) process.stdout.write(`${l}\n`);
	for (const r of defence) process.stdout.write(`Defence: ${r.status === 'ok' ? '' : `${r.status.toUpperCase()} `}${r.detail}\n`);
	if (mismatch) process.stdout.write(`PROBLEM: ${mismatch}\n`);
	return EXIT.ok;
}
