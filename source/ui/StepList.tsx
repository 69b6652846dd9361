// The guide's stages with their state: done ✓, pending, waiting on DNS, running.
import {Box, Text} from 'ink';
import type {StateData} from '../engine/state.ts';
import type {Step} from '../engine/types.ts';
import {SYMBOL, tone} from './theme.ts';

export type StageState = 'done' | 'pending' | 'waiting' | 'running' | 'failed' | 'skipped';
export type Stage = {readonly id: string; readonly title: string; readonly state: StageState};

/** The stages from the saved state (the same rules as "mailwizard status"). */
export function stagesFrom(steps: ReadonlyArray<Pick<Step, 'id' | 'title' | 'waitsForDns'>>, data: StateData): Stage[] {
	return steps.map((s) => {
		const st = data.steps[s.id];
		const waiting = s.waitsForDns === true && data.wait !== undefined && !st?.done;
		return {id: s.id, title: s.title, state: waiting ? 'waiting' : st?.done ? 'done' : 'pending'};
	});
}

const LABEL: Record<StageState, string> = {done: 'done', pending: '', waiting: 'waiting on DNS', running: 'running', failed: 'failed', skipped: 'skipped'};
const TONE = {done: 'ok', pending: 'dim', waiting: 'warn', running: 'accent', failed: 'bad', skipped: 'dim'} as const;

/** Titles are cut at the first colon or parenthesis so each stage fits one line at 80 columns. */
export function shortTitle(title: string): string {
	return title.split(/[:(]/)[0]!.trim();
}

/**
 * A title in n columns: whole if it fits, else its name (before the colon), else cut at a
 * word with an ellipsis. A narrow terminal (60 columns) still reads every stage's name.
 */
export function fitTitle(title: string, n: number): string {
	if (title.length <= n) return title;
	const name = shortTitle(title);
	if (name.length <= n) return name;
	const cut = name.slice(0, Math.max(1, n - 1));
	const word = cut.lastIndexOf(' ');
	return `${word > n / 2 ? cut.slice(0, word) : cut}…`;
}

export function StepList({stages, width = 80}: {readonly stages: readonly Stage[]; readonly width?: number}) {
	return (
		<Box flexDirection="column">
			{stages.map((s, i) => (
				<Text key={s.id} wrap="truncate-end">
					<Text color={tone(TONE[s.state])}>{` ${SYMBOL[s.state]} `}</Text>
					{`${String(i + 1).padStart(2)}. `}
					{fitTitle(s.title, width - 7 - (LABEL[s.state] ? LABEL[s.state].length + 2 : 0))}
					{LABEL[s.state] ? <Text color={tone(TONE[s.state])}>{`  ${LABEL[s.state]}`}</Text> : null}
				</Text>
			))}
		</Box>
	);
}
