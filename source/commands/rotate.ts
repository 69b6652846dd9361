// mailwizard rotate dkim|srs [--finish [--now]]: key rotation in resumable phases (issue 21).
// Each phase is a step the engine plans (--dry-run prints it) and applies; the state keeps
// the phase, so the same command run again continues where it stopped (exit 75: waiting).
import type {Answers} from '../answers.ts';
import {apply, type ApplyOptions} from '../engine/apply.ts';
import {printPlan} from '../engine/print.ts';
import {planStep} from '../engine/plan.ts';
import {readRegular, removeRegular} from '../engine/files.ts';
import type {Step} from '../engine/types.ts';
import {checkRecords} from '../dns/check.ts';
import {EXIT, exitCode, UsageError, type ExitCode} from '../exit.ts';
import {stateDirOf, type Options} from '../options.ts';
import {plainReporter} from '../report/plain.ts';
import {defaultSelector, finishRefusal, oldKeyReminder, startRefusal, withDkimRotation, type DkimRotation} from '../rotate/dkim.ts';
import {finishStep, newKeyStep, switchStep} from '../rotate/dkim-steps.ts';
import {SRS_MIN_OVERLAP_DAYS, srsFinishRefusal, srsStartRefusal, type SrsRotation} from '../rotate/srs.ts';
import {readSrsKeys, srsFinishStep, srsSwitchStep} from '../rotate/srs-steps.ts';
import {drive, interruptible} from '../run/drive.ts';
import {lock, refuseIfLocked} from '../run/lock.ts';
import {makeRuntime, writable, type Runtime} from '../runtime.ts';
import {dkimKeyPath} from '../../templates/rspamd.ts';
import {answersOfSetup} from './saved.ts';

export async function rotate(o: Options): Promise<ExitCode> {
	if (!o.dryRun && o.root === '/' && process.getuid?.() !== 0) throw new UsageError('rotate changes keys and must run as root (sudo). To preview without root: --dry-run');
	if (!o.dryRun) refuseIfLocked(stateDirOf(o));
	const probe = await makeRuntime(o, true);
	answersOfSetup(probe); // nothing set up: say so before anything
	const rt = o.dryRun ? probe : writable(probe);
	// One run at a time: the lock is held from the first read of the phase to the last write.
	const release = o.dryRun ? () => undefined : lock(stateDirOf(o));
	try {
		if (o.rotate?.what === 'srs') return await (o.rotate.finish ? finishSrs(rt) : startSrs(rt));
		return await (o.rotate?.finish ? finishDkim(rt) : startDkim(rt));
	} finally {
		release();
	}
}

export async function startDkim(rt: Runtime, check: CheckDns = liveCheck(rt)): Promise<ExitCode> {
	const r = rt.state.data().rotation?.dkim;
	const signing = answersOfSetup(rt).dkim.selector;
	const next = rt.options.rotate?.selector ?? (r?.phase === 'publishing' ? r.next! : defaultSelector(new Date(), [signing, r?.previous ?? '']));
	const refused = startRefusal(r, signing, next);
	if (refused) throw new UsageError(refused);
	const rotation: DkimRotation = r?.phase === 'publishing' ? r : {phase: 'publishing', selector: signing, next, startedAt: new Date().toISOString()};
	setRotation(rt, rotation);
	const answers = withDkimRotation(answersOfSetup(rt), rotation);
	const outcome = await run(rt, answers, [newKeyStep(next), switchStep(next)], check);
	if (outcome === 'done' && !rt.options.dryRun) {
		setRotation(rt, {phase: 'overlap', selector: next, previous: signing, startedAt: rotation.startedAt, switchedAt: new Date().toISOString()});
		rt.out(`Rspamd now signs with "${next}". Keep the "${signing}" record published; after at least 7 days run "mailwizard rotate dkim --finish".`);
	}
	return outcome === 'done' ? EXIT.ok : exitCode(outcome);
}

export async function finishDkim(rt: Runtime, at = new Date()): Promise<ExitCode> {
	const r = rt.state.data().rotation?.dkim;
	const now = Boolean(rt.options.rotate?.now);
	const refused = finishRefusal(r, at, now);
	if (refused) throw new UsageError(refused);
	const previous = r!.previous!;
	if (now) rt.err(`warning: finishing before the minimum overlap (--now): mail signed with "${previous}" and verified later will fail DKIM`);
	const answers = answersOfSetup(rt);
	const oldPath = dkimKeyPath(answers.domain, previous);
	const oldKeyExists = (await readRegular(rt.ctx.root, oldPath).catch(() => '')) !== undefined;
	const outcome = await run(rt, {...answers, dkim: {selector: r!.selector}}, [finishStep(previous, oldKeyExists)], liveCheck(rt));
	if (outcome !== 'done' || rt.options.dryRun) return exitCode(outcome);
	await removeRegular(rt.ctx.root, oldPath);
	setRotation(rt, {phase: 'done', selector: r!.selector, startedAt: r!.startedAt, switchedAt: r!.switchedAt, finishedAt: new Date().toISOString()});
	rt.out(`Selector "${previous}" retired: its key ${oldPath} is deleted; delete its record from the zone.`);
	const reminder = oldKeyReminder('DKIM', r!.switchedAt, at);
	if (reminder) rt.out(`Reminder: ${reminder}`);
	return EXIT.ok;
}

