// The built CLI, as an operator runs it.
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, writeFileSync, chmodSync, readdirSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {STEPS} from '../../steps/index.ts';

const CLI = join(process.cwd(), 'dist/mailwizard.js');

function run(args: string[], opts: {asNobody?: boolean; input?: string; env?: Record<string, string>} = {}) {
	const argv = opts.asNobody && process.getuid?.() === 0 ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, ...args] : [process.execPath, CLI, ...args];
	const r = spawnSync(argv[0]!, argv.slice(1), {encoding: 'utf8', input: opts.input ?? '', env: {...process.env, NO_COLOR: '1', ...opts.env}});
	return {code: r.status, out: r.stdout, err: r.stderr};
}

function tree(dir: string): string[] {
	const out: string[] = [];
	const walk = (d: string) => {
		for (const f of readdirSync(d)) {
			const p = join(d, f);
			const s = statSync(p);
			out.push(`${p} ${s.mode} ${s.size} ${s.mtimeMs}`);
			if (s.isDirectory()) walk(p);
		}
	};
	walk(dir);
	return out.sort();
}

test('--help explains the commands and exit codes; --version prints the version', (t) => {
	const h = run(['--help']);
	t.is(h.code, 0);
	t.regex(h.out, /--answers FILE --yes/);
	t.regex(h.out, /75 waiting for DNS/);
	t.regex(run(['--version']).out, /^\d+\.\d+\.\d+\n$/);
});

test('bad usage exits 2 with a message that says what to do', (t) => {
	const r = run(['--frobnicate']);
	t.is(r.code, 2);
	t.regex(r.err, /Unknown option '--frobnicate'/);
	t.is(run(['explode']).code, 2);
	t.is(run(['--target', 'debian12']).code, 2, '--target is only for previews');
});

test('without a terminal and without answers nothing prompts: exit 2 naming --answers', (t) => {
	const state = mkdtempSync(join(tmpdir(), 'mw-state-'));
	const r = run(['--state-dir', join(state, 'x'), '--yes'], {});
	t.is(r.code, 2);
	t.regex(r.err, /--answers/);
	t.false(existsSync(join(state, 'x')));
});

test('an invalid answers file exits 2 naming the key, and writes nothing', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-bad-'));
	const file = join(dir, 'a.yaml');
	writeFileSync(file, 'domain: "bad domain"\nhostname: mail.example.test\n');
	const before = tree(dir);
	const r = run(['--dry-run', '--answers', file, '--state-dir', join(dir, 'state')]);
	t.is(r.code, 2);
	t.regex(r.err, /^mailwizard: domain: "bad domain" is not a valid domain name/m);
	t.deepEqual(tree(dir), before);
});

