// mailwizard domain add|remove: extra domains. Adding one prints its records and waits for
// them as setup does (exit 75 with --no-wait or without a terminal: run it again later).
import {domainAdd, domainRemove} from '../answers/edit.ts';
import type {ExitCode} from '../exit.ts';
import type {Options} from '../options.ts';
import {converge, STAGES} from './change.ts';

export async function domain(o: Options): Promise<ExitCode> {
	const name = o.args[0]!;
	if (o.sub === 'add') return converge(o, {edit: (f) => domainAdd(f, name), stages: STAGES.domain});
	return converge(o, {edit: (f) => domainRemove(f, name), stages: STAGES.domain.filter((s) => s !== 'dns-wait')});
}
