// The end of an interactive run: the answers as a file that --answers accepts (the file form:
// never a password, a hash or a key) and the DNS records as a zone-file fragment beside it.
import {stringify} from 'yaml';
import {publicAnswers, type Answers} from '../answers.ts';
import {formatZone} from '../dns/format.ts';
import {replaceFile} from '../engine/durable.ts';
import {readDkimKey, recordsFor} from '../mail/dkim.ts';

/** The zone fragment's file beside the answers: mailwizard-example.com.yaml -> mailwizard-example.com.zone. */
export function zonePathOf(path: string): string {
	return `${path.replace(/\.(ya?ml|json)$/i, '')}.zone`;
}

/** The answers file's text: a header that says how to use it, then the file form. */
export function answersFileText(answers: Answers, now = new Date()): string {
	const typed = answers.users.filter((u) => !u.passwordFile).map((u) => u.name);
	const head = [
		`# mailwizard answers, saved by the wizard on ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC: no password, hash or key is in this file.`,
		'# Apply them with: mailwizard --answers THIS-FILE',
	];
	if (typed.length)
		head.push(
			`# The password of ${typed.join(', ')} was typed, so it is not here: on this server --answers keeps it; for another server, add password_file: (a root-only file holding it) to that user.`,
		);
	return `${head.join('\n')}\n${stringify(publicAnswers(answers))}`;
}

/** Written whole or not at all, durably (durable.ts: temp file, flushed, renamed, the directory flushed). */
function writeWhole(path: string, text: string, mode: number): void {
	replaceFile(path, text, {mode});
}

/** Saves both files; the lines say where (for the finish screen). root: where the DKIM key is read (--root). */
export async function saveAnswers(root: string, answers: Answers, path: string): Promise<string[]> {
	writeWhole(path, answersFileText(answers), 0o600);
	const zone = zonePathOf(path);
	const key = await readDkimKey({root}, answers);
	writeWhole(zone, formatZone(recordsFor(answers, key)), 0o644);
	return [
		`Answers saved to ${path} (no password in it): "mailwizard --answers ${path}" applies them.`,
		`DNS records saved to ${zone} as a zone-file fragment${key.publicKeyDer ? '' : ' (the DKIM record follows once the key exists: mailwizard dns --zone)'}.`,
	];
}
