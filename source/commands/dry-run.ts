// --dry-run: every stage's plan as a reviewable script. Needs no root; writes nothing.
import {certFileProblems, checkPasswordFiles} from '../answers.ts';
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
	const passwords = checkPasswordFiles(answers);
	passwords.problems.unshift(...certFileProblems(answers, o.root));
	process.stdout.write(`# mailwizard dry run for ${answers.domain} on ${rt.profile.source === 'target' ? `--target ${o.target}` : 'this machine'} — nothing is changed\n\n`);
	process.stdout.write(printPlan(plans, rt.profile.init));
	return verdict(refused, passwords);
}

/** The plan was printed in full; then what the real run would refuse, and the exit code to match. */
function verdict(refused: readonly {id: string}[], passwords: {problems: string[]; notes: string[]}): ExitCode {
	const out = (l: string) => process.stdout.write(`${l}\n`);
	for (const n of passwords.notes) out(`# ${n}`);
	if (passwords.problems.length) {
		out('\nThe answers would be refused by the real run:');
		for (const p of passwords.problems) out(`  ${p}`);
	}
	if (refused.length) out(`\n${refused.length} step${refused.length === 1 ? '' : 's'} would stop: ${refused.map((r) => r.id).join(', ')} (see "would stop here" above).`);
	if (passwords.problems.length) {
		process.stderr.write(`mailwizard: dry run: ${passwords.problems.join('; ')}\n`);
		return EXIT.usage;
	}
	if (refused.length) {
		process.stderr.write(`mailwizard: dry run: ${refused.length} step${refused.length === 1 ? '' : 's'} would stop: ${refused.map((r) => r.id).join(', ')}\n`);
		return EXIT.failed;
	}
	return EXIT.ok;
}
