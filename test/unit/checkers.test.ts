// Rendered configurations, validated by the daemons' own checkers when installed.
import test from 'ava';
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {dovecotConf} from '../../steps/07-dovecot.ts';
import {opensmtpd} from '../../steps/09-opensmtpd.ts';
import {srsConf} from '../../templates/smtpd.ts';
import {DEBIAN12, answers} from '../helpers/fixtures.ts';

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

function tlsPair(dir: string) {
	const cert = join(dir, 'cert.pem');
	const key = join(dir, 'key.pem');
	execFileSync(
		'openssl',
		['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=mail.example.test', '-addext', 'subjectAltName=DNS:mail.example.test'],
		{stdio: 'ignore'},
	);
	execFileSync('chmod', ['600', key]);
	return {cert, key};
}

test('smtpd -n accepts the rendered smtpd.conf and tables (with and without catch-all)', (t) => {
	if (!has('smtpd')) return t.pass('smtpd not installed');
	for (const catchAll of [undefined, 'bob']) {
		const dir = mkdtempSync(join(tmpdir(), 'mw-smtpd-'));
		const tls = tlsPair(dir);
		const a = answers({tls, catch_all: catchAll, aliases: {team: ['alice', 'bob'], fwd: 'x@remote.test'}, extra_domains: ['example.org']});
		const actions = opensmtpd.plan(
			a,
			{
				srsKey: 'k1',
				srsBackup: 'k0',
				iface: 'lo',
				hashes: [
					{name: 'alice', hash: '$y$a', source: 'kept'},
					{name: 'bob', hash: '$y$b', source: 'kept'},
				],
			},
			DEBIAN12,
		);
		let conf = '';
		for (const x of actions) {
			if (x.kind !== 'file' || typeof x.content !== 'string') continue;
			if (x.path === '/etc/smtpd.conf') conf = x.content;
			else if (x.path.startsWith('/etc/smtpd/')) writeFileSync(join(dir, x.path.slice('/etc/smtpd/'.length)), x.content);
		}
		t.is(srsConf('k1', 'k0'), 'srs key "k1"\nsrs key backup "k0"\n');
		writeFileSync(join(dir, 'smtpd.conf'), conf.replaceAll('/etc/smtpd/', `${dir}/`));
		const r = spawnSync('smtpd', ['-n', '-f', join(dir, 'smtpd.conf')], {encoding: 'utf8'});
		t.is(r.status, 0, `${r.stdout}${r.stderr}`);
	}
});

test('doveconf -n accepts the rendered dovecot.conf for the installed dialect', (t) => {
	if (!has('doveconf')) return t.pass('dovecot not installed');
	const version = execFileSync('dovecot', ['--version'], {encoding: 'utf8'});
	const dialect = /^2\.[4-9]/.test(version) ? '2.4' : '2.3';
	const dir = mkdtempSync(join(tmpdir(), 'mw-dovecot-'));
	const tls = tlsPair(dir);
	const file = join(dir, 'dovecot.conf');
	writeFileSync(file, dovecotConf(answers({tls}), {...DEBIAN12, dovecot: dialect}, 'ARGON2ID'));
	const r = spawnSync('doveconf', ['-n', '-c', file], {encoding: 'utf8'});
	t.is(r.status, 0, r.stderr);
	t.regex(r.stdout, /ssl = required/);
});
