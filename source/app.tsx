// Placeholder until the Ink wizard lands (issue 6).
import {EXIT, type Options} from './cli.tsx';

export async function runTui(_o: Options): Promise<number> {
	process.stderr.write('mailwizard: the interactive wizard is not available yet; use --answers FILE --yes, or --dry-run --answers FILE\n');
	return EXIT.usage;
}
