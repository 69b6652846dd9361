// End to end on Debian 13 (issue 10, the second lab lane): the same lab and every assertion
// of the Debian 12 lane (test/lab/assertions.ts), but the mx runs on a fresh overlay of a
// cached Debian 13 root (test/lab/debian13/root.ts) and the wizard under Debian 13's own node.
// Needs root; skipped with the reason when not root or the Debian 13 root cannot be built.
import test from 'ava';
import {labUnavailable, NET} from './lab.ts';
import {ANSWERS, DIST, STATE, makeLane, tail} from './assertions.ts';
import {LOCK_WAIT_MS, TRIXIE_NODE, trixieRoot, upTrixieLab} from './debian13/lane.ts';
import {security} from './security.ts';
import {ipv6} from './ipv6.ts';
import {doctor} from './doctor.ts';
import {rotation} from './rotate.ts';
import {day2} from './day2.ts';
import {defence} from './defence.ts';

const unavailable = await labUnavailable();
const root = unavailable ? undefined : await trixieRoot();

if (unavailable) {
	test.skip(`lab (Debian 13, end to end) skipped: ${unavailable}`, () => {});
} else if (!root || 'error' in root) {
	test.skip(`lab (Debian 13, end to end) skipped: the Debian 13 root cannot be built: ${root && 'error' in root ? root.error : '?'}`, () => {});
} else {
	const lane = makeLane({
		file: 'test/lab/debian13.test.ts',
		node: TRIXIE_NODE,
		up: (log) => {
			log(`Debian 13 root ${root.dir} (${root.cold ? 'built' : 'cached'} in ${root.ms} ms): ${JSON.stringify(root.versions?.packages)}`);
			return upTrixieLab(root.dir, log);
		},
		packagesNote: 'the Debian 13 root has opensmtpd installed',
		setupTimeoutMs: LOCK_WAIT_MS + 120_000,
	});
	const {lab} = lane;

	lane.hooks();
	lane.labChecks();

	test.serial('lab: the mx is a fresh Debian 13 with its own node and Dovecot 2.4, the checkout read-only', async (t) => {
		const l = lab();
		const os = await l.exec('mx', ['cat', '/etc/os-release']);
		t.regex(os.stdout, /^VERSION_ID="13"$/m);
		t.regex(os.stdout, /^VERSION_CODENAME=trixie$/m);
		const node = await l.exec('mx', [TRIXIE_NODE, '--version']);
		t.regex(node.stdout.trim(), /^v20\./, 'the nodejs package of Debian 13');
		const dv = await l.exec('mx', ['dovecot', '--version']);
		t.regex(dv.stdout.trim(), /^2\.4\./);
		const smtpd = await l.exec('mx', ['dpkg-query', '-W', '-f', '${Version}', 'opensmtpd', 'opensmtpd-filter-rspamd', 'rspamd']);
		t.log(`mx: ${os.stdout.match(/^PRETTY_NAME=(.*)$/m)?.[1]}, node ${node.stdout.trim()}, dovecot ${dv.stdout.trim()}, opensmtpd/filter/rspamd ${smtpd.stdout}`);
		t.is((await l.exec('mx', ['touch', `${DIST}.mwlab-probe`])).exitCode, 1, 'the checkout is read-only in the mx');
		t.false((await l.exec('mx', ['test', '-e', '/var/lib/mailwizard'])).exitCode === 0, 'no state yet: a fresh server');
	});

	test.serial('wizard: the dry run on Debian 13 plans the Dovecot 2.4 file and no package change (no backports, no hold)', async (t) => {
		const r = await lab().exec('mx', [TRIXIE_NODE, DIST, '--dry-run', '--answers', ANSWERS, '--resolver', NET.dns, '--state-dir', STATE], {env: {NO_COLOR: '1', TERM: 'dumb'}});
		t.is(r.exitCode, 0, r.stderr);
		t.log(tail(r.stdout, 400));
		t.regex(r.stdout, /debian 13 \(trixie\), Dovecot 2\.4\.\d+, sysv, node 20\./, "the profile: Debian 13, Dovecot 2.4, the wizard under Debian 13's node");
		t.regex(r.stdout, /dovecot_config_version = 2\.4\.1/);
		t.regex(r.stdout, /ssl_server_cert_file = \//);
		t.notRegex(r.stdout, /ssl_cert = </);
		t.notRegex(r.stdout, /backports/i, 'no bookworm-backports source');
		t.notRegex(r.stdout, /apt-mark hold/, 'no held package');
		t.notRegex(r.stdout, /apt-get (update|install)/, 'the packages are there: nothing to install');
		t.notRegex(r.stdout, /trixie main/, 'no private trixie download');
	});

	lane.wizardRuns();

	test.serial('wizard: on Debian 13 apt is left alone and dovecot.conf is the 2.4 one', async (t) => {
		if (!lane.needWizard(t)) return;
		const l = lab();
		const src = await l.exec('mx', ['sh', '-c', 'ls /etc/apt/sources.list.d/; apt-mark showhold; ls /var/cache/mailwizard 2>&1']);
		t.log(src.stdout);
		t.notRegex(src.stdout, /mailwizard-bookworm-backports|opensmtpd-filter-rspamd/);
		const conf = await l.readFile('mx', '/etc/dovecot/dovecot.conf');
		t.regex(conf, /^dovecot_config_version = 2\.4\.1\n/);
		t.is((await l.exec('mx', ['doveconf', '-n'])).exitCode, 0);
		const home = await l.exec('mx', ['doveadm', 'user', '-f', 'home', 'alice']);
		t.is(home.stdout.trim(), '/var/vmail/alice', 'the bare local part is alice@example.test');
		// (state.json's `dovecotDialect` field is declared in source/engine/state.ts but never written: not asserted.)
		const state = JSON.parse(await l.readFile('mx', `${STATE}/state.json`)) as {steps: Record<string, {done: boolean}>};
		t.true(state.steps.dovecot?.done, 'the dovecot step is done');
	});

	lane.send();
	lane.receive();
	lane.refuse();
	ipv6(lane);
	security(lane);
	doctor(lane);
	// Day two (issue 17): users, passwords, aliases and a second domain on Debian 13 too.
	day2(lane);
	// Key rotation (issue 21) last: the checks before it use the setup's DKIM selector.
	rotation(lane);
	defence(lane);
	lane.cleanup();
}
