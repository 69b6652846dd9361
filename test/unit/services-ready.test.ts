// A daemon's `ready` port: a start or restart is done only once the daemon answers there
// (a cold Rspamd compiles its rules for ~15 s; smtpd's filter said 421 until then).
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {apply} from '../../source/engine/apply.ts';
import {fakeExec} from '../../source/engine/exec.ts';
import {readyCmd} from '../../source/engine/services.ts';
import {openState} from '../../source/engine/state.ts';
import type {Event, Step} from '../../source/engine/types.ts';
import {STEPS} from '../../steps/index.ts';
import {DEBIAN12, HOST, answers, scratchRoot} from '../helpers/fixtures.ts';

const freePort = async (): Promise<number> =>
	new Promise((resolve) => {
		const s = createServer().listen(0, '127.0.0.1', () => {
			const {port} = s.address() as {port: number};
			s.close(() => resolve(port));
		});
	});

function runSh(argv: readonly string[]): Promise<{code: number | null; ms: number}> {
	const t0 = performance.now();
	// Asynchronous: the test's own listener must keep accepting while the shell polls.
	return new Promise((resolve) => {
		import('node:child_process').then(({spawn}) => {
			const p = spawn(argv[0]!, argv.slice(1), {stdio: 'ignore'});
			p.on('exit', (code) => resolve({code, ms: performance.now() - t0}));
		});
	});
}

const hasPerl = spawnSync('perl', ['-MIO::Socket::INET', '-e', '1']).status === 0;
const real = hasPerl ? test : test.skip;

real('the wait ends as soon as the port answers, not before', async (t) => {
	const port = await freePort();
	const cmd = readyCmd({daemons: [{service: 'd', exe: '/usr/sbin/d', ready: {tcp: port}}]}, 'd', 10)!;
	let server: Server | undefined;
	const later = setTimeout(() => (server = createServer((c) => c.end()).listen(port, '127.0.0.1')), 1500);
	const r = await runSh(cmd.argv);
	clearTimeout(later);
	server?.close();
	t.is(r.code, 0);
	t.true(r.ms >= 1400, `returned after ${Math.round(r.ms)} ms, before the port answered`);
	t.true(r.ms < 8000, `took ${Math.round(r.ms)} ms`);
});

real('the wait is bounded: a port that never answers fails after the given seconds', async (t) => {
	const port = await freePort();
	const cmd = readyCmd({daemons: [{service: 'd', exe: '/usr/sbin/d', ready: {tcp: port}}]}, 'd', 1)!;
	const r = await runSh(cmd.argv);
	t.is(r.code, 1);
	t.true(r.ms >= 900 && r.ms < 6000, `took ${Math.round(r.ms)} ms`);
});

test('a daemon without a ready port has no wait; Rspamd declares its normal worker', (t) => {
	t.is(readyCmd({daemons: [{service: 'd', exe: '/usr/sbin/d'}]}, 'd'), undefined);
	const rspamd = STEPS.find((s) => s.daemons?.some((d) => d.service === 'rspamd'))!;
	t.is(rspamd.daemons!.find((d) => d.service === 'rspamd')!.ready?.tcp, 11333);
});

const drain = async (gen: AsyncGenerator<Event, unknown>) => {
	const events: Event[] = [];
	for (;;) {
		const n = await gen.next();
		if (n.done) return {outcome: n.value, events};
		events.push(n.value);
	}
};

test('apply waits for the ready port after the start and before the checks; no answer fails the step', async (t) => {
	const step: Step<null> = {
		id: 'd',
		title: 'd',
		summary: '',
		daemons: [{service: 'svc', exe: '/usr/sbin/svc', ready: {tcp: 11333}}],
		facts: async () => null,
		plan: () => [{kind: 'service', name: 'svc', op: 'restart', why: 'w', verify: [{argv: ['check-svc']}]}],
	};
	const isWait = (argv: readonly string[]) => argv.join(' ').includes('127.0.0.1:11333');
	for (const answering of [true, false]) {
		const root = scratchRoot();
		const exec = fakeExec([
			{match: (argv) => argv.join(' ').includes('alive /usr/sbin/svc'), result: {exitCode: 1, stdout: '', stderr: ''}}, // not running: the plan starts it
			{match: isWait, result: {exitCode: answering ? 0 : 1, stdout: '', stderr: ''}},
		]);
		const ctx = {root, exec, profile: DEBIAN12, readOnly: false, resolvers: [], host: HOST};
		const state = openState(join(root, 'state'), false);
		const {outcome, events} = await drain(apply({steps: [step], ctx, answers: answers(), state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
		const order = exec.calls.map((c) => (isWait(c.argv) ? 'wait' : /^service svc start$|enable --now svc/.test(c.argv.join(' ')) ? 'start' : c.argv[0]));
		if (answering) {
			t.is(outcome, 'done');
			t.deepEqual(order.slice(order.indexOf('start')), ['start', 'wait', 'check-svc']);
		} else {
			t.is(outcome, 'failed');
			t.regex((events.find((e) => e.type === 'error') as {message: string}).message, /svc started, but does not answer after 60 s/);
			t.false(order.includes('check-svc'));
		}
	}
});
