// Issue 20: never a broken server. A daemon that refuses its new configuration is brought back
// on the previous files; writes are durable; one mailwizard at a time; a full disk.
import test, {type ExecutionContext} from 'ava';
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {chmodSync, chownSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {DiskFullError, replaceFile} from '../../source/engine/durable.ts';
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
			// What the lab's smtpd logged: the reason, then the lines of its other processes going down.
			result: {
				exitCode: 0,
				stdout:
					'Dec  2 21:00:01 mail svcd[41]: info: starting\nDec  2 21:00:01 mail svcd[42]: fatal: bind: 0.0.0.0:587: Address already in use\nDec  2 21:00:01 mail svcd[43]: svcd: process queue socket closed\n',
				stderr: '',
			},
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
	t.regex(error.tail ?? '', /svc's log:\n(.*\n)*.*Address already in use/);
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

// ------------------------------------------------------------------ 20: durable writes

test('20: replaceFile leaves no temporary file, keeps the mode and owner of the file it replaces, and creates a new one 0600', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-durable-'));
	const f = join(dir, 'conf');
	writeFileSync(f, 'old\n', {mode: 0o640});
	chmodSync(f, 0o640);
	if (process.getuid?.() === 0) chownSync(f, 65534, 65534);
	replaceFile(f, 'new\n');
	t.is(readFileSync(f, 'utf8'), 'new\n');
	t.is(statSync(f).mode & 0o7777, 0o640, 'mode kept');
	if (process.getuid?.() === 0) t.like(statSync(f), {uid: 65534, gid: 65534}, 'owner kept');
	replaceFile(join(dir, 'fresh'), 'x');
	t.is(statSync(join(dir, 'fresh')).mode & 0o7777, 0o600);
	replaceFile(f, 'mode given\n', {mode: 0o644});
	t.is(statSync(f).mode & 0o7777, 0o644);
	t.deepEqual(readdirSync(dir).sort(), ['conf', 'fresh'], 'no temporary file remains');
});

test('20: a rename that fails (a directory in the way) removes the temporary file; a link in the way is replaced, never written through', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-durable-'));
	mkdirSync(join(dir, 'busy'));
	writeFileSync(join(dir, 'busy/inside'), 'x');
	t.throws(() => replaceFile(join(dir, 'busy'), 'data'));
	t.deepEqual(readdirSync(dir), ['busy'], 'no temporary file remains');
	writeFileSync(join(dir, 'elsewhere'), 'keep\n');
	symlinkSync(join(dir, 'elsewhere'), join(dir, 'link'));
	replaceFile(join(dir, 'link'), 'new\n');
	t.is(readFileSync(join(dir, 'elsewhere'), 'utf8'), 'keep\n', 'the link target is untouched');
	t.false(lstatSync(join(dir, 'link')).isSymbolicLink());
});

test('20: the state is written durably: state.json 0600, no temporary file, nothing written by opening it', (t) => {
	const dir = join(mkdtempSync(join(tmpdir(), 'mw-state-')), 'state');
	const state = openState(dir, false);
	t.deepEqual(readdirSync(dir), [], 'opening writes no file');
	state.update((d) => (d.finishedAt = 'x'));
	t.deepEqual(readdirSync(dir), ['state.json']);
	t.is(statSync(join(dir, 'state.json')).mode & 0o777, 0o600);
	t.is(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).finishedAt, 'x');
	state.reset();
	t.deepEqual(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')), {version: 1, steps: {}});
	writeFileSync(join(dir, 'state.json'), '{"version":1,"ste');
	t.throws(() => state.data(), {message: /state\.json is not valid JSON .*: move it away to start over/});
});

