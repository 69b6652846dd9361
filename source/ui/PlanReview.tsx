// A stage's commands and file diffs before they run, in a bounded box that scrolls.
import {Box, Text, useInput} from 'ink';
import {useState} from 'react';
import type {StepPlan} from '../engine/plan.ts';
import {describeAction} from '../engine/print.ts';
import type {InitSystem} from '../platform/profile.ts';
import {tone, type Tone} from './theme.ts';
import {isEnter} from './keys.ts';

export type Decision = 'run' | 'skip' | 'quit';

export function planLines(plan: StepPlan, init: InitSystem): string[] {
	// Tabs (diff headers, config files) have no fixed width on screen: spaces do.
	return plan.actions.flatMap((a) => describeAction(a, init, plan.step)).map((l) => l.replace(/\t/g, '    ').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?'));
}

/**
 * Lines cut to the box's width, never truncated: a long line goes on in the next
 * lines, character for character (a DKIM or DMARC value joins back exactly).
 */
export function wrapLines(lines: readonly string[], width: number): string[] {
	const w = Math.max(10, width);
	return lines.flatMap((l) => {
		const chars = [...l];
		if (chars.length <= w) return [l];
		const out: string[] = [];
		for (let i = 0; i < chars.length; i += w) out.push(chars.slice(i, i + w).join(''));
		return out;
	});
}

/** Diff lines in colour: + added, - removed, @@ hunks, # comments; $ commands are bold. */
export function lineTone(line: string): Tone | undefined {
	const body = line.startsWith('  ') ? line.slice(2) : line;
	if (body.startsWith('+') && !body.startsWith('+++')) return 'add';
	if (body.startsWith('-') && !body.startsWith('---')) return 'del';
	if (body.startsWith('@@')) return 'accent';
	if (line.trimStart().startsWith('#')) return 'dim';
	return undefined;
}

function toneOf(l: string): string | undefined {
	const t = lineTone(l);
	return t ? tone(t) : undefined;
}

export type PlanReviewProps = {
	readonly plan: StepPlan;
	readonly init: InitSystem;
	readonly index: number;
	readonly total: number;
	/** Lines of plan shown at once. */
	readonly height: number;
	/** Columns of the terminal (the box's border and padding take 4). */
	readonly width?: number;
	readonly onDecision: (d: Decision) => void;
	/** A read-only preview: Enter goes to the next stage, there is nothing to skip. */
	readonly preview?: boolean;
};

export function PlanReview({plan, init, index, total, height, width = 80, onDecision, preview}: PlanReviewProps) {
	const lines = wrapLines(planLines(plan, init), width - 4);
	const [top, setTop] = useState(0);
	const rows = Math.max(3, height);
	const max = Math.max(0, lines.length - rows);
	useInput((input, key) => {
		const page = rows - 1;
		if (key.upArrow || input === 'k') setTop((t) => Math.max(0, t - 1));
		else if (key.downArrow || input === 'j') setTop((t) => Math.min(max, t + 1));
		else if (key.pageUp || input === 'b') setTop((t) => Math.max(0, t - page));
		else if (key.pageDown || input === ' ') setTop((t) => Math.min(max, t + page));
		else if (input === 'g') setTop(0);
		else if (input === 'G') setTop(max);
		else if (isEnter(input, key) || input === 'r') onDecision('run');
		else if (input === 's' && !preview) onDecision('skip');
		else if (input === 'q') onDecision('quit');
	});
	const shown = lines.slice(top, top + rows);
	const changes = `${plan.changes} change${plan.changes === 1 ? '' : 's'}`;
	return (
		<Box flexDirection="column">
			<Text bold wrap="truncate-end">
				[{index + 1}/{total}] {plan.step.title}
			</Text>
			<Text color={tone('dim')} wrap="truncate-end">
				{preview ? `preview, nothing runs: ${changes}` : `${changes} to review before they run`} {lines.length ? ` · lines ${top + 1}–${Math.min(lines.length, top + rows)} of ${lines.length}` : ''}
			</Text>
			{lines.length === 0 ? (
				<Text color={tone('ok')}>Nothing to change: this machine already matches this stage.</Text>
			) : (
				<Box flexDirection="column" borderStyle="single" height={Math.min(rows, Math.max(1, lines.length)) + 2} paddingX={1}>
					{shown.map((l, i) => (
						<Text key={top + i} wrap="truncate-end" color={toneOf(l)} bold={l.startsWith('$')}>
							{l || ' '}
						</Text>
					))}
				</Box>
			)}
			<Text wrap="truncate-end">
				{preview ? (
					<>
						<Text bold>Enter</Text> next stage · <Text bold>q</Text> quit · ↑/↓ PgUp/PgDn scroll
					</>
				) : (
					<>
						<Text bold>r</Text>/<Text bold>Enter</Text> run · <Text bold>s</Text> skip this stage · <Text bold>q</Text> quit (progress saved) · ↑/↓ PgUp/PgDn scroll
					</>
				)}
			</Text>
		</Box>
	);
}
