// Issue 14, findings 2, 3, 4, 7: secret files, the plan's diffs, hashes in argv, the state directory.
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fakeExec} from '../../source/engine/exec.ts';
import {planStep} from '../../source/engine/plan.ts';
import {printPlan, secretSummary} from '../../source/engine/print.ts';
import {openState, StateDirError} from '../../source/engine/state.ts';
import type {Ctx} from '../../source/engine/types.ts';
import {dovecot} from '../../steps/07-dovecot.ts';
import {opensmtpd} from '../../steps/09-opensmtpd.ts';
import {DEBIAN12, answers, scratchRoot} from '../helpers/fixtures.ts';

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

// Finding 3: the plan never shows a hash or key of a file that holds secrets, old or new.
const OLD_ALICE = '{CRYPT}$y$j9T$OLDALICESALT$oldalicehashvalue';
const OLD_CAROL = '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$OLDCAROL$carolhash';
const STRAY_SRS = 'c3RyYXktc3JzLWtleS1ub3QtcmVjb2duaXNlZA==';

test('the dry run after a password change shows which users change, never an old or new hash', async (t) => {
	const root = scratchRoot();
	mkdirSync(join(root, 'etc/dovecot'), {recursive: true});
	mkdirSync(join(root, 'etc/smtpd'), {recursive: true});
	writeFileSync(join(root, 'etc/dovecot/users'), `# Managed by mailwizard\nalice:${OLD_ALICE}::::::\ncarol:${OLD_CAROL}::::::\n`);
	writeFileSync(join(root, 'etc/smtpd/passwds'), `alice@example.test ${OLD_ALICE.slice(7)}\nalice ${OLD_ALICE.slice(7)}\ncarol ${OLD_CAROL}\n`);
	writeFileSync(join(root, 'etc/smtpd/srs.conf'), `srs key ${STRAY_SRS}\n`);
	const a = answers();
	const ctx: Ctx = {root, exec: fakeExec(), profile: DEBIAN12, readOnly: true, resolvers: []};
	const out = printPlan([await planStep(dovecot, ctx, a), await planStep(opensmtpd, ctx, a)], 'sysv');
	for (const secret of [OLD_ALICE, OLD_ALICE.slice(7), OLD_CAROL, STRAY_SRS, ...a.users.map((u) => u.passwordHash!), ...a.users.map((u) => u.smtpdHash!)].filter(Boolean)) {
		t.false(out.includes(secret), `the plan shows ${secret}`);
	}
	t.false(/\$y\$|\$argon2id\$/.test(out), 'no hash-looking text at all');
	t.regex(out, /update \/etc\/dovecot\/users[^\n]*\n(?:.*\n)*?\s+~ alice \(changed\)\n\s+\+ bob \(added\)\n\s+- carol \(removed\)/);
	t.regex(out, /- carol \(removed\)/);
	t.regex(out, /update \/etc\/smtpd\/srs\.conf(?:.*\n)*?\s+\+ srs key \(added\)\n\s+- line 1 \(removed\)/, 'a key it does not recognise is named by its line');
});

test('secret entries are named without any part of a line that lacks its separator', (t) => {
	const summary = secretSummary('colon', `alice:${OLD_ALICE}\n${OLD_CAROL}\n#bob:${OLD_ALICE}\n`, 'alice:new\n');
	t.false(summary.includes('OLD'));
	t.regex(summary, /~ alice \(changed\)\n- line 2 \(removed\)/);
	t.is(secretSummary('whole', 'PRIVATE', 'OTHER'), '(a secret: its content changes; neither the old nor the new one is shown)\n');
});
