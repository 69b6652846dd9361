// The wizard: in a terminal without answers, the Ink screens (app.tsx); otherwise the
// answers file applied with one line per event (--yes; in a terminal without it, the file fills the wizard in).
import {exitCode, UsageError, type ExitCode} from '../exit.ts';
import {stateDirOf, type Options} from '../options.ts';
import {refuseIfLocked} from '../run/lock.ts';
import {applyPlain} from './apply-plain.ts';
import {loadAnswers, makeRuntime, writable} from '../runtime.ts';
import {loadAnswersFile, toFileForm} from '../answers/file-form.ts';
import {defaultIpv4} from '../platform/host.ts';

export async function wizard(o: Options): Promise<ExitCode> {
	const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
	// A second mailwizard on the same state is refused before it asks or reads anything.
	refuseIfLocked(stateDirOf(o));
	if (!o.answers && !o.yes && interactive) return (await import('../app.tsx')).runTui(o);
	// In a terminal, --answers without --yes fills the wizard in: review, change, then run.
	if (o.answers && !o.yes && interactive) return (await import('../app.tsx')).runTui(o, toFileForm(loadAnswersFile(o.answers, {defaultIpv4})));
	if (process.getuid?.() !== 0) throw new UsageError('the wizard changes the system and must run as root (sudo). To preview without root: --dry-run');
	// Answers are loaded and validated before anything is written, even the state.
	const probe = await makeRuntime(o, true);
	const answers = loadAnswers(probe, true);
	if (!o.yes) throw new UsageError('no terminal to review the answers on: add --yes to apply them unattended');
	return exitCode(await applyPlain(o, writable(probe), answers));
}
