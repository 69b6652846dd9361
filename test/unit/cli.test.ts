// The built CLI, as an operator runs it.
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, writeFileSync, chmodSync, mkdirSync, readdirSync, statSync} from 'node:fs';
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
	t.regex(h.out, /--help, -h, help /, 'the help says the word help is accepted (issue 15.7)');
	t.regex(h.out, /--version, -V, version /);
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
	// The example's certificate does not exist here: the plan is printed in full, then exit 1 naming the stage.
	t.is(r.code, 1, r.err);
	t.regex(r.err, /would stop: tls/);
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
	t.true(r.code === 1 || r.code === 2, r.err);
	t.regex(r.out, new RegExp(`^## ${STEPS.length}/${STEPS.length} `, 'm'), 'the plan is printed in full before the non-zero exit');
	t.regex(r.out, /\+dovecot_config_version = 2\.4\.1/);
	t.regex(r.out, /\+ssl_server_cert_file = /);
	t.notRegex(r.out, /bookworm-backports/);
	const r12 = run(['--dry-run', '--target', 'debian12', '--answers', 'examples/example.com.yaml', '--state-dir', '/nonexistent/state']);
	t.regex(r12.out, /ssl_cert = </);
});

test('the dry run with tls.acme shows the certbot and nginx steps, the policy, autoconfig and hook as diffs, and the new names in DNS (issue 16)', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-acme-'));
	const file = join(dir, 'a.yaml');
	writeFileSync(
		file,
		`domain: example.test\nhostname: mx.example.test\nipv4: 192.0.2.10\ntls: {acme: {email: pm@example.test, directory: https://acme.example.test/dir}}\nmta_sts: {mode: enforce}\nusers: [{name: alice, password_hash: '{CRYPT}$y$j9T$abc$def'}]\n`,
	);
	const r = run(['--dry-run', '--target', 'debian12', '--answers', file, '--state-dir', '/nonexistent/state']);
	t.is(r.code, 0, r.err);
	t.regex(r.out, /^\$ certbot certonly .*--server https:\/\/acme\.example\.test\/dir .*-d mx\.example\.test -d mta-sts\.example\.test -d autoconfig\.example\.test /m);
	t.regex(r.out, /^\$ nginx -t -q$/m);
	t.regex(r.out, /# create \/var\/www\/mailwizard\/mta-sts\.example\.test\/\.well-known\/mta-sts\.txt \(0644\)[^#]*\+mode: enforce/);
	t.regex(r.out, /# create \/var\/www\/mailwizard\/autoconfig\.example\.test\/mail\/config-v1\.1\.xml/);
	t.regex(r.out, /\+reload nginx \/usr\/sbin\/nginx/, "the hook takes nginx from the stage's daemons");
	t.regex(r.out, /\+restart opensmtpd \/usr\/sbin\/smtpd/);
	t.regex(r.out, /autoconfig\.example\.test\.\s+3600\s+192\.0\.2\.10/);
	t.regex(r.out, /mta-sts\.example\.test\.\s+3600\s+192\.0\.2\.10/);
	t.regex(r.out, /ssl_cert = <\/etc\/letsencrypt\/live\/mx\.example\.test\/fullchain\.pem/);
	const plain = run(['--dry-run', '--target', 'debian12', '--answers', 'examples/example.com.yaml', '--state-dir', '/nonexistent/state']);
	t.notRegex(plain.out, /^\$ certbot|sites-available\/mailwizard|install .*\bnginx\b/m, 'own certificate files: no ACME step, no package');
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
	t.is(preview.code, 1, preview.err); // allowed: the plan is printed; the missing certificate would stop the tls stage
	t.regex(preview.out, /would stop/);
});

function answersWith(dir: string, passwordFile: string, cert?: {cert: string; key: string}): string {
	const file = join(dir, 'a.yaml');
	const tls = cert ?? {cert: join(dir, 'none.pem'), key: join(dir, 'none.key')};
	writeFileSync(file, `domain: example.test\nhostname: mail.example.test\nipv4: 192.0.2.10\ntls: {cert: ${tls.cert}, key: ${tls.key}}\nusers:\n  - name: alice\n    password_file: ${passwordFile}\n`);
	return file;
}

test('issue 15.3: the dry run refuses what the run refuses: a missing or short password file exits 2 after the full plan, a stage that would stop exits 1', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-dry3-'));
	chmodSync(dir, 0o755);
	const missing = run(['--dry-run', '--answers', answersWith(dir, join(dir, 'nope.pass')), '--state-dir', join(dir, 'state')]);
	t.is(missing.code, 2, missing.err);
	t.regex(missing.out, new RegExp(`^## ${STEPS.length}/${STEPS.length} `, 'm'));
	t.regex(missing.err, /users\[0\]\.password_file: .*nope\.pass/);
	const short = join(dir, 'short.pass');
	writeFileSync(short, 'abcde\n', {mode: 0o600});
	const r = run(['--dry-run', '--answers', answersWith(dir, short), '--state-dir', join(dir, 'state')]);
	t.is(r.code, 2, r.err);
	t.regex(r.err, /shorter than 8 characters/);
	t.notRegex(r.out + r.err, /abcde/, 'the password is never shown');
	const good = join(dir, 'good.pass');
	writeFileSync(good, 'a-long-enough-password\n', {mode: 0o600});
	const tls = run(['--dry-run', '--answers', answersWith(dir, good), '--state-dir', join(dir, 'state')]);
	t.is(tls.code, 1, tls.err);
	t.regex(tls.out, /1 step would stop: tls/);
	t.regex(tls.err, /would stop: tls/);
});