test('the dry run of the example, as an unprivileged user, prints every stage and changes nothing', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-dry-'));
	chmodSync(dir, 0o755);
	const before = tree(dir);
	const r = run(['--dry-run', '--answers', 'examples/example.com.yaml', '--state-dir', join(dir, 'state')], {asNobody: true});
	t.is(r.code, 0, r.err);
	const titles = [...r.out.matchAll(/^## (\d+)\/(\d+) (.*?)(?: — .*)?$/gm)].map((m) => `${m[1]}/${m[2]} ${m[3]}`);
	t.deepEqual(
		titles,
		STEPS.map((s, i) => `${i + 1}/${STEPS.length} ${s.title}`),
		'every stage of the registry, in walk order',
	);
	t.regex(r.out, /\/etc\/smtpd\.conf/);
	t.regex(r.out, /\/etc\/dovecot\/dovecot\.conf/);
	t.regex(r.out, /Nothing was changed \(dry run\)|Nothing to change/);
	t.notRegex(r.out, /\u0000/);
	t.deepEqual(tree(dir), before, 'not even the state directory was created');
});

test('the dry run for Debian 13 prints the Dovecot 2.4 configuration', (t) => {
	const r = run(['--dry-run', '--target', 'debian13', '--answers', 'examples/example.com.yaml', '--state-dir', '/nonexistent/state']);
	t.is(r.code, 0, r.err);
	t.regex(r.out, /\+dovecot_config_version = 2\.4\.1/);
	t.regex(r.out, /\+ssl_server_cert_file = /);
	t.notRegex(r.out, /bookworm-backports/);
	const r12 = run(['--dry-run', '--target', 'debian12', '--answers', 'examples/example.com.yaml', '--state-dir', '/nonexistent/state']);
	t.regex(r12.out, /ssl_cert = </);
});

test('dns prints the records as a table, a zone fragment and JSON', (t) => {
	const table = run(['dns', '--answers', 'examples/example.com.yaml', '--state-dir', '/nonexistent/state']);
	t.is(table.code, 0, table.err);
	t.regex(table.out, /mail\.example\.com\./);
	const zone = run(['dns', '--zone', '--answers', 'examples/example.com.yaml', '--state-dir', '/nonexistent/state']);
	t.regex(zone.out, /^example\.com\.\s+\d+\s+IN\s+MX\s+10\s+mail\.example\.com\./m);
	const json = JSON.parse(run(['dns', '--json', '--answers', 'examples/example.com.yaml', '--state-dir', '/nonexistent/state']).out) as unknown[];
	t.true(Array.isArray(json) && json.length >= 4);
});

test('"help" and "version" are accepted as words, like --help and --version', (t) => {
	const h = run(['help']);
	t.is(h.code, 0, h.err);
	t.regex(h.out, /--answers FILE --yes/);
	const v = run(['version']);
	t.is(v.code, 0, v.err);
	t.regex(v.out, /^\d+\.\d+\.\d+\n$/);
});

test('an unknown option is named with balanced quotes', (t) => {
	const r = run(['--frobnicate']);
	t.is(r.code, 2);
	const first = r.err.split('\n')[0]!;
	t.is(first, "mailwizard: Unknown option '--frobnicate'.");
	for (const line of r.err.split('\n')) t.is((line.match(/'/g) ?? []).length % 2, 0, `balanced quotes: ${line}`);
});

test('--dry-run --json is refused with exit 2 and says why, instead of ignoring --json', (t) => {
	const r = run(['--dry-run', '--json', '--answers', 'examples/example.com.yaml', '--state-dir', '/nonexistent/state']);
	t.is(r.code, 2);
	t.is(r.out, '');
	t.regex(r.err, /--json is for dns, status and check/);
	t.regex(r.err, /leave out --json/);
});

for (const command of ['dns', 'check'])
	test(`${command} without --answers and without saved progress says nothing is set up yet and what to run`, (t) => {
		const dir = mkdtempSync(join(tmpdir(), 'mw-empty-'));
		const r = run([command, '--state-dir', join(dir, 'state'), '--resolver', '127.0.0.1:9']);
		t.is(r.code, 2);
		t.regex(r.err, /nothing is set up yet/);
		t.regex(r.err, /Run "mailwizard" to set up this server first, or give the answers with --answers FILE/);
		t.notRegex(r.err, /--answers: no answers/, 'no --answers was given: it is not what is wrong');
		t.false(existsSync(join(dir, 'state')));
	});

test('reset on an empty state directory says there was nothing to forget and creates no state.json', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-reset-'));
	const r = run(['reset', '--state-dir', dir]);
	t.is(r.code, 0, r.err);
	t.regex(r.out, /Nothing to forget: there is no saved progress in .*state\.json\. Nothing was changed\./);
	t.notRegex(r.out, /forgotten/);
	t.deepEqual(readdirSync(dir), []);
});

test('--root is a preview seam: applying with it exits 2 before any command runs; with --dry-run it is allowed', (t) => {
	// Every command the wizard could run is shadowed by a recorder first in PATH: nothing on the host runs.
	const dir = mkdtempSync(join(tmpdir(), 'mw-root-'));
	const bin = join(dir, 'bin');
	const log = join(dir, 'ran.log');
	spawnSync('mkdir', ['-p', bin, join(dir, 'root')]);
	chmodSync(dir, 0o777);
	chmodSync(bin, 0o777);
	chmodSync(join(dir, 'root'), 0o777);
	for (const c of ['apt-get', 'apt', 'dpkg', 'dpkg-query', 'useradd', 'groupadd', 'systemctl', 'service', 'doveadm', 'smtpctl', 'rspamadm', 'openssl', 'chown', 'id', 'getent']) {
		writeFileSync(join(bin, c), `#!/bin/sh\necho "${c} $*" >> ${log}\nexit 1\n`);
		chmodSync(join(bin, c), 0o755);
	}
	const env = {PATH: `${bin}:${process.env.PATH}`};
	// No password file to read: the run would go on to apply.
	const answers = join(dir, 'a.yaml');
	writeFileSync(
		answers,
		'domain: example.test\nhostname: mail.example.test\nipv4: 192.0.2.10\ntls: {cert: /etc/ssl/certs/x.pem, key: /etc/ssl/private/x.key}\nusers:\n  - {name: alice, password_hash: "{CRYPT}$y$j9T$abc$def"}\n',
	);
	chmodSync(answers, 0o644);
	const apply = run(['--root', join(dir, 'root'), '--answers', answers, '--yes'], {asNobody: true, env});
	t.is(apply.code, 2, apply.out + apply.err);
	t.regex(apply.err, /--root .*--dry-run/);
	t.false(existsSync(log), existsSync(log) ? 'commands ran' : '');
	const reset = run(['reset', '--root', join(dir, 'root')], {asNobody: true, env});
	t.is(reset.code, 2, reset.out + reset.err);
	const preview = run(['--dry-run', '--root', join(dir, 'root'), '--answers', answers], {asNobody: true, env});
	t.is(preview.code, 0, preview.err);
});
