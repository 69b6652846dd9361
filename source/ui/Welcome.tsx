// The first screen: what mailwizard does, the stages and, on a resumed run, where it stopped.
import {Box, Text, useInput, useStdout} from 'ink';
import type {StateData} from '../engine/state.ts';
import {StepList, shortTitle, type Stage} from './StepList.tsx';
import {tone} from './theme.ts';
import {isEnter} from './keys.ts';

export type WelcomeProps = {
	readonly stages: readonly Stage[];
	readonly data: StateData;
	readonly stateFile: string;
	/** A live check of the saved DNS wait's records (resumed runs): what changed since. */
	readonly dnsNow?: string;
	/** typed: a line typed ahead of the first frame, for the first question. */
	readonly onStart: (typed?: string) => void;
	readonly onQuit: () => void;
};

export function resumeLines(stages: readonly Stage[], data: StateData): string[] {
	if (!data.answers) return [];
	const domain = String((data.answers as {domain?: string}).domain ?? '');
	const done = stages.filter((s) => s.state === 'done').length;
	if (data.finishedAt && done === stages.length)
		return [`Everything is set up for ${domain} (finished ${data.finishedAt.slice(0, 16).replace('T', ' ')} UTC).`, 'Running again checks every stage and changes only what differs.'];
	const next = stages.find((s) => s.state !== 'done');
	const lines = [`Saved progress for ${domain}: ${done} of ${stages.length} stages done.`];
	if (next) lines.push(`It stopped at stage ${stages.indexOf(next) + 1}: ${next.state === 'waiting' ? 'waiting for the DNS records' : shortTitle(next.title)}.`);
	const last = data.wait?.lastCheck;
	if (last) lines.push(`DNS at the last check (${last.at.slice(0, 16).replace('T', ' ')} UTC): ${last.ok} of ${last.total} records published.`);
	return lines;
}

export function Welcome({stages, data, stateFile, dnsNow, onStart, onQuit}: WelcomeProps) {
	useInput((input, key) => {
		if (isEnter(input, key)) return onStart();
		// A line typed before the first frame (the domain and Enter) arrives as one chunk: it
		// starts, and its text waits in the first question instead of being lost.
		const line = /^([^\r\n]*)[\r\n]/.exec(input);
		if (line) onStart(line[1]);
		else if (input === 'q') onQuit();
	});
	const resume = resumeLines(stages, data);
	// A short terminal (60x20) keeps the title and the stages: the two lines of prose go.
	const {stdout} = useStdout();
	// Title, prose, stages, resume lines, keys and a note: the prose goes first when they do not fit.
	const roomy = (stdout.rows || 24) >= stages.length + resume.length + 11;
	// Then the blank lines between the parts (15 stages and a resume at 80x24 hid the keys).
	const gap = (stdout.rows || 24) >= stages.length + resume.length + (dnsNow ? 1 : 0) + 6 ? 1 : 0;
	return (
		<Box flexDirection="column">
			<Text bold>mailwizard — your own mail server on this machine</Text>
			{roomy ? <Text>OpenSMTPD sends and receives, Dovecot serves IMAP, Rspamd filters and signs.</Text> : null}
			{roomy ? <Text>Each command and file change is shown before it runs; stop and resume any time.</Text> : null}
			<Box marginTop={gap} flexDirection="column">
				<StepList stages={stages} width={stdout.columns || 80} />
			</Box>
			{resume.length > 0 ? (
				<Box marginTop={gap} flexDirection="column">
					{resume.map((l) => (
						<Text key={l} color={tone('accent')}>
							{l}
						</Text>
					))}
					{dnsNow ? <Text color={tone(/^DNS now: (\d+) of \1 /.test(dnsNow) ? 'ok' : 'accent')}>{dnsNow}</Text> : null}
				</Box>
			) : null}
			<Box marginTop={gap}>
				<Text>
					<Text bold>Enter</Text> {resume.length ? 'continue' : 'start'} · <Text bold>q</Text> quit <Text color={tone('dim')}>(progress: {stateFile})</Text>
				</Text>
			</Box>
		</Box>
	);
}