test('20: every writer goes through durable.ts (no other writeFile/rename in the engine, the state or the run)', (t) => {
	for (const f of ['source/engine/files.ts', 'source/engine/state.ts', 'source/engine/apply.ts', 'source/engine/rollback.ts', 'source/run/lock.ts', 'source/run/save.ts']) {
		const text = readFileSync(f, 'utf8');
		t.notRegex(text, /\b(writeFile(Sync)?|appendFile(Sync)?)\(/, f);
		if (!f.endsWith('lock.ts')) t.notRegex(text, /\brename(Sync)?\(/, f); // the lock moves a stale lock aside
		t.notRegex(text, /from 'conf'/, f);
	}
	t.regex(readFileSync('source/run/lock.ts', 'utf8'), /writeTemp\(file, `\$\{process\.pid\}\\n`/, 'the pid is in the lock from the moment it exists');
});

// ------------------------------------------------------------------ 20: one mailwizard at a time

const CLI = join(process.cwd(), 'dist/mailwizard.js');
const root = process.getuid?.() === 0;

/**
 * A host where every command mailwizard runs is a recorder first in PATH: it fails at once,
 * except for a mailwizard started with MW_TEST_BLOCK once it holds that lock (the file holds its
 * pid): then it sleeps. That mailwizard sits inside its run, holding the lock, having changed nothing.
 */
function blockingHost() {
	const dir = mkdtempSync(join(tmpdir(), 'mw-two-'));
	const bin = join(dir, 'bin');
	const state = join(dir, 'state');
	mkdirSync(bin);
	const log = join(dir, 'ran.log');
	for (const c of [
		'apt-get',
		'apt',
		'dpkg',
		'dpkg-query',
		'useradd',
		'groupadd',
		'systemctl',
		'service',
		'dovecot',
		'doveadm',
		'smtpctl',
		'rspamadm',
		'openssl',
		'certbot',
		'nginx',
		'chown',
		'getent',
		'id',
	]) {
		writeFileSync(join(bin, c), `#!/bin/sh\necho "$$ ${c} $*" >> ${log}\nif [ -n "$MW_TEST_BLOCK" ] && [ "$(cat "$MW_TEST_BLOCK" 2>/dev/null)" = "$PPID" ]; then exec sleep 30; fi\nexit 1\n`, {
			mode: 0o755,
		});
	}
	const answers = join(dir, 'a.yaml');
	writeFileSync(
		answers,
		'domain: example.test\nhostname: mail.example.test\nipv4: 192.0.2.10\ntls: {cert: /nonexistent/x.pem, key: /nonexistent/x.key}\nusers:\n  - {name: alice, password_hash: "{CRYPT}$y$j9T$abc$def"}\n',
	);
	const password = join(dir, 'bob.pass');
	writeFileSync(password, 'a-long-enough-password\n', {mode: 0o600});
	const common = ['--state-dir', state, '--resolver', '127.0.0.1:9', '--probe', 'none', '--dnsbl', 'none'];
	const env = (block: boolean) => ({...process.env, NO_COLOR: '1', PATH: `${bin}:${process.env.PATH}`, ...(block ? {MW_TEST_BLOCK: join(state, 'lock')} : {})});
	const start = () => spawn(process.execPath, [CLI, '--answers', answers, '--yes', '--no-wait', ...common], {env: env(true), detached: true, stdio: ['ignore', 'pipe', 'pipe']});
	return {dir, state, log, answers, password, common, env, start};
}

async function until(what: () => boolean, ms = 20_000): Promise<boolean> {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (what()) return true;
		await new Promise((r) => setTimeout(r, 50));
	}
	return what();
}

function snapshot(dir: string): string[] {
	return readdirSync(dir)
		.sort()
		.map((f) => `${f} ${statSync(join(dir, f)).mtimeMs} ${statSync(join(dir, f)).mode} ${readFileSync(join(dir, f), 'utf8')}`);
}

function stop(child: ChildProcess): void {
	try {
		process.kill(-child.pid!, 'SIGKILL'); // the group we started: mailwizard and the recorder it waits on
	} catch {}
}

(root ? test.serial : test.skip)('20.3: a second mailwizard (the wizard and every day-two command) is refused at once with the first one’s pid, and writes nothing', async (t) => {
	t.timeout(120_000);
	const h = blockingHost();
	const first = h.start();
	t.teardown(() => stop(first));
	t.true(await until(() => existsSync(join(h.state, 'lock')) && existsSync(join(h.state, 'state.json'))), 'the first run took the lock and saved its answers');
	t.true(await until(() => existsSync(h.log) && readFileSync(h.log, 'utf8').includes('dpkg-query')), 'the first run sits in its first stage');
	t.is(readFileSync(join(h.state, 'lock'), 'utf8'), `${first.pid}\n`);
	const before = snapshot(h.state);
	const seconds: Array<[string, string[]]> = [
		['the wizard', ['--answers', h.answers, '--yes', '--no-wait']],
		['user add', ['user', 'add', 'bob', '--password-file', h.password, '--yes']],
		['user passwd', ['user', 'passwd', 'alice', '--password-file', h.password, '--yes']],
		['user remove', ['user', 'remove', 'alice', '--yes']],
		['alias add', ['alias', 'add', 'info', 'alice', '--yes']],
		['alias remove', ['alias', 'remove', 'abuse', '--yes']],
		['domain add', ['domain', 'add', 'example.org', '--yes']],
		['rotate dkim', ['rotate', 'dkim']],
		['renew', ['renew']],
		['reset', ['reset']],
	];
	for (const [what, args] of seconds) {
		const t0 = Date.now();
		const r = spawnSync(process.execPath, [CLI, ...args, ...h.common], {encoding: 'utf8', env: h.env(false), timeout: 30_000});
		const ms = Date.now() - t0;
		t.is(r.status, 2, `${what}: ${r.stdout}${r.stderr}`);
		t.regex(r.stderr, new RegExp(`another mailwizard \\(pid ${first.pid}\\) is running with the state in .*: nothing was changed`), what);
		t.true(ms < 5000, `${what} refused at once (${ms} ms)`);
		t.deepEqual(snapshot(h.state), before, `${what} wrote nothing in the state directory`);
	}
	t.is(first.exitCode, null, 'the first run still runs');
	stop(first);
	await until(() => first.exitCode !== null || first.signalCode !== null);
	// Its lock is stale now (a crash): the next mailwizard takes it over.
	const after = spawnSync(process.execPath, [CLI, 'reset', ...h.common], {encoding: 'utf8', env: h.env(false)});
	t.is(after.status, 0, after.stderr);
	t.regex(after.stdout, /forgotten/);
	t.deepEqual(readdirSync(h.state), ['state.json'], 'no lock and no temporary file left behind');
});

(root ? test.serial : test.skip)('20.3: two mailwizards started at the same moment: exactly one runs, the other is refused naming it', async (t) => {
	t.timeout(60_000);
	const h = blockingHost();
	mkdirSync(h.state, {mode: 0o700});
	const both = [h.start(), h.start()];
	t.teardown(() => both.forEach(stop));
	const errs = both.map((c) => {
		let s = '';
		c.stderr!.on('data', (d: Buffer) => (s += d.toString()));
		return () => s;
	});
	t.true(await until(() => both.some((c) => c.exitCode !== null)), 'one of them ends');
	const loser = both.findIndex((c) => c.exitCode !== null);
	const winner = both[1 - loser]!;
	t.is(both[loser]!.exitCode, 2, errs[loser]!());
	t.regex(errs[loser]!(), new RegExp(`another mailwizard \\(pid ${winner.pid}\\)`));
	t.is(winner.exitCode, null, 'the other runs on');
	t.is(readFileSync(join(h.state, 'lock'), 'utf8'), `${winner.pid}\n`);
});

// ------------------------------------------------------------------ 20.5: a full disk

/** A small tmpfs of our own (root only), unmounted after the test. */
function smallDisk(t: ExecutionContext, kib: number): string | undefined {
	const dir = mkdtempSync(join(tmpdir(), 'mw-full-'));
	const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0755`, 'mw-full', dir], {encoding: 'utf8'});
	if (r.status !== 0) return undefined;
	t.teardown(() => void spawnSync('umount', [dir]));
	return dir;
}

/** Fills the filesystem of dir with a filler file until a write fails; returns its path. */
function fill(dir: string, name: string): string {
	const filler = join(dir, name);
	const fd = openSync(filler, 'a');
	try {
		for (;;) writeSync(fd, Buffer.alloc(4096, 1));
	} catch {
		// ENOSPC: full
	} finally {
		closeSync(fd);
	}
	return filler;
}

function tempFiles(dir: string): string[] {
	return readdirSync(dir, {recursive: true, encoding: 'utf8'}).filter((f) => /\.tmp$/.test(f));
}

const bigStep: Step<null> = {
	id: 'cfg',
	title: 'two configuration files',
	summary: '',
	facts: async () => null,
	plan: () => [
		{kind: 'file', path: '/etc/mw/a.conf', content: 'a new\n', mode: 0o644, why: 'small'},
		{kind: 'file', path: '/etc/mw/b.conf', content: `${'b'.repeat(120 * 1024)}\n`, mode: 0o644, why: 'large'},
	],
};

(root ? test.serial : test.skip)(
	'20.5: a full disk while writing a configuration file: nothing half-written, the step rolled back, the state readable, a clear message; after freeing space the re-run finishes',
	async (t) => {
		const disk = smallDisk(t, 256);
		if (!disk) return t.fail('mount -t tmpfs failed (root without CAP_SYS_ADMIN?)');
		const rootDir = join(disk, 'root');
		mkdirSync(join(rootDir, 'etc/mw'), {recursive: true});
		writeFileSync(join(rootDir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
		writeFileSync(join(rootDir, 'etc/group'), 'root:x:0:\n');
		writeFileSync(join(rootDir, 'etc/mw/b.conf'), 'b old\n');
		const stateDir = join(disk, 'state');
		const state = openState(stateDir, false);
		state.update((d) => (d.finishedAt = 'before'));
		const filler = fill(disk, 'filler');
		// ~64 KiB free: a.conf fits, b.conf (120 KiB) does not.
		spawnSync('truncate', ['-s', `-${64 * 1024}`, filler]);
		const run = () => drain(apply({steps: [bigStep], ctx: ctxFor(rootDir, fakeExec()), answers: answers(), state, wait: 'once', checkDns: async () => Promise.reject(new Error('unused'))}));
		const first = await run().catch((error: unknown) => ({outcome: 'threw', events: [] as Event[], error}));
		t.is(first.outcome, 'failed', JSON.stringify(first));
		const error = first.events.find((e) => e.type === 'error') as Extract<Event, {type: 'error'}> | undefined;
		t.regex(
			error?.message ?? '',
			/^no space left on the filesystem of .*\/etc\/mw while writing .*\/etc\/mw\/b\.conf \(ENOSPC\): the previous .* is unchanged and nothing was left half-written\. Free some space \(df -h .*\), then run mailwizard again\.$/,
		);
		t.is(readFileSync(join(rootDir, 'etc/mw/b.conf'), 'utf8'), 'b old\n', 'the old file is intact');
		t.false(existsSync(join(rootDir, 'etc/mw/a.conf')), 'the file written before it in the step is rolled back');
		t.deepEqual(tempFiles(disk), [], 'no temporary file anywhere');
		t.is(openState(stateDir, false).data().finishedAt, 'before', 'the state is readable');
		t.is(openState(stateDir, false).data().steps.cfg, undefined);

		// The state itself cannot be written: it keeps its previous content.
		const rest = fill(disk, 'the rest');
		const e = t.throws(() => state.update((d) => (d.answers = {padding: 'x'.repeat(64 * 1024)})), {instanceOf: DiskFullError});
		t.regex(e!.message, /while writing .*state\.json \(ENOSPC\)/);
		t.is(openState(stateDir, false).data().finishedAt, 'before');
		t.is(openState(stateDir, false).data().answers?.padding, undefined, 'the update that did not fit is not half there');
		t.deepEqual(tempFiles(disk), []);

		rmSync(filler);
		rmSync(rest);
		t.deepEqual(readdirSync(disk).sort(), ['root', 'state']);
		const again = await run();
		t.is(again.outcome, 'done');
		t.is(readFileSync(join(rootDir, 'etc/mw/b.conf'), 'utf8').length, 120 * 1024 + 1);
		t.true(openState(stateDir, false).data().steps.cfg?.done);
	},
);

test('20: a temporary file left by a run killed before its rename is removed by the next write of that file (found by the kill lane)', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-stale-tmp-'));
	const target = join(dir, 'example.test.mail.key');
	const stale = `${target}.mailwizard-${'a'.repeat(24)}.tmp`;
	const other = join(dir, 'other.conf.mailwizard-' + 'b'.repeat(24) + '.tmp');
	writeFileSync(stale, 'half a key');
	writeFileSync(other, 'another file: not ours to remove now');
	replaceFile(target, 'the key\n', {mode: 0o640});
	t.deepEqual(readdirSync(dir).sort(), ['example.test.mail.key', 'other.conf.mailwizard-' + 'b'.repeat(24) + '.tmp']);
	t.is(readFileSync(target, 'utf8'), 'the key\n');
});
