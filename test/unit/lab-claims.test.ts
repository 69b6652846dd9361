// The lab's readings of the CLI's output (test/lab/claims.ts) against what the plain reporter
// really prints: each accepts only what it claims, so the lab assertions built on them can fail.
import test from 'ava';
import {claimsNothingChanged, refusedConnection} from '../lab/claims.ts';
import {plainReporter} from '../../source/report/plain.ts';
import type {Action, Event} from '../../source/engine/types.ts';

const file: Action = {kind: 'file', path: '/etc/mailname', content: 'mail.example.test\n', mode: 0o644, why: 'the mail name'};

/** What the plain reporter prints for a run of two stages, the second changing `changes` things. */
function run(changes: number): string {
	const lines: string[] = [];
	const report = plainReporter((l) => lines.push(l), 'systemd');
	const events: Event[] = [
		{type: 'step', id: 'a', title: 'Stage A', index: 0, total: 2},
		{type: 'plan', id: 'a', actions: []},
		{type: 'step-done', id: 'a', changed: 0},
		{type: 'step', id: 'b', title: 'Stage B', index: 1, total: 2},
		{type: 'plan', id: 'b', actions: Array.from({length: changes}, () => file)},
		...Array.from({length: changes}, (): Event => ({type: 'action', id: 'b', action: file, status: 'start'})),
		{type: 'step-done', id: 'b', changed: changes},
		{type: 'done', changed: changes},
	];
	for (const e of events) report(e);
	return `${lines.join('\n')}\n`;
}

test('"nothing changed" is read from the run-level line only, not from an unchanged stage of a run that changed something', (t) => {
	const changed = run(2);
	t.regex(changed, /nothing to change/, 'the unchanged stage says so (what the old regex matched)');
	t.false(claimsNothingChanged(changed), changed);
	t.false(claimsNothingChanged(run(1)));
	t.true(claimsNothingChanged(run(0)), run(0));
	t.false(claimsNothingChanged(''), 'no output claims nothing');
});

test('port 143: only a refused connection counts as closed', (t) => {
	t.true(refusedConnection({connected: false, errno: 'ECONNREFUSED', error: 'ConnectionRefusedError: [Errno 111] Connection refused'}));
	t.false(refusedConnection({connected: false, errno: 'ETIMEDOUT', error: 'TimeoutError: timed out'}), 'a timeout is not a closed port');
	t.false(refusedConnection({connected: false, errno: 'EHOSTUNREACH', error: 'OSError: [Errno 113] No route to host'}));
	t.false(refusedConnection({connected: false, error: 'gaierror: Name or service not known'}));
	t.false(refusedConnection({connected: true, capabilities: ['IMAP4rev1'], login: ['NO', ['LOGINDISABLED']]}), 'an open port 143 is not closed');
});
