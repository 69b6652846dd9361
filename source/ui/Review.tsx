// The answers on one screen before anything runs: pick a row to change it.
import {Box, Text, useInput, useStdout} from 'ink';
import {useState} from 'react';
import {formError, reviewRows, type Env, type FieldId, type Form} from './form.ts';
import {tone} from './theme.ts';
import {isEnter} from './keys.ts';

export type ReviewProps = {
	readonly form: Form;
	readonly onEdit: (id: FieldId) => void;
	readonly onContinue: () => void;
	readonly onQuit: () => void;
	/** Shown under the answers (why Continue is not possible yet, root ...). */
	readonly note?: string;
	/** Where the answers are saved by default (the working directory). */
	readonly env?: Pick<Env, 'saveDir'>;
};

/**
 * The answers shown on a terminal of `room` lines: all of them, or a window that keeps the
 * cursor (rows.length is "Continue", always shown below) in view.
 */
export function reviewWindow(total: number, cursor: number, room: number): {from: number; to: number} {
	if (total <= room) return {from: 0, to: total};
	const from = Math.min(Math.max(0, cursor - room + 1), total - room);
	return {from, to: from + room};
}

export function Review({form, onEdit, onContinue, onQuit, note, env}: ReviewProps) {
	const rows = reviewRows(form, env);
	const problem = formError(form);
	// The last row is "Continue".
	const [cursor, setCursor] = useState(rows.length);
	// Title, the keys (two lines at 60 columns), a blank line, Continue, the line about more answers; the problem and the note.
	const room = Math.max(3, (useStdout().stdout.rows || 24) - 1 - 6 - (problem ? 2 : 0) - (note ? 2 : 0));
	const {from, to} = reviewWindow(rows.length, cursor, room);
	useInput((input, key) => {
		if (key.upArrow) setCursor((c) => Math.max(0, c - 1));
		else if (key.downArrow || key.tab) setCursor((c) => Math.min(rows.length, c + 1));
		else if (input === 'q') onQuit();
		else if (input === 'c') {
			if (!problem) onContinue();
		} else if (isEnter(input, key)) {
			if (cursor === rows.length) {
				if (problem) {
					if (problem.id) onEdit(problem.id);
				} else onContinue();
			} else onEdit(rows[cursor]!.id);
		}
	});
	return (
		<Box flexDirection="column">
			<Text bold>Review your answers</Text>
			<Text color={tone('dim')}>Nothing has changed yet. ↑/↓ choose · Enter change · c continue · q quit</Text>
			<Box marginTop={1} flexDirection="column">
				{rows.slice(from, to).map((r, k) => (
					<Text key={r.id} wrap="truncate-end" inverse={from + k === cursor}>
						{from + k === cursor ? '›' : ' '} {r.label.padEnd(16)} {r.value}
					</Text>
				))}
				{to - from < rows.length ? (
					<Text color={tone('dim')}>
						{'  '}({rows.length - (to - from)} more: ↑/↓)
					</Text>
				) : null}
				<Text inverse={cursor === rows.length} bold>
					{cursor === rows.length ? '›' : ' '} {problem ? 'Fix the answer above first' : 'Continue: review the plan of each stage, then run it'}
				</Text>
			</Box>
			{problem ? (
				<Box marginTop={1}>
					<Text color={tone('bad')}>✗ {problem.message}</Text>
				</Box>
			) : null}
			{note ? (
				<Box marginTop={1}>
					<Text color={tone('warn')}>{note}</Text>
				</Box>
			) : null}
		</Box>
	);
}
