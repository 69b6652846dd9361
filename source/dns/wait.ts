// Waiting for the operator's records: poll the authoritative servers until every record
// is on every server, then (optionally) confirm through recursive resolvers.
import {checkRecords, checkViaResolvers} from './check.ts';
import type {CheckOptions, CheckReport, ExpectedRecord} from './types.ts';

export type WaitOptions = CheckOptions & {
	/** Pause between two rounds, ms. */
	readonly intervalMs: number;
	readonly signal?: AbortSignal;
	/** After every round: the report, and the ms until the next round (0 when complete). */
	readonly onReport?: (report: CheckReport, nextPollInMs: number) => void;
};

/** Resolves after `ms`, or at once when the signal aborts (it never rejects). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal?.aborted) {
			resolve();
			return;
		}
		const done = (): void => {
			clearTimeout(timer);
			signal?.removeEventListener('abort', done);
			resolve();
		};
		const timer = setTimeout(done, ms);
		signal?.addEventListener('abort', done, {once: true});
	});
}

export type Round = {readonly report: CheckReport; readonly nextPollIn: number};

/**
 * Checks the records every `intervalMs` until the report is complete, yielding each round's
 * report and the ms until the next round (0 for the last). `once`: a single round. Aborting
 * stops it promptly; a failed check rejects, unless the signal aborted after a round.
 */
export async function* pollRecords(
	records: readonly ExpectedRecord[],
	check: (records: readonly ExpectedRecord[], signal?: AbortSignal) => Promise<CheckReport>,
	options: {readonly intervalMs: number; readonly signal?: AbortSignal; readonly once?: boolean},
): AsyncGenerator<Round, void> {
	const {intervalMs, signal} = options;
	let rounds = 0;
	for (;;) {
		let report: CheckReport;
		try {
			report = await check(records, signal);
		} catch (error) {
			if (signal?.aborted && rounds > 0) return;
			throw error;
		}
		rounds++;
		const nextPollIn = report.complete || options.once ? 0 : intervalMs;
		yield {report, nextPollIn};
		if (nextPollIn === 0) return;
		await pause(intervalMs, signal);
		if (signal?.aborted) return;
	}
}

/**
 * Polls checkRecords until the report is complete and returns that report. Aborting
 * stops it promptly: it then returns the last complete round's report, or rejects
 * with the abort reason when no round has finished yet.
 */
export async function waitForRecords(records: readonly ExpectedRecord[], options: WaitOptions): Promise<CheckReport> {
	let last: CheckReport | undefined;
	for await (const round of pollRecords(records, (r, signal) => checkRecords(r, {...options, signal}), options)) {
		options.onReport?.(round.report, round.nextPollIn);
		last = round.report;
	}
	return last!;
}

/**
 * Asks recursive resolvers (RD=1) for every record: the optional last check, once every
 * authoritative server agrees. Asked earlier, a resolver would cache "no such record"
 * for the zone's negative TTL.
 */
export function confirmViaResolvers(records: readonly ExpectedRecord[], resolvers: readonly string[], options: Omit<CheckOptions, 'resolvers'> = {}): Promise<CheckReport> {
	return checkViaResolvers(records, resolvers, options);
}