test('issue 15.7: the plan shows no literal %s; --target debian13 installs the Dovecot it says is to be installed', (t) => {
	const r = run(['--dry-run', '--target', 'debian13', '--answers', 'examples/example.com.yaml', '--state-dir', '/nonexistent/state']);
	t.notRegex(r.out, /%s/);
	t.regex(r.out, /doveconf -n -c <the new file>/);
	t.regex(r.out, /Dovecot 2\.4 \(to be installed\)/);
	const packages = new RegExp(`^## 2/${STEPS.length} Packages.*$([\\s\\S]*?)^## 3/${STEPS.length}`, 'm').exec(r.out);
	t.regex(packages?.[0] ?? '', /apt-get install -y --no-install-recommends .*dovecot-core/);
});

test('17: a file the wizard saved (users without a password source) applies to the server it came from: known users keep their passwords, a new one needs password_file (exit 2)', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'mw-saved-'));
	chmodSync(dir, 0o755);
	const root = join(dir, 'root');
	mkdirSync(join(root, 'etc/dovecot'), {recursive: true});
	writeFileSync(join(root, 'etc/dovecot/users'), 'alice:{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA::::::\n', {mode: 0o640});
	const saved = (users: string[]) => {
		const file = join(dir, `saved-${users.length}.yaml`);
		writeFileSync(
			file,
			`domain: example.test\nhostname: mail.example.test\nipv4: 192.0.2.10\ntls: {cert: ${join(dir, 'none.pem')}, key: ${join(dir, 'none.key')}}\nusers:\n${users.map((u) => `  - name: ${u}\n`).join('')}`,
		);
		return file;
	};
	const known = run(['--dry-run', '--root', root, '--answers', saved(['alice']), '--state-dir', '/var/lib/mailwizard']);
	t.notRegex(known.err, /password_file/, known.err);
	t.not(known.code, 2, known.err);
	const fresh = run(['--dry-run', '--root', root, '--answers', saved(['alice', 'carol']), '--state-dir', '/var/lib/mailwizard']);
	t.is(fresh.code, 2, fresh.err);
	t.regex(fresh.err, /users\[1\]\.password_file: carol is not a user of this server yet: give password_file/);
});
