// --dry-run: every stage's plan as a reviewable script. Needs no root; writes nothing.
import {EXIT, type ExitCode} from '../exit.ts';
import {printPlan} from '../engine/print.ts';
import type {Options} from '../options.ts';
import {loadAnswers, makeRuntime} from '../runtime.ts';
import {planAll} from './plan.ts';

export async function dryRun(o: Options): Promise<ExitCode> {
	// In a terminal without an answers file, the wizard asks its questions and previews
	// every stage's plan; it never applies anything in a dry run.
	if (!o.answers && process.stdin.isTTY && process.stdout.isTTY) return (await import('../app.tsx')).runTui(o);
	const rt = await makeRuntime(o, true);
	const answers = loadAnswers(rt, false);
	const {plans, refused} = await planAll(rt, answers);
	process.stdout.write(`# mailwizard dry run for ${answers.domain} on ${rt.profile.source === 'target' ? `--target ${o.target}` : 'this machine'} — nothing is changed\n\n`);
	process.stdout.write(printPlan(plans, rt.profile.init));
	if (refused.length) process.stdout.write(`\n${refused.length} step${refused.length === 1 ? '' : 's'} would stop: ${refused.map((r) => r.id).join(', ')} (see "would stop here" above).\n`);
	return EXIT.ok;
}
