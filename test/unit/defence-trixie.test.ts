// Issue 18's Dovecot 2.4 side against the REAL Debian 13 packages (Dovecot 2.4.1 with
// dovecot-sieve, which trixie's dovecot-core pulls in): the cached trixie root through a
// throwaway overlay (test/lab/debian13/). doveconf must take dovecot.conf with the Sieve
// fragment and auth_verbose, and sievec must compile the scripts with that configuration.
import test from 'ava';
import {ensureTrixieRoot} from '../lab/debian13/root.ts';
import {openTrixieOverlay, type Sandbox} from '../lab/debian13/overlay.ts';
import {DOVECOT_CONF, lint24} from '../../templates/dovecot.ts';
import {DOVECOT_SIEVE_CONF, SIEVE_PATHS, sieveFiles} from '../../templates/sieve.ts';
import {DOVECOT_AUTH_LOG} from '../../templates/fail2ban.ts';

const CERT = '/etc/ssl/certs/mail.pem';
const KEY = '/etc/ssl/private/mail.key';

let root = '';
let why = '';
if (process.getuid?.() !== 0) why = 'not root: the Debian 13 root needs chroot, mount and namespaces';
else {
	try {
		root = await ensureTrixieRoot({log: () => {}});
	} catch (e) {
		why = `the Debian 13 root could not be built: ${e instanceof Error ? e.message : String(e)}`;
	}
}

const conf = () =>
	DOVECOT_CONF['2.4']({domain: 'example.test', cert: CERT, key: KEY, usersFile: '/etc/dovecot/users', vmailHome: '/var/vmail', scheme: 'ARGON2ID', firstValidUid: 500}) +
	DOVECOT_SIEVE_CONF['2.4']() +
	DOVECOT_AUTH_LOG;

async function prepared(): Promise<Sandbox> {
	const sb = await openTrixieOverlay(root);
	const prep = await sb.sh(`set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ${KEY} -out ${CERT} -days 2 -subj /CN=mail.example.test 2>/dev/null
groupadd --gid 5000 vmail
useradd --uid 5000 --gid vmail --home-dir /var/vmail --no-create-home --shell /usr/sbin/nologin vmail
touch /etc/dovecot/users
mkdir -p ${SIEVE_PATHS.dir} ${SIEVE_PATHS.pipeDir}`);
	if (prep.code !== 0) {
		await sb.close();
		throw new Error(`sandbox preparation failed: ${prep.stderr}`);
	}
	return sb;
}

if (why) {
	test.skip(`Dovecot 2.4 takes the Sieve fragment; sievec compiles the scripts (skipped: ${why})`, () => {});
} else {
	test('Dovecot 2.4 takes the Sieve fragment and auth_verbose; sievec compiles the scripts with it', async (t) => {
		const sb = await prepared();
		try {
			t.deepEqual(lint24(conf()), []);
			await sb.write('/etc/dovecot/dovecot.conf', conf());
			const n = await sb.exec(['doveconf', '-n']);
			t.is(n.code, 0, n.stderr);
			for (const want of [/imap_sieve = yes/, /sieve_imapsieve = yes/, /vnd\.dovecot\.pipe = yes/, /imapsieve_from Junk \{/, /sieve_script spam_to_junk \{/, /auth_verbose = yes/])
				t.regex(n.stdout, want);
			for (const f of sieveFiles()) await sb.write(f.path, f.content, f.mode);
			for (const f of sieveFiles().filter((x) => x.path.endsWith('.sieve'))) {
				const s = await sb.exec(['sievec', f.path]);
				t.is(s.code, 0, `${f.path}: ${s.stderr}`);
				t.is((await sb.exec(['test', '-s', f.path.replace(/\.sieve$/, '.svbin')])).code, 0, `${f.path} compiled`);
			}
			// The fragment is what makes them compile: without it the pipe extension is unknown.
			await sb.write('/etc/dovecot/dovecot.conf', conf().split('# ---- Sieve (mailwizard)')[0]!);
			const bare = await sb.exec(['sievec', SIEVE_PATHS.reportSpam, '/tmp/x.svbin']);
			t.not(bare.code, 0);
			t.regex(bare.stderr, /vnd\.dovecot\.pipe/);
		} finally {
			await sb.close();
		}
	});
}
