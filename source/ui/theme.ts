// Colours, only when the terminal wants them (NO_COLOR, https://no-color.org).
// Every screen also works without colour: states carry a symbol and a word.
export type Tone = 'ok' | 'bad' | 'warn' | 'accent' | 'dim' | 'add' | 'del';

const COLORS: Record<Tone, string> = {ok: 'green', bad: 'red', warn: 'yellow', accent: 'cyan', dim: 'gray', add: 'green', del: 'red'};

export function colorEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
	return env.NO_COLOR === undefined || env.NO_COLOR === '';
}

let enabled = colorEnabled();

/** For tests. */
export function setColor(on: boolean): void {
	enabled = on;
}

/** The colour for a tone, or undefined without colour. */
export function tone(t: Tone): string | undefined {
	return enabled ? COLORS[t] : undefined;
}

/** dimColor only with colour (without it, grey text is plain text). */
export function dim(): boolean {
	return enabled;
}

export const SYMBOL = {done: '✓', pending: '·', waiting: '…', running: '›', failed: '✗', skipped: '-'} as const;
