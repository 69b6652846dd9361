// Issue 14, findings 1 and 11: who may send as which address (the sendas table of the
// submission listeners, and Rspamd signing only authenticated mail), and who may connect to
// Dovecot's LMTP socket. The daemons' own checks of these files: test/unit/debian13-config.test.ts
// (OpenSMTPD 7.6) and the lab lanes (test/lab/security.ts).
import test from 'ava';
import {dovecot} from '../../steps/07-dovecot.ts';
import {rspamd} from '../../steps/08-rspamd.ts';
import {opensmtpd} from '../../steps/09-opensmtpd.ts';
import {DOVECOT_CONF, type DovecotVars} from '../../templates/dovecot.ts';
import {dkimSigningConf} from '../../templates/rspamd.ts';
import {aliasOwners, sendersLines, smtpdConf} from '../../templates/smtpd.ts';
import type {Action} from '../../source/engine/types.ts';
import {DEBIAN12, DEBIAN13, answers} from '../helpers/fixtures.ts';

const smtpdFacts = {
	srsKey: 'SRSKEY',
	iface: 'eth0',
	hashes: [
		{name: 'alice', hash: '$y$A', source: 'kept' as const},
		{name: 'bob', hash: '$y$B', source: 'kept' as const},
	],
};

function file(actions: readonly Action[], path: string): Extract<Action, {kind: 'file'}> | undefined {
	const a = actions.find((x) => x.kind === 'file' && x.path === path);
	return a?.kind === 'file' ? a : undefined;
}

/** The sendas table as a map: login -> the addresses it may send as. */
function table(text: string): Map<string, string[]> {
	return new Map(
		text
			.trim()
			.split('\n')
			.map((l) => {
				const [login, rest] = l.split(/ (.*)/s) as [string, string];
				return [login, rest.split(', ')];
			}),
	);
}

test('sendas: each user sends as their own address and the aliases that reach them, in every domain; logins as in passwds', (t) => {
	const a = answers({
		extra_domains: ['other.test'],
		aliases: {info: 'alice', team: ['alice', 'bob'], sales: 'team', fwd: 'someone@remote.test', mixed: ['bob', 'x@remote.test'], 'billing@other.test': 'bob@example.test'},
		catch_all: 'alice',
	});
	const plan = opensmtpd.plan(a, smtpdFacts, DEBIAN12);
	const sendas = file(plan, '/etc/smtpd/sendas');
	t.truthy(sendas, 'the table is planned');
	const map = table(String(sendas!.content));
	// The logins smtpd accepts (the passwds table's keys) are exactly the sendas keys.
	const logins = String(file(plan, '/etc/smtpd/passwds')!.content)
		.trim()
		.split('\n')
		.map((l) => l.split(' ')[0]);
	t.deepEqual([...map.keys()], logins);
	const alice = ['alice', 'info', 'team', 'sales', 'postmaster', 'abuse'];
	const bob = ['bob', 'team', 'sales', 'mixed', 'billing'];
	const everywhere = (locals: string[]) => ['example.test', 'other.test'].flatMap((d) => locals.map((l) => `${l}@${d}`)).sort();
	for (const login of ['alice', 'alice@example.test', 'alice@other.test']) t.deepEqual([...map.get(login)!].sort(), everywhere(alice), login);
	for (const login of ['bob', 'bob@example.test', 'bob@other.test']) t.deepEqual([...map.get(login)!].sort(), everywhere(bob), login);
	// Nobody owns an address that only forwards out, and the catch-all grants nothing more.
	t.false(String(sendas!.content).includes('fwd@'), 'fwd@ reaches no local user');
	t.false(
		[...map.values()].flat().some((x) => x.startsWith('@')),
		'no whole-domain entry (a catch-all is not a licence to send as anyone)',
	);
	t.like(sendas, {mode: 0o644, owner: 'root', restarts: 'opensmtpd', onChange: [{argv: ['smtpctl', 'update', 'table', 'sendas']}]});
});