/** The state's rotation (a dry run keeps it in memory only). */
function setRotation(rt: Runtime, r: DkimRotation): void {
	rt.state.update((d) => {
		d.rotation = {...d.rotation, dkim: r};
	});
}

function setSrsRotation(rt: Runtime, r: SrsRotation): void {
	rt.state.update((d) => {
		d.rotation = {...d.rotation, srs: r};
	});
}

/**
 * rotate srs: the state says "switching" before srs.conf is written, so a run stopped anywhere
 * is continued by the next (srs.conf holding a backup key then means the new key was written).
 */
export async function startSrs(rt: Runtime): Promise<ExitCode> {
	const r = rt.state.data().rotation?.srs;
	const refused = srsStartRefusal(r, await readSrsKeys(rt.ctx.root));
	if (refused) throw new UsageError(refused);
	const startedAt = r?.phase === 'switching' ? r.startedAt : new Date().toISOString();
	if (!rt.options.dryRun) setSrsRotation(rt, {phase: 'switching', startedAt});
	const outcome = await run(rt, answersOfSetup(rt), [srsSwitchStep()], liveCheck(rt));
	if (outcome !== 'done' || rt.options.dryRun) return exitCode(outcome);
	setSrsRotation(rt, {phase: 'overlap', startedAt, switchedAt: new Date().toISOString()});
	rt.out(
		`OpenSMTPD now signs SRS addresses with the new key; the previous key is its backup key, so bounces to mail forwarded before are still accepted. After at least ${SRS_MIN_OVERLAP_DAYS} days run "mailwizard rotate srs --finish".`,
	);
	return EXIT.ok;
}

export async function finishSrs(rt: Runtime, at = new Date()): Promise<ExitCode> {
	const r = rt.state.data().rotation?.srs;
	const now = Boolean(rt.options.rotate?.now);
	const refused = srsFinishRefusal(r, await readSrsKeys(rt.ctx.root), at, now);
	if (refused) throw new UsageError(refused);
	if (now) rt.err('warning: finishing before the bounce window is over (--now): a bounce to mail forwarded with the previous SRS key will be refused');
	const outcome = await run(rt, answersOfSetup(rt), [srsFinishStep()], liveCheck(rt));
	if (outcome !== 'done' || rt.options.dryRun) return exitCode(outcome);
	const finishedAt = new Date().toISOString();
	setSrsRotation(rt, {phase: 'done', startedAt: r?.startedAt ?? finishedAt, switchedAt: r?.switchedAt, finishedAt});
	rt.out('The previous SRS key is dropped: only the new one signs and is accepted.');
	const reminder = oldKeyReminder('SRS', r?.switchedAt, at);
	if (reminder) rt.out(`Reminder: ${reminder}`);
	return EXIT.ok;
}

type CheckDns = ApplyOptions['checkDns'];

/** The records asked of the zone's authoritative servers (found through --resolver). */
function liveCheck(rt: Runtime): CheckDns {
	return (records, signal) => checkRecords(records, {resolvers: rt.ctx.resolvers, signal});
}

/** A dry run prints the phase's plan; else the engine applies it (the caller holds the state's lock). */
async function run(rt: Runtime, answers: Answers, steps: Step<any>[], check: CheckDns): Promise<'done' | 'waiting' | 'failed' | 'interrupted' | 'quit'> {
	if (rt.options.dryRun) {
		const plans = [];
		for (const s of steps) plans.push(await planStep(s, rt.ctx, answers, steps));
		rt.out(`# mailwizard rotate dry run for ${answers.domain} — nothing is changed\n`);
		process.stdout.write(printPlan(plans, rt.profile.init));
		return 'done';
	}
	const controller = new AbortController();
	const setupFinished = rt.state.data().finishedAt; // the wizard's, not this rotation's
	const events = apply({
		steps,
		ctx: rt.ctx,
		answers,
		state: rt.state,
		wait: rt.options.noWait || !process.stdout.isTTY ? 'once' : 'poll',
		pollMs: rt.options.pollSeconds * 1000,
		signal: controller.signal,
		checkDns: check,
	});
	const {onSignal, race} = interruptible(controller);
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	try {
		return await race(
			drive(
				{events, init: rt.profile.init, release: () => undefined},
				plainReporter((l) => rt.out(l), rt.profile.init, rt.options.verbose),
			),
		);
	} finally {
		rt.state.update((d) => {
			d.finishedAt = setupFinished;
		});
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
	}
}
