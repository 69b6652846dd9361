// Issue 14, findings 2, 3, 4, 7: secret files, the plan's diffs, hashes in argv, the state directory.
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {openState, StateDirError} from '../../source/engine/state.ts';

const CLI = join(process.cwd(), 'dist/mailwizard.js');
const modeOf = (p: string) => statSync(p).mode & 0o7777;

// Finding 7: --state-dir chmods only what mailwizard created.
test('an existing state directory that holds other files is refused, never chmod-ed', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-state-'));
	writeFileSync(join(dir, 'someone-elses.txt'), 'x');
	chmodSync(dir, 0o1777); // like /tmp
	const before = modeOf(dir);
	const error = t.throws(() => openState(dir, false), {instanceOf: StateDirError});
	t.regex(error!.message, /holds other files \(someone-elses\.txt\)/);
	t.is(modeOf(dir), before, 'the mode of a directory that is not mailwizard’s is left alone');
});

test('a symlinked state directory is refused', (t) => {
	const base = mkdtempSync(join(tmpdir(), 'mw-state-'));
	mkdirSync(join(base, 'real'), {mode: 0o755});
	symlinkSync(join(base, 'real'), join(base, 'link'));
	t.throws(() => openState(join(base, 'link'), false), {instanceOf: StateDirError, message: /not a directory/});
	t.is(modeOf(join(base, 'real')), 0o755);
});

test('a new state directory is created 0700; mailwizard’s own is tightened and kept', (t) => {
	const base = mkdtempSync(join(tmpdir(), 'mw-state-'));
	openState(join(base, 'new/state'), false).update((d) => (d.finishedAt = 'x'));
	t.is(modeOf(join(base, 'new/state')), 0o700);
	t.true(existsSync(join(base, 'new/state/state.json')));
	mkdirSync(join(base, 'old'), {mode: 0o755});
	writeFileSync(join(base, 'old/state.json'), '{"version":1,"steps":{},"finishedAt":"y"}');
	writeFileSync(join(base, 'old/lock'), '1\n');
	t.is(openState(join(base, 'old'), false).data().finishedAt, 'y');
	t.is(modeOf(join(base, 'old')), 0o700);
});

test('the CLI exits 2 with a clear message for --state-dir on a shared directory, which keeps its mode', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-shared-'));
	writeFileSync(join(dir, 'other'), 'x');
	chmodSync(dir, 0o755);
	const r = spawnSync(process.execPath, [CLI, 'reset', '--state-dir', dir], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}});
	t.is(r.status, 2, r.stderr);
	t.regex(r.stderr, /--state-dir .* holds other files/);
	t.is(modeOf(dir), 0o755);
	t.false(existsSync(join(dir, 'state.json')));
});
