// A `rotate dkim` run in a process of its own, killed with SIGKILL at one phase boundary
// (test/unit/rotate-kill.test.ts). argv: ROOT start|finish KILL_AT [serves|missing]
// KILL_AT: none | phase-saved | key-written | dns-asked | conf-written | reload | switched | overlap-saved | finish-applied
// The system is faked (commands answer 0, the DNS check is given) but the state, the keys and
// the configuration are real files under ROOT; each command asked for is printed as "EXEC argv" (one followed by "NOT RUN" never ran).
import {join} from 'node:path';
import {finishDkim, startDkim} from '../../source/commands/rotate.ts';
import type {CheckReport, ExpectedRecord} from '../../source/dns/types.ts';
import {fakeExec} from '../../source/engine/exec.ts';
import {openState, type StateData} from '../../source/engine/state.ts';
import type {Ctx} from '../../source/engine/types.ts';
import {parseOptions, type Options} from '../../source/options.ts';
import type {Runtime} from '../../source/runtime.ts';
import {DEBIAN12, HOST} from './fixtures.ts';

const [root, mode, killAt, dns = 'serves'] = process.argv.slice(2) as [string, 'start' | 'finish', string, string];
const die = (where: string) => {
	process.stdout.write(`KILLED ${where}\n`);
	process.kill(process.pid, 'SIGKILL');
};

/** Boundaries seen in the state: the kill comes right after the write that crosses one. */
const AFTER_WRITE: Record<string, (d: StateData) => boolean> = {
	'phase-saved': (d) => d.rotation?.dkim?.phase === 'publishing',
	'key-written': (d) => Boolean(d.steps['rotate-dkim-key']?.done),
	switched: (d) => Boolean(d.steps['rotate-dkim-switch']?.done),
	'overlap-saved': (d) => d.rotation?.dkim?.phase === 'overlap',
	'finish-applied': (d) => Boolean(d.steps['rotate-dkim-finish']?.done),
};
/** Boundaries seen in the commands: the kill comes when the command is asked for, before it runs. */
const AT_COMMAND: Record<string, RegExp> = {
	'conf-written': /^rspamadm configtest$/,
	reload: /^service rspamd reload$/,
};

const exec = fakeExec([
	{
		match: (argv) => {
			const line = argv.join(' ');
			process.stdout.write(`EXEC ${line}\n`);
			if (AT_COMMAND[killAt]?.test(line)) {
				process.stdout.write('NOT RUN\n');
				die(killAt);
			}
			return false;
		},
		result: {exitCode: 0, stdout: '', stderr: ''},
	},
]);
const real = openState(join(root, 'var/lib/mailwizard'), false);
const state = {
	...real,
	data: real.data,
	update(fn: (d: StateData) => void) {
		real.update(fn);
		if (AFTER_WRITE[killAt]?.(real.data())) die(killAt);
	},
};
const options = parseOptions(['rotate', 'dkim', '--no-wait', '--root', root, ...(mode === 'finish' ? ['--finish', '--now'] : ['--selector', 'new1'])]) as Options;
const ctx: Ctx = {root, exec, profile: DEBIAN12, readOnly: false, resolvers: [], host: HOST};
const out = (l: string) => process.stdout.write(`${l}\n`);
const rt: Runtime = {options, exec, profile: DEBIAN12, ctx, state, out, err: (l) => process.stdout.write(`ERR ${l}\n`)};
const check = async (records: readonly ExpectedRecord[]): Promise<CheckReport> => {
	if (killAt === 'dns-asked') die(killAt);
	const complete = dns === 'serves';
	return {zone: 'example.test', servers: ['192.0.2.53'], checks: records.map((record) => ({record, state: complete ? 'ok' : 'missing', results: []})), complete, problems: [], durationMs: 1};
};
try {
	process.exitCode = mode === 'finish' ? await finishDkim(rt) : await startDkim(rt, check);
} catch (error) {
	out(`ERR ${(error as Error).message}`);
	process.exitCode = 2;
}
