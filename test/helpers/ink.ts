// Driving Ink screens in tests: keys, and waiting for a frame.
import {setColor} from '../../source/ui/theme.ts';

setColor(false);

export const KEY = {enter: '\r', up: '\u001B[A', down: '\u001B[B', pageDown: '\u001B[6~', pageUp: '\u001B[5~', escape: '\u001B', ctrlC: '\u0003'} as const;

export const tick = (ms = 25) => new Promise((r) => setTimeout(r, ms));

/** Waits until the last frame satisfies test (or fails with the frame). */
export async function until(lastFrame: () => string | undefined, test: RegExp | ((f: string) => boolean), ms = 3000): Promise<string> {
	const ok = (f: string) => (typeof test === 'function' ? test(f) : test.test(f));
	const end = Date.now() + ms;
	for (;;) {
		const f = lastFrame() ?? '';
		if (ok(f)) return f;
		if (Date.now() > end) throw new Error(`frame never matched ${String(test)}:\n${f}`);
		await tick(10);
	}
}

/** Writes keys one at a time, letting Ink render between them. */
export async function press(stdin: {write: (s: string) => void}, ...keys: string[]): Promise<void> {
	for (const k of keys) {
		stdin.write(k);
		await tick();
	}
}
