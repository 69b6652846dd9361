// The bare Debian 12 of fresh.test.ts booted with systemd as PID 1 (systemd-nspawn in the
// lab's mx namespaces): a server as on a VM. The package step's postinsts start their
// units, the wizard drives systemctl (daemon-reload, enable --now, restart), OpenSMTPD
// gets its drop-in; then every send/receive/refuse assertion of the other lanes.
import test from 'ava';
import {DIST} from './assertions.ts';
import {freshLane} from './fresh/lane.ts';

await freshLane({
	file: 'test/lab/systemd.test.ts',
	title: 'Debian 12 booted with systemd',
	boot: 'systemd',
	more(lane) {
		test.serial('systemd: the wizard saw systemd, and every unit is active, enabled, and not failed', async (t) => {
			if (!lane.needWizard(t)) return;
			const l = lane.lab();
			const dry = await l.exec('mx', ['/usr/bin/node', DIST, '--dry-run', '--answers', '/root/mailwizard.yaml', '--state-dir', '/var/lib/mailwizard'], {env: {NO_COLOR: '1', TERM: 'dumb'}});
			t.regex(dry.stdout, /debian 12 \(bookworm\), Dovecot 2\.3\.[\d.]+, systemd, node 18\./, 'the profile names systemd');
			for (const unit of ['opensmtpd', 'dovecot', 'rspamd']) {
				t.is((await l.exec('mx', ['systemctl', 'is-active', unit])).stdout.trim(), 'active', `${unit} is active`);
				t.is((await l.exec('mx', ['systemctl', 'is-enabled', unit])).stdout.trim(), 'enabled', `${unit} starts at boot`);
			}
			const failed = await l.exec('mx', ['systemctl', 'list-units', '--failed', '--plain', '--no-legend', 'opensmtpd*', 'dovecot*', 'rspamd*']);
			t.is(failed.stdout.trim(), '', 'no mail unit failed');
		});

		test.serial('systemd: OpenSMTPD waits for the network and restarts on failure (the drop-in), and a restart keeps mail flowing', async (t) => {
			if (!lane.needWizard(t)) return;
			const l = lane.lab();
			const show = await l.exec('mx', ['systemctl', 'show', 'opensmtpd', '-p', 'After', '-p', 'Wants', '-p', 'Restart', '-p', 'DropInPaths']);
			t.log(show.stdout);
			t.regex(show.stdout, /^After=.*network-online\.target/m);
			t.regex(show.stdout, /^Restart=on-failure$/m);
			t.regex(show.stdout, /^DropInPaths=.*opensmtpd\.service\.d\/mailwizard\.conf/m);
			// The daemon killed from outside comes back by itself.
			const before = (await l.exec('mx', ['systemctl', 'show', 'opensmtpd', '-p', 'MainPID', '--value'])).stdout.trim();
			await l.exec('mx', ['kill', '-9', before]);
			let after = before;
			for (let i = 0; i < 100 && (after === before || after === '0'); i++) {
				await new Promise((r) => setTimeout(r, 200));
				after = (await l.exec('mx', ['systemctl', 'show', 'opensmtpd', '-p', 'MainPID', '--value'])).stdout.trim();
			}
			t.not(after, before, 'systemd restarted smtpd');
			t.not(after, '0');
			for (let i = 0; i < 50; i++) {
				if ((await l.exec('mx', ['systemctl', 'is-active', 'opensmtpd'])).stdout.trim() === 'active') break;
				await new Promise((r) => setTimeout(r, 200));
			}
			t.is((await l.exec('mx', ['systemctl', 'is-active', 'opensmtpd'])).stdout.trim(), 'active');
		});
	},
});
