// The wizard: in a terminal without answers, the Ink screens (app.tsx); otherwise the
// answers file applied with one line per event (confirmed on the terminal unless --yes).
import {exitCode, UsageError, type ExitCode} from '../exit.ts';
import type {Options} from '../options.ts';
import {plainReporter} from '../report/plain.ts';
import {drive, interruptible} from '../run/drive.ts';
import {startRun} from '../run/start.ts';
import {loadAnswers, makeRuntime, writable} from '../runtime.ts';
import {confirmOnTerminal} from './confirm.ts';

export async function wizard(o: Options): Promise<ExitCode> {
	const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
	if (!o.answers && !o.yes && interactive) return (await import('../app.tsx')).runTui(o);
	if (process.getuid?.() !== 0) throw new UsageError('the wizard changes the system and must run as root (sudo). To preview without root: --dry-run');
	// Answers are loaded and validated before anything is written, even the state.
	const probe = await makeRuntime(o, true);
	const answers = loadAnswers(probe, true);
	if (!o.yes) {
		if (!interactive) throw new UsageError('no terminal to confirm on: add --yes to apply the answers unattended');
		if (!(await confirmOnTerminal(`Set up ${answers.domain} on this server as ${answers.hostname}? Every command is shown as it runs. [y/N] `))) return exitCode('quit');
	}
	const rt = writable(probe);
	const controller = new AbortController();
	const started = startRun(rt, answers, {signal: controller.signal, wait: o.noWait || !process.stdout.isTTY ? 'once' : 'poll'});
	// The first signal ends the running command and saves progress; a second one leaves at once.
	const {onSignal, race} = interruptible(controller);
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	try {
		const report = plainReporter((l) => process.stdout.write(`${l}\n`), rt.profile.init, o.verbose);
		const outcome = await race(drive(started, report));
		if (outcome === 'interrupted') process.stdout.write('Interrupted: progress is saved. Run the same command again to continue.\n');
		return exitCode(outcome);
	} finally {
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
		started.release();
	}
}
