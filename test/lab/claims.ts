// What the lab reads in the CLI's output, kept apart from the lab so unit tests can prove each
// check rejects what it must (test/unit/lab-claims.test.ts).

/** The run-level line the plain reporter prints last when the run changed nothing. */
const NOTHING_CHANGED = /^Nothing changed: the system already matches the answers\.$/m;
/** The run-level line of a run that changed something. */
const FINISHED_WITH_CHANGES = /^Finished: \d+ changes? applied\.$/m;

/**
 * Whether the output of a run claims that the whole run changed nothing. A stage's own
 * "nothing to change" line does not count: a run prints it for unchanged stages while
 * other stages change.
 */
export function claimsNothingChanged(stdout: string): boolean {
	return NOTHING_CHANGED.test(stdout) && !FINISHED_WITH_CHANGES.test(stdout);
}

/** What test/lab/client.py's `imap_plain` reports. */
export type ImapPlain = {connected: boolean; errno?: string; capabilities?: string[]; login?: [string, string[]]; error?: string};

/**
 * Port 143 is closed because Dovecot listens for IMAPS only: the connection is refused
 * (RST), nothing else. A timeout, a reset after connecting, an unreachable host or an
 * open port with a refused LOGIN all mean something else is going on.
 */
export function refusedConnection(s: ImapPlain): boolean {
	return !s.connected && s.errno === 'ECONNREFUSED';
}
