// mailwizard reset: forget saved progress; nothing else changes.
import {existsSync} from 'node:fs';
import {dirname} from 'node:path';
import {checkStateDir} from '../engine/state.ts';
import {EXIT, type ExitCode} from '../exit.ts';
import type {Options} from '../options.ts';
import {makeRuntime, writable} from '../runtime.ts';
import {lock} from '../run/lock.ts';

export async function reset(o: Options): Promise<ExitCode> {
	const rt = await makeRuntime(o, true);
	checkStateDir(dirname(rt.state.file)); // never forget (or touch) a directory that is not mailwizard's
	// Nothing saved: say so, and create neither the directory nor state.json.
	if (!existsSync(rt.state.file)) {
		process.stdout.write(`Nothing to forget: there is no saved progress in ${rt.state.file}. Nothing was changed.\n`);
		return EXIT.ok;
	}
	// Never under a run that is going on: it would write its progress back over the reset.
	const release = lock(dirname(rt.state.file));
	const state = writable(rt).state;
	try {
		state.reset();
	} finally {
		release();
	}
	process.stdout.write(`Saved progress in ${state.file} forgotten. Nothing else was changed.\n`);
	return EXIT.ok;
}
