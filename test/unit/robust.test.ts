// Issue 20: never a broken server. A daemon that refuses its new configuration is brought back
// on the previous files; writes are durable; one mailwizard at a time; a full disk.
import test from 'ava';
import {readFileSync, writeFileSync, mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {apply} from '../../source/engine/apply.ts';
import {fakeExec} from '../../source/engine/exec.ts';
import {openState} from '../../source/engine/state.ts';
import type {Ctx, Event, Step} from '../../source/engine/types.ts';
import type {Exec} from '../../source/engine/exec.ts';
import {DEBIAN12, HOST, answers, scratchRoot} from '../helpers/fixtures.ts';

function ctxFor(root: string, exec: Exec): Ctx {
	return {root, exec, profile: DEBIAN12, readOnly: false, resolvers: [], host: HOST};
}

async function drain(gen: AsyncGenerator<Event, string>): Promise<{events: Event[]; outcome: string}> {
	const events: Event[] = [];
	for (;;) {
		const n = await gen.next();
		if (n.done) return {events, outcome: n.value};
		events.push(n.value);
	}
}

/** A daemon that starts on the old configuration only (the new one listens on a port that is taken). */
function daemonHost(root: string) {
	let running = true;
	const conf = join(root, 'etc/svc/svc.conf');
	const restarts: string[] = [];
	const exec = fakeExec([
		{
			match: (a) => a[0] === 'sh' && /service svc start/.test(a.at(-1)!),
			result: () => {
				running = readFileSync(conf, 'utf8') === 'listen old\n';
				restarts.push(readFileSync(conf, 'utf8').trim());
				return {exitCode: 0, stdout: 'Starting svc: svcd.\n', stderr: ''};
			},
		},
		{match: (a) => a[0] === 'svc-status', result: () => ({exitCode: running ? 0 : 1, stdout: '', stderr: running ? '' : 'svc: not running\n'})},
		{match: (a) => a[0] === 'sh' && /alive \/usr\/sbin\/svcd$/.test(a.at(-1)!), result: () => ({exitCode: running ? 0 : 1, stdout: '', stderr: ''})},
		{
			match: (a) => a[0] === 'sh' && /tail -q -n 400 \/var\/log\/mail\.log/.test(a.at(-1)!),
			result: {exitCode: 0, stdout: 'Dec  2 21:00:01 mail svcd[42]: fatal: bind: 0.0.0.0:587: Address already in use\n', stderr: ''},
		},
	]);
	return {exec, conf, restarts, running: () => running};
}

const svcStep: Step<null> = {
	id: 'svc',
	title: 'a daemon and its configuration',
	summary: '',
	daemons: [{service: 'svc', exe: '/usr/sbin/svcd'}],
	facts: async () => null,
	plan: () => [
		{kind: 'file', path: '/etc/svc/svc.conf', content: 'listen new\n', mode: 0o644, restarts: 'svc', why: 'new config'},
		{kind: 'service', name: 'svc', op: 'restart', why: 'load it', verify: [{argv: ['svc-status']}]},
	],
};

test('20.4: a daemon that refuses its new configuration: the step fails with its own message, the old files come back and it runs again on them', async (t) => {
	const root = scratchRoot();
	mkdirSync(join(root, 'etc/svc'), {recursive: true});
	writeFileSync(join(root, 'etc/svc/svc.conf'), 'listen old\n');
	const host = daemonHost(root);
	const state = openState(join(root, 'state'), false);
	const {outcome, events} = await drain(apply({steps: [svcStep], ctx: ctxFor(root, host.exec), answers: answers(), state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
	t.is(outcome, 'failed');
	const error = events.find((e) => e.type === 'error') as Extract<Event, {type: 'error'}>;
	t.regex(error.message, /^svc restarted, but the check after it failed: .*svcd\[42\]: fatal: bind: 0\.0\.0\.0:587: Address already in use$/, "the daemon's own words");
	t.regex(error.tail ?? '', /svc's log:\n.*Address already in use/);
	t.is(readFileSync(host.conf, 'utf8'), 'listen old\n', 'the previous file is back');
	t.deepEqual(host.restarts, ['listen new', 'listen old'], 'restarted on the new file, then again on the restored one');
	t.true(host.running(), 'the daemon runs again');
	t.regex(error.hint ?? '', /The files this step wrote were restored and svc is running again on them \(backups under \/var\/backups\/mailwizard\/[^)]+\)\. Progress is kept/);
	t.is(state.data().steps.svc, undefined, 'the step is not marked done');
});

test('20.4: when the daemon does not come back on the previous files either, the operator is told so (never "running again")', async (t) => {
	const root = scratchRoot();
	mkdirSync(join(root, 'etc/svc'), {recursive: true});
	writeFileSync(join(root, 'etc/svc/svc.conf'), 'listen old\n');
	const host = daemonHost(root);
	const down = fakeExec([{match: (a) => a[0] === 'svc-status' || (a[0] === 'sh' && /alive/.test(a.at(-1)!)), result: {exitCode: 1, stdout: '', stderr: ''}}]);
	const exec: Exec = {which: host.exec.which, run: async (cmd, ...rest) => ((await down.run(cmd)).exitCode === 1 ? {exitCode: 1, stdout: '', stderr: ''} : host.exec.run(cmd, ...rest))};
	const state = openState(join(root, 'state'), false);
	const {outcome, events} = await drain(apply({steps: [svcStep], ctx: ctxFor(root, exec), answers: answers(), state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
	t.is(outcome, 'failed');
	const error = events.find((e) => e.type === 'error') as Extract<Event, {type: 'error'}>;
	t.notRegex(error.hint ?? '', /running again/);
	t.regex(error.hint ?? '', /svc did not start again on the previous files either \(service svc start once the cause is fixed\)/);
	t.is(readFileSync(host.conf, 'utf8'), 'listen old\n');
});
