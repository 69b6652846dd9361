// The answers a read-only command works from: --answers, else the saved ones.
import type {Answers} from '../answers.ts';
import {UsageError} from '../exit.ts';
import {loadAnswers, type Runtime} from '../runtime.ts';

/** Without --answers and without saved progress there is nothing to show yet: say what to run. */
export function answersOfSetup(rt: Runtime): Answers {
	if (!rt.options.answers && !rt.state.data().answers)
		throw new UsageError(`nothing is set up yet (no saved progress in ${rt.state.file}). Run "mailwizard" to set up this server first, or give the answers with --answers FILE.`);
	return loadAnswers(rt, false);
}
