// A yes/no question on the terminal (the wizard's unattended path and the day-two commands).
import {createInterface} from 'node:readline/promises';

export async function confirmOnTerminal(question: string, answer: RegExp = /^y(es)?$/i): Promise<boolean> {
	const rl = createInterface({input: process.stdin, output: process.stdout});
	try {
		return answer.test((await rl.question(question)).trim());
	} finally {
		rl.close();
	}
}
