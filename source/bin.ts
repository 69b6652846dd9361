import {main} from './cli.tsx';

main(process.argv.slice(2)).then(
	(code) => process.exit(code),
	(error: unknown) => {
		process.stderr.write(`mailwizard: ${String(error)}\n`);
		process.exit(1);
	},
);
