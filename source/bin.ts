// The program's entry and its only process.exit: every path returns a code to here.
import {main, reportError} from './cli.ts';

main(process.argv.slice(2))
	.catch((error: unknown) => reportError(error, true))
	.then((code) => process.exit(code));
