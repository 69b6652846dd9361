// Issue 21: `rotate dkim` killed (SIGKILL, in a process of its own) at each boundary of its
// phases, then run again: it converges on one new key, never makes a second key once the
// first one's record was printed, and Rspamd is reloaded after the last change of its
// signing configuration. The child: test/helpers/rotate-kill-child.ts.
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {createPublicKey, generateKeyPairSync} from 'node:crypto';
import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {publicAnswers} from '../../source/answers.ts';
import {openState} from '../../source/engine/state.ts';
import {answers, scratchRoot} from '../helpers/fixtures.ts';

const CHILD = fileURLToPath(new URL('../helpers/rotate-kill-child.ts', import.meta.url));
const DKIM = 'etc/rspamd/dkim';

/** A server set up with selector "mail". */
function setUp(): string {
	const root = scratchRoot();
	mkdirSync(join(root, DKIM), {recursive: true, mode: 0o750});
	mkdirSync(join(root, 'etc/rspamd/local.d'), {recursive: true});
	const pem = generateKeyPairSync('rsa', {modulusLength: 1024}).privateKey.export({type: 'pkcs8', format: 'pem'}) as string;
	writeFileSync(join(root, DKIM, 'example.test.mail.key'), pem, {mode: 0o640});
	openState(join(root, 'var/lib/mailwizard'), false).update((d) => {
		d.answers = publicAnswers(answers());
		d.steps.dkim = {done: true, at: '2025-01-01T00:00:00.000Z'};
		d.finishedAt = '2025-01-01T00:00:00.000Z';
	});
	return root;
}

type Run = {status: number | null; signal: NodeJS.Signals | null; stdout: string};

function child(root: string, mode: 'start' | 'finish', killAt: string): Run {
	const r = spawnSync(process.execPath, ['--import=tsx', CHILD, root, mode, killAt], {encoding: 'utf8', timeout: 60_000});
	return {status: r.status, signal: r.signal, stdout: r.stdout + r.stderr};
}

const publicB64 = (root: string, selector: string) =>
	createPublicKey(readFileSync(join(root, DKIM, `example.test.${selector}.key`), 'utf8'))
		.export({type: 'spki', format: 'der'})
		.toString('base64');

/**
 * The commands of the runs in order (one followed by NOT RUN was killed before it ran): Rspamd's signing
 * configuration was last written (its configtest is asked for right after the rename) before
 * a reload that ran.
 */
function reloadedAfterLastWrite(...runs: Run[]): boolean {
	const lines = runs.flatMap((r) => [...r.stdout.matchAll(/^(EXEC .*|NOT RUN)$/gm)].map((m) => m[1]!));
	const ran = (i: number) => lines[i + 1] !== 'NOT RUN';
	const lastWrite = lines.lastIndexOf('EXEC rspamadm configtest');
	return lastWrite >= 0 && lines.some((l, i) => i > lastWrite && l === 'EXEC service rspamd reload' && ran(i));
}

for (const killAt of ['phase-saved', 'key-written', 'dns-asked', 'conf-written', 'reload', 'switched', 'overlap-saved']) {
	test(`rotate dkim killed at "${killAt}", then run again: one new key, signing with it, Rspamd reloaded after its last change`, (t) => {
		const root = setUp();
		const killed = child(root, 'start', killAt);
		t.is(killed.signal, 'SIGKILL', killed.stdout);
		t.regex(killed.stdout, new RegExp(`^KILLED ${killAt}$`, 'm'), 'killed at the boundary asked for');
		const keyAfterKill = existsSync(join(root, DKIM, 'example.test.new1.key')) ? readFileSync(join(root, DKIM, 'example.test.new1.key'), 'utf8') : undefined;
		const printed = /new1\._domainkey\.example\.test/.test(killed.stdout);
		if (printed) t.truthy(keyAfterKill, 'a printed record has its key on disk');

		const again = child(root, 'start', 'none');
		const state = openState(join(root, 'var/lib/mailwizard'), true).data();
		if (killAt === 'overlap-saved') {
			t.is(again.status, 2, again.stdout);
			t.regex(again.stdout, /finish it first/, 'the rotation was complete: a new one is refused');
		} else t.is(again.status, 0, again.stdout);
		t.like(state.rotation?.dkim, {phase: 'overlap', selector: 'new1', previous: 'mail'});
		t.deepEqual(readdirSync(join(root, DKIM)).sort(), ['example.test.mail.key', 'example.test.new1.key'], 'one new key, the old one kept');
		if (keyAfterKill) t.is(readFileSync(join(root, DKIM, 'example.test.new1.key'), 'utf8'), keyAfterKill, 'the key made before the kill is kept, not made again');
		if (printed) {
			const p = publicB64(root, 'new1');
			t.true(killed.stdout.replace(/[\s"]/g, '').includes(p.slice(0, 200)), 'the record printed before the kill is the key that signs');
		}
		t.regex(readFileSync(join(root, 'etc/rspamd/local.d/dkim_signing.conf'), 'utf8'), /selector = "new1";/);
		t.true(reloadedAfterLastWrite(killed, again), 'Rspamd reloaded after the last write of its signing configuration');
	});
}

for (const killAt of ['reload', 'finish-applied']) {
	test(`rotate dkim --finish killed at "${killAt}", then run again: the old key is gone, the new one signs`, (t) => {
		const root = setUp();
		const start = child(root, 'start', 'none');
		t.is(start.status, 0, start.stdout);
		const newKey = readFileSync(join(root, DKIM, 'example.test.new1.key'), 'utf8');
		const killed = child(root, 'finish', killAt);
		t.is(killed.signal, 'SIGKILL', killed.stdout);
		t.regex(killed.stdout, new RegExp(`^KILLED ${killAt}$`, 'm'));
		t.like(openState(join(root, 'var/lib/mailwizard'), true).data().rotation?.dkim, {phase: 'overlap'}, 'killed before the end: still in the overlap');
		const again = child(root, 'finish', 'none');
		t.is(again.status, 0, again.stdout);
		t.like(openState(join(root, 'var/lib/mailwizard'), true).data().rotation?.dkim, {phase: 'done', selector: 'new1'});
		t.deepEqual(readdirSync(join(root, DKIM)), ['example.test.new1.key'], 'the old key is deleted');
		t.is(readFileSync(join(root, DKIM, 'example.test.new1.key'), 'utf8'), newKey, 'the new key is untouched');
		t.true(/^EXEC service rspamd reload$/m.test(again.stdout), 'the re-run reloads Rspamd');
	});
}
