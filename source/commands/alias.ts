// mailwizard alias add|remove|list: aliases of every domain, through the saved answers and the engine.
import {aliasAdd, aliasRemove} from '../answers/edit.ts';
import {validateAnswers} from '../answers.ts';
import {EXIT, type ExitCode} from '../exit.ts';
import type {Options} from '../options.ts';
import {defaultIpv4} from '../platform/host.ts';
import {makeRuntime} from '../runtime.ts';
import {converge, savedForm, STAGES} from './change.ts';

export async function alias(o: Options): Promise<ExitCode> {
	const [local, ...targets] = o.args as [string, ...string[]];
	if (o.sub === 'add') return converge(o, {edit: (f) => aliasAdd(f, local, targets), stages: STAGES.mailbox});
	if (o.sub === 'remove') return converge(o, {edit: (f) => aliasRemove(f, local), stages: STAGES.mailbox});
	const rt = await makeRuntime(o, true);
	const a = validateAnswers(savedForm(rt), {defaultIpv4, passwordOptional: true});
	const aliases = Object.entries(a.aliases).map(([name, to]) => ({name, targets: [...to]}));
	if (o.json) process.stdout.write(`${JSON.stringify({aliases, catch_all: a.catchAll ?? null}, null, 2)}\n`);
	else {
		for (const x of aliases) process.stdout.write(`${x.name}\t-> ${x.targets.join(', ')}\n`);
		if (a.catchAll) process.stdout.write(`(catch-all)\t-> ${a.catchAll}\n`);
	}
	return EXIT.ok;
}
