// The live DNS wait: each record on each authoritative server, and the next poll.
import {Box, Text} from 'ink';
import type {CheckReport, RecordState} from '../dns/types.ts';
import {tone} from './theme.ts';
import {startCommand} from '../invocation.ts';

const CELL: Record<RecordState, string> = {ok: '✓', missing: '–', wrong: '≠', unreachable: '?'};
const CELL_TONE = {ok: 'ok', missing: 'warn', wrong: 'bad', unreachable: 'dim'} as const;

export type WaitPanelProps = {
	readonly report: CheckReport;
	/** Seconds until the next check; 0 when none is planned. */
	readonly nextIn: number;
	readonly width?: number;
	/** The hint about quitting (the TUI's, or none in "check"). */
	readonly quitHint?: boolean;
};

export function WaitPanel({report, nextIn, width = 80, quitHint = true}: WaitPanelProps) {
	const checks = report.checks.filter((c) => c.record.publishable);
	const ok = checks.filter((c) => c.state === 'ok').length;
	const servers = report.servers;
	// The widest "TYPE host", and a space before the first server's column (a long DKIM
	// host must not run into its cell: "TXT mail._domainkey–").
	const nameWidth = Math.min(34, Math.max(12, ...checks.map((c) => c.record.type.length + 1 + c.record.host.length))) + 1;
	const problems = checks.flatMap((c) =>
		c.results
			.filter((r) => r.state === 'wrong' || r.state === 'unreachable')
			.map((r) => `${c.record.type} ${c.record.host} on ${r.server.split(' ')[0]}: ${r.state === 'wrong' ? `found ${r.detail ?? '(another value)'}` : `no answer${r.detail ? ` (${r.detail})` : ''}`}`),
	);
	return (
		<Box flexDirection="column">
			<Text bold>
				DNS: {ok} of {checks.length} records on every authoritative server of {report.zone}
			</Text>
			<Text wrap="truncate-end">
				{' '.repeat(nameWidth + 2)}
				{servers.map((_s, i) => String(i + 1).padEnd(3)).join('')}
			</Text>
			{checks.map((c) => (
				<Text key={`${c.record.type} ${c.record.name}`} wrap="truncate-end">
					{'  '}
					{`${c.record.type} ${c.record.host}`.slice(0, nameWidth).padEnd(nameWidth)}
					{servers.map((s, i) => {
						const r = c.results.find((x) => x.server === s);
						const st = r?.state ?? 'unreachable';
						return (
							<Text key={s} color={tone(CELL_TONE[st])}>
								{CELL[st].padEnd(3)}
							</Text>
						);
					})}
					<Text color={tone(CELL_TONE[c.state])}>{c.state}</Text>
				</Text>
			))}
			{servers.length === 0 ? <Text color={tone('bad')}> no authoritative server answered for {report.zone}</Text> : null}
			<Box flexDirection="column" marginTop={1}>
				{servers.map((s, i) => (
					<Text key={s} color={tone('dim')} wrap="truncate-end">
						{i + 1} = {s}
					</Text>
				))}
				<Text color={tone('dim')}>✓ published · – missing · ≠ wrong value · ? no answer</Text>
			</Box>
			{problems.length + report.problems.length > 0 ? (
				<Box flexDirection="column" marginTop={1}>
					{/* What was found, on up to two lines each (a wrong DMARC or DKIM value differs
					    anywhere, often past the 80th column); three at most, so 80x24 holds the panel. */}
					{[...problems, ...report.problems].slice(0, 3).map((p) => (
						<Text key={p} color={tone('warn')} wrap="wrap">
							{p.length > width * 2 ? `${p.slice(0, width * 2 - 1)}…` : p}
						</Text>
					))}
				</Box>
			) : null}
			{report.complete ? null : (
				<Box flexDirection="column" marginTop={1}>
					{nextIn > 0 ? (
						<Text>
							Next check in {nextIn} s{report.negativeTtl ? <Text color={tone('dim')}> (resolvers may cache a missing record for up to {report.negativeTtl} s)</Text> : null}
						</Text>
					) : (
						<Text>Checking…</Text>
					)}
					{quitHint ? <Text color={tone('accent')}>You can quit now (q): run `{startCommand()}` again later to continue.</Text> : null}
				</Box>
			)}
		</Box>
	);
}
