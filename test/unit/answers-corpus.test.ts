// Issue 20: bad input. Every malformed or hostile answers file below goes through the built CLI
// (`mailwizard --dry-run --answers FILE`, which validates exactly as the run does, and reads the
// password files as root): each exits 2, names its key on stderr, and writes nothing.
import test from 'ava';
import {execFile} from 'node:child_process';
import {chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, lstatSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {stringify} from 'yaml';

const CLI = join(process.cwd(), 'dist/mailwizard.js');
const root = process.getuid?.() === 0;

const BASE = {
	domain: 'example.test',
	hostname: 'mail.example.test',
	ipv4: '192.0.2.10',
	tls: {cert: '/nonexistent/mail.pem', key: '/nonexistent/mail.key'},
	users: [{name: 'alice', password_hash: '{CRYPT}$y$j9T$abc$def'}],
};
const HASH = '{CRYPT}$y$j9T$abc$def';

type Case = {
	readonly name: string;
	/** The answers: an object (written as YAML), or the file's text as is. */
	readonly answers: Record<string, unknown> | unknown[] | string | ((dir: string) => Record<string, unknown> | string);
	/** The key the refusal must name. */
	readonly key: string;
	/** Files the case needs, made in its own directory (returns nothing). */
	readonly setup?: (dir: string) => void;
	/** The --answers path instead of dir/a.yaml (a FIFO, a directory...). */
	readonly file?: (dir: string) => string;
	readonly rootOnly?: boolean;
};

const over = (o: Record<string, unknown>) => ({...BASE, ...o});
const user = (u: Record<string, unknown>) => over({users: [{name: 'alice', ...u}]});
const pwFile = (make: (f: string) => void, name = 'alice.pass') => ({
	setup: (dir: string) => make(join(dir, name)),
	answers: (dir: string) => user({password_file: join(dir, name)}),
	key: 'users[0].password_file',
});
const mkfifo = (f: string) => execFile('mkfifo', [f]);

const cases: Case[] = [
	// Injection into every field that reaches a file or a command.
	{name: 'domain: a newline and an smtpd.conf rule', answers: over({domain: 'example.test\nmatch from any action "RELAY"'}), key: 'domain'},
	{name: 'domain: a shell command', answers: over({domain: 'example.test;reboot'}), key: 'domain'},
	{name: 'domain: a DNS zone line', answers: over({domain: 'example.test. IN NS evil.test.'}), key: 'domain'},
	{name: 'hostname: a quote (smtpd.conf string)', answers: over({hostname: 'mail".example.test'}), key: 'hostname'},
	{name: 'hostname: $(command)', answers: over({hostname: '$(reboot).example.test'}), key: 'hostname'},
	{name: 'hostname: a backtick', answers: over({hostname: 'mail`id`.example.test'}), key: 'hostname'},
	{name: 'ipv4: an extra word', answers: over({ipv4: '192.0.2.10 -all'}), key: 'ipv4'},
	{name: 'ipv4: a CIDR', answers: over({ipv4: '192.0.2.0/24'}), key: 'ipv4'},
	{name: 'ipv6: a newline', answers: over({ipv6: '2001:db8::1\ninclude:evil.test'}), key: 'ipv6'},
	{name: 'ipv6: an SPF mechanism', answers: over({ipv6: '2001:db8::1 include:evil.test'}), key: 'ipv6'},
	{name: 'tls.cert: a quote', answers: over({tls: {cert: '/etc/ssl/a"b.pem', key: '/k'}}), key: 'tls.cert'},
	{name: 'tls.cert: a newline and a Dovecot setting', answers: over({tls: {cert: '/etc/ssl/a.pem\nauth_mechanisms = plain', key: '/k'}}), key: 'tls.cert'},
	{name: 'tls.key: Dovecot <file include', answers: over({tls: {cert: '/c', key: '</etc/shadow'}}), key: 'tls.key'},
	{name: 'tls.key: $(command)', answers: over({tls: {cert: '/c', key: '/etc/ssl/$(reboot).key'}}), key: 'tls.key'},
	{name: 'users[0].name: a colon (passwd-file field)', answers: user({name: 'alice:0:0', password_hash: HASH}), key: 'users[0].name'},
	{name: 'users[0].name: a path', answers: user({name: '../../etc/cron.d/x', password_hash: HASH}), key: 'users[0].name'},
	{name: 'users[0].name: a space', answers: user({name: 'alice bob', password_hash: HASH}), key: 'users[0].name'},
	{name: 'users[0].password_hash: a newline and a second user', answers: user({password_hash: `${HASH}\nmallory:{PLAIN}x`}), key: 'users[0].password_hash'},
	{
		name: 'users[0].smtpd_hash: a space and a second entry',
		answers: user({password_hash: '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$a$b', smtpd_hash: '$y$a$b mallory $y$c$d'}),
		key: 'users[0].smtpd_hash',
	},
	{name: 'users[0].password_file: a relative path', answers: user({password_file: 'alice.pass'}), key: 'users[0].password_file'},
	{name: 'users[0].password_file: a quote', answers: user({password_file: '/root/a"b'}), key: 'users[0].password_file'},
	{name: 'aliases: a pipe to a command (smtpd aliases)', answers: over({aliases: {info: '|/bin/sh -c reboot'}}), key: 'aliases.info'},
	{name: 'aliases: :include: of a file', answers: over({aliases: {info: ':include:/etc/passwd'}}), key: 'aliases.info'},
	{name: 'aliases: delivery to a file', answers: over({aliases: {info: '/etc/passwd'}}), key: 'aliases.info'},
	{name: 'aliases: a comma (a second target in one)', answers: over({aliases: {info: 'alice, root@evil.test'}}), key: 'aliases.info'},
	{name: 'aliases: a name with a colon', answers: over({aliases: {'info:': 'alice'}}), key: 'aliases.info:'},
	{name: 'catch_all: a newline', answers: over({catch_all: 'alice\nbob'}), key: 'catch_all'},
	{name: 'dkim.selector: a DNS name', answers: over({dkim: {selector: 'mail._domainkey.evil'}}), key: 'dkim.selector'},
	{name: 'dkim.selector: a path', answers: over({dkim: {selector: '../../etc/passwd'}}), key: 'dkim.selector'},
	{name: 'dmarc.policy: a second tag', answers: over({dmarc: {policy: 'reject; rua=mailto:x@evil.test'}}), key: 'dmarc.policy'},
	{name: 'dmarc.rua: a second address', answers: over({dmarc: {policy: 'reject', rua: 'postmaster@example.test,mailto:x@evil.test'}}), key: 'dmarc.rua'},
	{name: 'dmarc.ruf: a tag', answers: over({dmarc: {policy: 'reject', ruf: 'alice@example.test; p=none'}}), key: 'dmarc.ruf'},
	{name: 'mta_sts.mode: a second line', answers: over({mta_sts: {mode: 'enforce\nmx: evil.test'}}), key: 'mta_sts.mode'},
	{name: 'tlsrpt.rua: not an address', answers: over({tlsrpt: {rua: 'https://evil.test/'}}), key: 'tlsrpt.rua'},
	{name: 'extra_domains[0]: a newline', answers: over({extra_domains: ['example.org\nevil.test']}), key: 'extra_domains[0]'},
	{name: 'tls.acme.email: an argument for certbot', answers: over({tls: {acme: {email: 'pm@example.test --server https://evil.test'}}}), key: 'tls.acme.email'},
	{name: 'tls.acme.directory: plain http', answers: over({tls: {acme: {email: 'pm@example.test', directory: 'http://acme.example.test/dir'}}}), key: 'tls.acme.directory'},
	{name: 'tls.acme.directory: a file URL', answers: over({tls: {acme: {email: 'pm@example.test', directory: 'file:///etc/shadow'}}}), key: 'tls.acme.directory'},
	{name: 'tls.acme.ca_bundle: a relative path', answers: over({tls: {acme: {email: 'pm@example.test', ca_bundle: 'ca.pem'}}}), key: 'tls.acme.ca_bundle'},
	// Wrong types.
	{name: 'domain: a list', answers: over({domain: ['example.test']}), key: 'domain'},
	{name: 'domain: a mapping', answers: over({domain: {name: 'example.test'}}), key: 'domain'},
	{name: 'domain: a number', answers: over({domain: 42}), key: 'domain'},
	{name: 'hostname: true', answers: over({hostname: true}), key: 'hostname'},
	{name: 'ipv4: a number', answers: over({ipv4: 3221225994}), key: 'ipv4'},
	{name: 'tls: a string', answers: over({tls: '/etc/ssl/mail.pem'}), key: 'tls'},
	{name: 'users: a string', answers: over({users: 'alice'}), key: 'users'},
	{name: 'users: a mapping', answers: over({users: {name: 'alice', password_hash: HASH}}), key: 'users'},
	{name: 'users[0]: a string', answers: over({users: ['alice']}), key: 'users[0]'},
	{name: 'users[0].name: a list', answers: user({name: ['alice'], password_hash: HASH}), key: 'users[0].name'},
	{name: 'aliases: a list', answers: over({aliases: ['info']}), key: 'aliases'},
	{name: 'aliases.info: a mapping', answers: over({aliases: {info: {to: 'alice'}}}), key: 'aliases.info'},
	{name: 'dkim: a string', answers: over({dkim: 'mail'}), key: 'dkim'},
	{name: 'dmarc: a list', answers: over({dmarc: ['reject']}), key: 'dmarc'},
	{name: 'remove_mta: the string "yes"', answers: over({remove_mta: 'yes'}), key: 'remove_mta'},
	{name: 'autoconfig: the string "true"', answers: over({autoconfig: 'true'}), key: 'autoconfig'},
	{name: 'extra_domains: a string', answers: over({extra_domains: 'example.org'}), key: 'extra_domains'},
	{name: 'mta_sts: true', answers: over({mta_sts: true}), key: 'mta_sts'},
	{name: 'the answers: a list', answers: [BASE], key: '(answers)'},
	{name: 'the answers: one string', answers: 'example.test\n', key: '(answers)'},
	{name: 'the answers: empty', answers: '', key: 'domain'},
	// Unknown keys, at the top and inside each section.
	{name: 'an unknown key', answers: over({relay_host: 'evil.test'}), key: 'relay_host'},
	{name: 'an unknown key in tls', answers: over({tls: {cert: '/c', key: '/k', ciphers: 'NULL'}}), key: 'tls.ciphers'},
	{name: 'an unknown key in a user', answers: user({password_hash: HASH, admin: true}), key: 'users[0].admin'},
	{name: 'an unknown key in dkim', answers: over({dkim: {selector: 'mail', bits: 512}}), key: 'dkim.bits'},
	{name: 'an unknown key in dmarc', answers: over({dmarc: {policy: 'reject', pct: 0}}), key: 'dmarc.pct'},
	{name: 'an unknown key in mta_sts', answers: over({mta_sts: {mode: 'enforce', max_age: 1}}), key: 'mta_sts.max_age'},
	{name: 'an unknown key in tlsrpt', answers: over({tlsrpt: {rua: 'postmaster@example.test', ruf: 'x'}}), key: 'tlsrpt.ruf'},
	// Prototype keys.
	{name: '__proto__ at the top', answers: `__proto__: {domain: evil.test}\n${stringify(BASE)}`, key: '__proto__'},
	{name: '__proto__ in tls', answers: stringify(BASE).replace('tls:\n', 'tls:\n  __proto__: {acme: {email: x@evil.test}}\n'), key: 'tls.__proto__'},
	{
		name: '__proto__ in a user',
		answers: `${stringify({...BASE, users: undefined})}users:\n  - name: alice\n    password_hash: "${HASH}"\n    __proto__: {password_file: /etc/shadow}\n`,
		key: 'users[0].__proto__',
	},
	{name: '__proto__ as an alias', answers: `${stringify(BASE)}aliases:\n  __proto__: alice\n`, key: 'aliases.__proto__'},
	{name: 'constructor in dkim', answers: `${stringify(BASE)}dkim:\n  constructor: x\n`, key: 'dkim.constructor'},
	// YAML: bombs, duplicate keys, tags, depth.
	{
		name: 'a billion laughs (aliases of aliases)',
		answers: `${stringify(BASE)}a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n`,
		key: '(file)',
	},
	{name: 'a key twice (the second would win)', answers: `${stringify(BASE)}domain: evil.test\n`, key: 'domain'},
	{name: 'a key twice inside tls', answers: stringify(BASE).replace('  key: /nonexistent/mail.key\n', '  key: /nonexistent/mail.key\n  key: /etc/shadow\n'), key: 'key'},
	{name: 'a merge key (<<) smuggling keys in from an anchor', answers: `${stringify(BASE)}dmarc: &m {policy: reject}\n<<: *m\n`, key: '<<'},
	{name: 'a JavaScript function tag', answers: `${stringify(BASE)}autoconfig: !!js/function "function () { return true }"\n`, key: 'autoconfig'},
	{name: 'a custom tag on the domain', answers: stringify(BASE).replace('domain: example.test', 'domain: !shell "reboot"'), key: 'domain'},
	{name: 'nesting 30,000 deep', answers: `${stringify(BASE)}x: ${'['.repeat(30_000)}${']'.repeat(30_000)}\n`, key: '(file)'},
	{name: 'more than 64 KiB', answers: `${stringify(BASE)}# ${'x'.repeat(70 * 1024)}\n`, key: '--answers'},
	{name: 'a NUL byte', answers: `${stringify(BASE).replace('mail.example.test', 'mail\u0000.example.test')}`, key: 'hostname'},
	// The answers file itself.
	{name: '--answers: a symbolic link', answers: over({}), key: '--answers', file: (dir) => (symlinkSync(join(dir, 'a.yaml'), join(dir, 'link.yaml')), join(dir, 'link.yaml'))},
	{name: '--answers: a directory', answers: over({}), key: '--answers', file: (dir) => (mkdirSync(join(dir, 'd.yaml')), join(dir, 'd.yaml'))},
	{name: '--answers: a FIFO (would block the run)', answers: over({}), key: '--answers', setup: (dir) => void mkfifo(join(dir, 'f.yaml')), file: (dir) => join(dir, 'f.yaml')},
	{name: '--answers: /dev/zero', answers: over({}), key: '--answers', file: () => '/dev/zero'},
	{name: '--answers: missing', answers: over({}), key: '--answers', file: (dir) => join(dir, 'none.yaml')},
	// Password files.
	{name: 'password_file: a symbolic link', ...pwFile((f) => (writeFileSync(`${f}.real`, 'a-long-password\n', {mode: 0o600}), symlinkSync(`${f}.real`, f))), rootOnly: true},
	{name: 'password_file: a directory', ...pwFile((f) => mkdirSync(f, {mode: 0o700})), rootOnly: true},
	{name: 'password_file: a FIFO', ...pwFile((f) => void mkfifo(f)), rootOnly: true},
	{name: 'password_file: world-readable (0644)', ...pwFile((f) => (writeFileSync(f, 'a-long-password\n'), chmodSync(f, 0o644))), rootOnly: true},
	{name: 'password_file: group-readable (0640)', ...pwFile((f) => (writeFileSync(f, 'a-long-password\n'), chmodSync(f, 0o640))), rootOnly: true},
	{name: 'password_file: owned by another user', ...pwFile((f) => (writeFileSync(f, 'a-long-password\n', {mode: 0o600}), chownSync(f, 65534, 65534))), rootOnly: true},
	{name: 'password_file: empty', ...pwFile((f) => writeFileSync(f, '', {mode: 0o600})), rootOnly: true},
	{name: 'password_file: too short', ...pwFile((f) => writeFileSync(f, 'short\n', {mode: 0o600})), rootOnly: true},
	{name: 'password_file: two lines', ...pwFile((f) => writeFileSync(f, 'a-long-password\nsecond line\n', {mode: 0o600})), rootOnly: true},
	{name: 'password_file: over 64 KiB', ...pwFile((f) => writeFileSync(f, `${'p'.repeat(70 * 1024)}\n`, {mode: 0o600})), rootOnly: true},
	{name: 'password_file: /dev/zero', answers: user({password_file: '/dev/zero'}), key: 'users[0].password_file', rootOnly: true},
	{name: 'password_file: missing', ...pwFile(() => undefined), rootOnly: true},
	// Certificate files that cannot be a certificate (a symlink is fine: certbot's live/ paths are links).
	{name: 'tls.cert: a directory', setup: (dir) => mkdirSync(join(dir, 'cert.pem')), answers: (dir) => over({tls: {cert: join(dir, 'cert.pem'), key: '/nonexistent/k'}}), key: 'tls.cert'},
	{
		name: 'tls.cert: a FIFO (would block the run)',
		setup: (dir) => void mkfifo(join(dir, 'cert.pem')),
		answers: (dir) => over({tls: {cert: join(dir, 'cert.pem'), key: '/nonexistent/k'}}),
		key: 'tls.cert',
	},
	{name: 'tls.key: a directory', setup: (dir) => mkdirSync(join(dir, 'k')), answers: (dir) => over({tls: {cert: '/nonexistent/c', key: join(dir, 'k')}}), key: 'tls.key'},
	{name: 'tls.key: /dev/zero', answers: over({tls: {cert: '/nonexistent/c', key: '/dev/zero'}}), key: 'tls.key'},
];

function tree(dir: string): string[] {
	return (readdirSync(dir, {recursive: true, encoding: 'utf8'}) as string[])
		.map((f) => {
			const s = lstatSync(join(dir, f));
			return `${f} ${s.mode} ${s.size} ${s.mtimeMs}`;
		})
		.sort();
}

function cli(args: string[]): Promise<{code: number | null; out: string; err: string}> {
	return new Promise((resolve) => {
		execFile(process.execPath, [CLI, ...args], {encoding: 'utf8', timeout: 30_000, maxBuffer: 16 * 1024 * 1024, env: {...process.env, NO_COLOR: '1'}}, (error, out, err) =>
			resolve({code: error ? ((error as {code?: number}).code ?? null) : 0, out, err}),
		);
	});
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('the corpus holds at least 60 distinct hostile or malformed answers', (t) => {
	t.true(cases.length >= 60, `${cases.length} cases`);
	t.is(new Set(cases.map((c) => c.name)).size, cases.length, 'distinct names');
});

for (const c of cases) {
	(c.rootOnly && !root ? test.skip : test)(`refused (exit 2, naming ${c.key}, nothing written): ${c.name}`, async (t) => {
		t.timeout(40_000);
		const dir = mkdtempSync(join(tmpdir(), 'mw-corpus-'));
		chmodSync(dir, 0o755);
		c.setup?.(dir);
		await new Promise((r) => setTimeout(r, 20)); // mkfifo
		const raw = typeof c.answers === 'function' ? c.answers(dir) : c.answers;
		writeFileSync(join(dir, 'a.yaml'), typeof raw === 'string' ? raw : stringify(raw), {mode: 0o600});
		const file = c.file?.(dir) ?? join(dir, 'a.yaml');
		const before = tree(dir);
		const r = await cli(['--dry-run', '--answers', file, '--state-dir', join(dir, 'state'), '--resolver', '127.0.0.1:9', '--probe', 'none', '--dnsbl', 'none']);
		t.is(r.code, 2, `${r.err}${r.out.slice(-400)}`);
		t.regex(r.err, new RegExp(`^mailwizard: (dry run: )?${escape(c.key)}: `, 'm'), 'the key is named');
		t.notRegex(r.err, /\n {4}at |TypeError|RangeError/, 'no crash');
		t.deepEqual(tree(dir), before, 'nothing written (not even the state directory)');
	});
}
