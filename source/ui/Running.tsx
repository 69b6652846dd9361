// The running screen: finished lines in <Static>, the command running now with its
// last output lines, the DNS wait, and on failure what failed and what to do.
import {Box, Static, Text, useStdout} from 'ink';
import {useEffect, useRef, useState} from 'react';
import type {CheckReport} from '../dns/types.ts';
import {elapsed, isLong, type ErrorEvent, type Progress} from './progress.ts';
import {recordLines} from './records.ts';
import {tone} from './theme.ts';
import {WaitPanel} from './WaitPanel.tsx';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Re-renders every `ms` while mounted; returns the current time. */
export function useNow(ms: number): number {
	const [now, setNow] = useState(Date.now());
	useEffect(() => {
		const t = setInterval(() => setNow(Date.now()), ms);
		return () => clearInterval(t);
	}, [ms]);
	return now;
}

function Spinner({label, startedAt}: {readonly label: string; readonly startedAt: number}) {
	const now = useNow(100);
	const frame = FRAMES[Math.floor(now / 100) % FRAMES.length];
	const ms = now - startedAt;
	return (
		<Text wrap="truncate-end">
			<Text color={tone('accent')}>{frame}</Text> {label}
			{ms > 1500 || isLong(label) ? <Text color={tone('dim')}> · {elapsed(ms)}</Text> : null}
		</Text>
	);
}

export function ErrorPanel({error}: {readonly error: ErrorEvent}) {
	return (
		<Box flexDirection="column" borderStyle="single" borderColor={tone('bad')} paddingX={1}>
			<Text color={tone('bad')} bold>
				✗ {error.message}
			</Text>
			{error.command ? (
				<Text wrap="truncate-end">
					command: {error.command}
					{error.exitCode !== undefined ? ` (exit code ${error.exitCode})` : ''}
				</Text>
			) : null}
			{error.tail
				? error.tail
						.split('\n')
						.slice(-8)
						.map((l, i) => (
							<Text key={i} color={tone('dim')} wrap="truncate-end">
								| {l}
							</Text>
						))
				: null}
			{error.hint ? <Text>{error.hint}</Text> : null}
		</Box>
	);
}

export type RunningProps = {
	readonly progress: Progress;
	readonly width: number;
	/** A message while stopping (Ctrl-C, q at the wait). */
	readonly stopping?: string;
};

export function Running({progress: p, width, stopping}: RunningProps) {
	const {write} = useStdout();
	const written = useRef(0);
	// Records go out raw, once: long TXT values stay single lines the terminal wraps
	// softly, so they copy as one piece.
	useEffect(() => {
		for (; written.current < p.records.length; written.current++) {
			const r = p.records[written.current]!;
			write(`\n${r.title}\n\n${recordLines(r.records).join('\n')}\n`);
		}
	}, [p.records, write]);
	return (
		<Box flexDirection="column">
			<Static items={[...p.log]}>
				{(item) =>
					item.indent === undefined ? (
						<Text key={item.key} color={item.tone ? tone(item.tone) : undefined} bold={item.bold} wrap="truncate-end">
							{item.text}
						</Text>
					) : (
						<Box key={item.key} paddingLeft={item.indent}>
							<Text color={item.tone ? tone(item.tone) : undefined} bold={item.bold} wrap="wrap">
								{item.text}
							</Text>
						</Box>
					)
				}
			</Static>
			{p.log.length === 0 && !p.current && !p.wait && !p.error && !stopping ? <Text color={tone('accent')}>Planning the first stage…</Text> : null}
			{p.current ? (
				<Box flexDirection="column">
					<Spinner label={p.current.label} startedAt={p.current.startedAt} />
					{p.output.map((l, i) => (
						<Text key={i} color={tone('dim')} wrap="truncate-end">
							{'    '}
							{l.slice(0, width)}
						</Text>
					))}
				</Box>
			) : null}
			{p.wait ? <WaitPanelLive report={p.wait.report} at={p.wait.nextPollAt} width={width} /> : null}
			{p.error ? <ErrorPanel error={p.error} /> : null}
			{stopping ? <Text color={tone('warn')}>{stopping}</Text> : null}
		</Box>
	);
}

function WaitPanelLive({report, at, width}: {readonly report: CheckReport; readonly at: number; readonly width: number}) {
	const now = useNow(1000);
	return <WaitPanel report={report} nextIn={Math.max(0, Math.ceil((at - now) / 1000))} width={width} />;
}
