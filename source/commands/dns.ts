// mailwizard dns: the records to publish, as a table, a zone fragment or JSON.
import {EXIT, type ExitCode} from '../exit.ts';
import {formatJson, formatTable, formatZone} from '../dns/format.ts';
import type {Options} from '../options.ts';
import {makeRuntime} from '../runtime.ts';
import {readDkimKey, recordsFor} from '../mail/dkim.ts';
import {answersOfSetup} from './saved.ts';

export async function dns(o: Options): Promise<ExitCode> {
	const rt = await makeRuntime(o, true);
	const answers = answersOfSetup(rt);
	const key = await readDkimKey(rt.ctx, answers);
	const records = recordsFor(answers, key);
	if (o.json) process.stdout.write(`${formatJson(records)}\n`);
	else if (o.zone) process.stdout.write(formatZone(records));
	else process.stdout.write(`${formatTable(records)}\n`);
	if (!key.publicKeyDer) {
		process.stderr.write(
			key.pem === undefined && process.getuid?.() !== 0
				? `note: ${key.path} is not readable by this user (or does not exist yet): run as root to see the DKIM record\n`
				: `note: the DKIM key ${key.path} does not exist yet: the wizard creates it; its record is shown after that\n`,
		);
	}
	return EXIT.ok;
}
