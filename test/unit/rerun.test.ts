// Re-runs: nothing to do says so; a new alias changes only the tables, reloaded in place.
import test from 'ava';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {apply} from '../../source/engine/apply.ts';
import {fakeExec} from '../../source/engine/exec.ts';
import {planStep} from '../../source/engine/plan.ts';
import {openState} from '../../source/engine/state.ts';
import type {Ctx, Event} from '../../source/engine/types.ts';
import {opensmtpd} from '../../steps/09-opensmtpd.ts';
import {DEBIAN12, HOST, answers, scratchRoot} from '../helpers/fixtures.ts';

async function run(ctx: Ctx, a: ReturnType<typeof answers>, stateDir: string): Promise<Event[]> {
	const events: Event[] = [];
	const gen = apply({steps: [opensmtpd], ctx, answers: a, state: openState(stateDir, false), wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))});
	for (;;) {
		const n = await gen.next();
		if (n.done) {
			if (n.value !== 'done') throw new Error(`outcome ${n.value}: ${JSON.stringify(events.filter((e) => e.type === 'error'))}`);
			return events;
		}
		events.push(n.value);
	}
}

test('a re-run that only adds an alias rewrites the three tables (recipients, virtuals, sendas) and reloads them without a restart', async (t) => {
	const root = scratchRoot();
	// Every liveness check (the daemon's process: `...; alive /usr/sbin/smtpd`) answers "running".
	const exec = fakeExec([{match: (a) => a[0] === 'sh' && /; alive \S+$/.test(a[2] ?? ''), result: {exitCode: 0, stdout: '', stderr: ''}}]);
	const ctx: Ctx = {root, exec, profile: DEBIAN12, readOnly: false, resolvers: [], host: HOST};
	const state = join(root, 'state');
	await run(ctx, answers(), state);
	const srs = readFileSync(join(root, 'etc/smtpd/srs.conf'), 'utf8');
	t.regex(srs, /^srs key "[A-Za-z0-9+/=]{40}"\n$/);
	t.truthy(
		exec.calls.find((c) => c.argv[0] === 'sh' && c.argv[2]!.includes('service opensmtpd stop;')),
		'first run: smtpd.conf is new, smtpd restarts',
	);

	const again = await planStep(opensmtpd, ctx, answers(), [opensmtpd]);
	t.is(again.changes, 0, 'same answers: nothing to do');
	t.is(readFileSync(join(root, 'etc/smtpd/srs.conf'), 'utf8'), srs, 'the SRS key is kept');

	exec.calls.length = 0;
	const events = await run(ctx, answers({aliases: {sales: 'bob'}}), state);
	const written = events.flatMap((e) => (e.type === 'action' && e.status === 'done' && e.action.kind === 'file' ? [e.action.path] : []));
	t.deepEqual(written, ['/etc/smtpd/recipients', '/etc/smtpd/virtuals', '/etc/smtpd/sendas']);
	const commands = exec.calls.map((c) => c.argv.join(' ')).filter((c) => !/; alive \S+$/.test(c));
	t.deepEqual(commands, ['smtpctl update table recipients', 'smtpctl update table virtuals', 'smtpctl update table sendas']);
	t.regex(readFileSync(join(root, 'etc/smtpd/sendas'), 'utf8'), /^bob bob@example\.test, sales@example\.test$/m, 'bob may now send as sales@');
	t.regex(readFileSync(join(root, 'etc/smtpd/virtuals'), 'utf8'), /^sales@example\.test bob@example\.test$/m);
	t.regex(readFileSync(join(root, 'etc/smtpd/recipients'), 'utf8'), /^sales@example\.test$/m);
});
