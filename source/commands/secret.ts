// A new password for user add / user passwd: from --password-file (the same reader and
// checks as password_file in the answers), else typed twice without echo in a terminal.
// Never from argv or the environment; never printed, logged or saved.
import {MIN_PASSWORD, readPasswordFile} from '../answers.ts';
import {UsageError} from '../exit.ts';

/** What was typed after the Enter of the last line (typed ahead): the next line starts with it. */
let typedAhead = '';

/** One line typed without echo (raw mode): Enter ends it, Backspace erases, Ctrl-C or Ctrl-D gives up. */
export function readHidden(prompt: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stdout): Promise<string> {
	output.write(prompt);
	return new Promise((resolve, reject) => {
		let typed = '';
		const end = () => {
			input.off('data', onData);
			input.setRawMode(false);
			input.pause();
			output.write('\n');
		};
		const onData = (chunk: string) => {
			for (let i = 0; i < chunk.length; i++) {
				const c = chunk[i]!;
				if (c === '\r' || c === '\n') {
					typedAhead = chunk.slice(i + 1).replace(/^\n/, c === '\r' ? '' : '\n');
					return (end(), resolve(typed));
				}
				if (c === '\u0003' || c === '\u0004') return (end(), reject(new UsageError('interrupted while typing the password')));
				if (c === '\u007f' || c === '\b') typed = typed.slice(0, -1);
				else if (c >= ' ') typed += c;
			}
		};
		input.setRawMode(true);
		input.setEncoding('utf8');
		input.on('data', onData);
		input.resume();
		const ahead = typedAhead;
		typedAhead = '';
		if (ahead) onData(ahead);
	});
}

export type SecretSource = {readonly file?: string; readonly terminal: boolean};

export async function newPassword(user: string, src: SecretSource, read: (prompt: string) => Promise<string> = readHidden): Promise<string> {
	if (src.file) return readPasswordFile(src.file, '--password-file');
	if (!src.terminal) throw new UsageError(`no terminal to type ${user}'s password on: give it in a root-only file with --password-file FILE (one line)`);
	const first = await read(`New password for ${user} (not shown): `);
	if (first.length < MIN_PASSWORD) throw new UsageError(`the password is shorter than ${MIN_PASSWORD} characters`);
	if ((await read('The same password again: ')) !== first) throw new UsageError('the two passwords differ');
	return first;
}
