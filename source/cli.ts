// The command line: parse argv, pick a command, turn how it ended into the exit code.
// main() returns the code; bin.ts is the only caller of process.exit.
import {errorEnding, exitCode, EXIT, type ExitCode} from './exit.ts';
import {HELP, parseOptions, version, type Options} from './options.ts';

export async function main(argv: readonly string[]): Promise<ExitCode> {
	let options: Options | 'help' | 'version';
	try {
		options = parseOptions(argv);
	} catch (error) {
		process.stderr.write(`mailwizard: ${(error as Error).message}\n`);
		return EXIT.usage;
	}
	if (options === 'help' || options === 'version') {
		process.stdout.write(`${options === 'help' ? HELP : version()}\n`);
		return EXIT.ok;
	}
	try {
		// Loaded on demand: --help and --version never load the commands.
		const {runCommand} = await import('./commands/index.ts');
		return await runCommand(options);
	} catch (error) {
		return reportError(error, options.verbose);
	}
}

/** An error that reached the top: bad input says nothing was changed; anything else is a failure. */
export function reportError(error: unknown, verbose: boolean): ExitCode {
	const e = error as Error;
	const ending = errorEnding(error);
	if (ending === 'usage') process.stderr.write(`mailwizard: ${e.message}\nNothing was changed.\n`);
	else {
		// Its message for the operator, the stack only with --verbose.
		process.stderr.write(`mailwizard: ${verbose ? (e?.stack ?? String(e)) : (e?.message ?? String(e))}\n`);
		if (!verbose) process.stderr.write('(run again with --verbose for the details)\n');
	}
	return exitCode(ending);
}