test('sendas: alias resolution follows chains once (a long chain is quick) and external targets reach nobody', (t) => {
	const aliases: Record<string, string[]> = {a0: ['alice']};
	for (let i = 1; i < 3000; i++) aliases[`a${i}`] = [`a${i - 1}`, `x${i}@remote.test`];
	const t0 = performance.now();
	const owners = aliasOwners({users: ['alice', 'bob'], aliases});
	const ms = performance.now() - t0;
	t.deepEqual([...owners.get('a2999')!], ['alice']);
	t.true(ms < 500, `3000 chained aliases resolved in ${Math.round(ms)} ms`);
	t.deepEqual([...aliasOwners({users: ['alice'], aliases: {fwd: ['someone@remote.test']}}).get('fwd')!], []);
	t.deepEqual(sendersLines({users: ['alice'], domains: ['example.test'], aliases: {constructor: ['alice']}}), [
		'alice@example.test alice@example.test, constructor@example.test',
		'alice alice@example.test, constructor@example.test',
	]);
});

test('smtpd.conf: both submission listeners check the sender against <sendas> and masquerade the From header; port 25 does not', (t) => {
	const conf = smtpdConf({hostname: 'mail.example.test', domains: ['example.test'], cert: '/c', key: '/k', iface: 'eth0', catchAll: false, filterRspamd: '/f', lmtpSocket: '/l'});
	t.regex(conf, /^table sendas file:\/etc\/smtpd\/sendas$/m);
	t.notRegex(conf, /^table senders /m, '"senders" is a keyword of smtpd.conf: a table cannot have that name');
	const listeners = conf.split('\n').filter((l) => l.startsWith('listen on '));
	const submission = listeners.filter((l) => / port (465|587) /.test(l));
	t.is(submission.length, 2);
	for (const l of submission) t.regex(l, / auth <passwds> senders <sendas> masquerade /);
	for (const l of listeners.filter((x) => / port 25 /.test(x))) t.notRegex(l, /senders/, 'mail from other servers and local programs is not authenticated: no sender table there');
});

test('Rspamd: only authenticated mail is signed (not mail from local or private addresses without a login)', (t) => {
	const conf = dkimSigningConf([{domain: 'example.test', selector: 'mail', path: '/k'}]);
	t.regex(conf, /^sign_authenticated = true;$/m);
	t.regex(conf, /^sign_local = false;$/m);
	t.regex(conf, /^sign_inbound = false;$/m);
	const planned = rspamd.plan(answers(), {} as never, DEBIAN12);
	t.true(
		planned.some((x) => x.kind === 'file' && /sign_local = false;/.test(String(x.content))),
		'the step writes it',
	);
});

test('Dovecot 2.3 and 2.4: only vmail and the group opensmtpd (smtpd runs mail.lmtp as opensmtpd) may connect to the LMTP socket', (t) => {
	const v: DovecotVars = {domain: 'example.test', cert: '/c', key: '/k', usersFile: '/etc/dovecot/users', vmailHome: '/var/vmail', scheme: 'ARGON2ID', firstValidUid: 500};
	for (const dialect of ['2.3', '2.4'] as const) {
		const conf = DOVECOT_CONF[dialect](v);
		const listener = /unix_listener lmtp \{([^}]*)\}/.exec(conf)?.[1] ?? '';
		t.regex(listener, /^\s*user = vmail$/m, dialect);
		t.regex(listener, /^\s*group = opensmtpd$/m, dialect);
		t.regex(listener, /^\s*mode = 0660$/m, dialect);
		t.notRegex(conf, /mode = 06[0-7][1-7]/, `${dialect}: no socket writable by others`);
	}
	for (const profile of [DEBIAN12, DEBIAN13]) {
		const plan = dovecot.plan(answers(), {scheme: 'ARGON2ID', hashes: [{name: 'alice', hash: '{X}a', source: 'kept'}]} as never, profile);
		t.regex(String(file(plan, '/etc/dovecot/dovecot.conf')?.content), /unix_listener lmtp \{\s*user = vmail\s*group = opensmtpd\s*mode = 0660\s*\}/);
	}
});
