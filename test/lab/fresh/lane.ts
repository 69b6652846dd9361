// The bare Debian 12 and 13 lanes (test/lab/fresh*.test.ts without systemd, as in a
// container; test/lab/systemd*.test.ts booted with systemd as PID 1, as a VM): the
// wizard's own package step installs everything, apt replaying through a proxy inside the
// mx what was recorded when the root was built; then every send/receive/refuse assertion.
import test from 'ava';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {Lab, labUnavailable, pidofHere} from '../lab.ts';
import {DIST, makeLane, tail} from '../assertions.ts';
import {binds, LOCK_WAIT_MS} from '../debian13/lane.ts';
import {readVersions} from '../debian13/root.ts';
import {APT_PROXY, ensureBareRoot, MAIL_PACKAGES, RECORDING_IN_ROOT, type Codename} from './root.ts';
import {BACKPORTS_FILE, TRIXIE_DIR} from '../../../steps/02-packages.ts';
import {aptFaults} from './apt-faults.ts';
import {defence} from '../defence.ts';

const PROXY = 'http://127.0.0.1:3142';
/** What differs between the releases, as the wizard must do it on each. */
const RELEASE = {
	bookworm: {
		name: 'Debian 12',
		before: /debian 12 \(bookworm\), Dovecot 2\.3 \(to be installed\)/,
		node: /^v18\./,
		dovecot: /^dovecot-imapd 1:2\.3\./m,
		profile: /debian 12 \(bookworm\), Dovecot 2\.3\.[\d.]+/,
	},
	trixie: {
		name: 'Debian 13',
		before: /debian 13 \(trixie\), Dovecot 2\.4 \(to be installed\)/,
		node: /^v20\./,
		dovecot: /^dovecot-imapd 1:2\.4\./m,
		profile: /debian 13 \(trixie\), Dovecot 2\.4\.[\d.]+/,
	},
} as const;

export async function freshLane(opts: {
	file: string;
	title: string;
	codename: Codename;
	boot?: 'systemd';
	/** As Debian's Docker images: a policy-rc.d that keeps every postinst from starting its daemon. */
	docker?: boolean;
	/** Before the real runs: apt failing midway and a run killed mid-apt (issue 20). */
	aptFaults?: boolean;
}): Promise<void> {
	const R = RELEASE[opts.codename];
	const unavailable = await labUnavailable();
	let root: {dir: string; ms: number; cold: boolean} | {error: string} | undefined;
	if (!unavailable) {
		const t0 = Date.now();
		let cold = false;
		try {
			const dir = await ensureBareRoot(opts.codename, {log: (l) => (l.startsWith('cold build') ? (cold = true) : undefined)});
			root = {dir, ms: Date.now() - t0, cold};
		} catch (e) {
			root = {error: e instanceof Error ? e.message : String(e)};
		}
	}

	if (unavailable) {
		test.skip(`lab (${opts.title}) skipped: ${unavailable}`, () => {});
	} else if (!root || 'error' in root) {
		// Building the root needs the Debian mirror; without it there is nothing to test.
		test(`lab (${opts.title}): the bare root and its apt recording can be built`, (t) => t.fail(root && 'error' in root ? root.error : '?'));
	} else {
		const bare = root;
		let proxyLog = '';
		const lane = makeLane({
			file: opts.file,
			node: '/usr/bin/node',
			wizardEnv: {http_proxy: PROXY},
			up: async (log) => {
				log(`bare ${R.name} root ${bare.dir} (${bare.cold ? 'built and recorded' : 'cached'} in ${bare.ms} ms): ${JSON.stringify(readVersions(bare.dir)?.packages)}`);
				// Its own Rspamd cache: the wizard installs rspamd (and the _rspamd user) itself.
				const l = await Lab.up({log, mxRoot: {lower: bare.dir, binds: binds(), rspamdCache: '', boot: opts.boot}, lockWaitMs: LOCK_WAIT_MS});
				proxyLog = join(mkdtempSync(join(tmpdir(), 'mw-aptproxy-')), 'proxy.log');
				if (opts.docker) await l.writeFile('mx', '/usr/sbin/policy-rc.d', "#!/bin/sh\n# as in Debian's Docker images: no daemon starts from a postinst\nexit 101\n", 0o755);
				l.spawnDaemon('mx', ['/usr/bin/python3', APT_PROXY, 'replay', RECORDING_IN_ROOT, '127.0.0.1', '3142'], proxyLog);
				for (let i = 0; i < 50 && !readFileSync(proxyLog, 'utf8').includes('port 3142'); i++) await new Promise((r) => setTimeout(r, 100));
				return l;
			},
			packagesNote: 'unused: the fresh lane checks the opposite',
			setupTimeoutMs: LOCK_WAIT_MS + 120_000,
		});
		const {lab} = lane;
		const misses = () =>
			readFileSync(proxyLog, 'utf8')
				.split('\n')
				.filter((l) => l.startsWith('replay MISS'));

		lane.hooks();

		test.serial(`lab: the mx is a bare ${R.name} — no mail package, ${opts.docker ? 'a policy-rc.d as in Docker images' : 'no policy-rc.d'} — and apt reaches only the replaying proxy`, async (t) => {
			const l = lab();
			const os = await l.exec('mx', ['cat', '/etc/os-release']);
			t.regex(os.stdout, new RegExp(`^VERSION_CODENAME=${opts.codename}$`, 'm'));
			const dpkg = await l.exec('mx', ['dpkg-query', '-W', '-f', '${Package} ${Status}\\n', ...MAIL_PACKAGES, 'exim4-base']);
			t.notRegex(dpkg.stdout, /install ok installed/, `no mail package yet:\n${dpkg.stdout}`);
			if (opts.docker) t.is((await l.exec('mx', ['/usr/sbin/policy-rc.d'])).exitCode, 101, 'no postinst starts its daemon: the wizard must');
			else t.not((await l.exec('mx', ['test', '-e', '/usr/sbin/policy-rc.d'])).exitCode, 0, 'a postinst starts its daemon, as on a real server');
			const node = await l.exec('mx', ['/usr/bin/node', '--version']);
			t.regex(node.stdout, R.node, `${R.name}'s own node runs the wizard`);
			// No route out: only the proxy answers, and only what was recorded.
			const release = await l.exec(
				'mx',
				[
					'/usr/bin/python3',
					'-c',
					`import urllib.request,sys; r=urllib.request.urlopen(urllib.request.Request(sys.argv[1]), timeout=5); print(r.status, len(r.read()))`,
					`http://deb.debian.org/debian/dists/${opts.codename}/InRelease`,
				],
				{
					env: {http_proxy: PROXY},
				},
			);
			t.regex(release.stdout, /^200 \d+/, release.stderr);
			const routes = await l.probe('mx', ['ip', 'route', 'show', 'default']);
			t.is(routes.stdout.trim(), '', 'no default route: the mx cannot reach any mirror itself');
		});

		test.serial(
			opts.codename === 'bookworm'
				? 'wizard: the dry run on the bare server plans the packages: backports, the one-time trixie download, the hold'
				: 'wizard: the dry run on the bare server plans the packages from trixie itself: no backports, no hold',
			async (t) => {
				const r = await lab().exec('mx', ['/usr/bin/node', DIST, '--dry-run', '--answers', '/root/mailwizard.yaml', '--state-dir', '/var/lib/mailwizard'], {env: {NO_COLOR: '1', TERM: 'dumb'}});
				t.is(r.exitCode, 0, r.stderr);
				t.regex(r.stdout, R.before, 'the Dovecot dialect is known before Dovecot is installed');
				if (opts.codename === 'bookworm') {
					t.regex(r.stdout, /apt-get install -y --no-install-recommends -t bookworm-backports opensmtpd/);
					t.regex(r.stdout, /download opensmtpd-filter-rspamd/);
					t.regex(r.stdout, /apt-mark hold opensmtpd-filter-rspamd/);
				} else {
					t.regex(r.stdout, /apt-get install -y --no-install-recommends .*opensmtpd-filter-rspamd/);
					t.notRegex(r.stdout, /backports|apt-mark hold|download opensmtpd/);
				}
			},
		);

		if (opts.aptFaults) aptFaults(lane);
		lane.wizardRuns();

		test.serial(
			opts.codename === 'bookworm'
				? 'packages: OpenSMTPD 7 from backports, the filter 0.1.8 from trixie and held, trixie never in /etc/apt, every daemon running'
				: "packages: everything from trixie, apt's sources untouched, nothing held, every daemon running",
			async (t) => {
				if (!lane.needWizard(t)) return;
				const l = lab();
				const v = await l.exec('mx', ['dpkg-query', '-W', '-f', '${Package} ${Version}\\n', 'opensmtpd', 'opensmtpd-filter-rspamd', 'dovecot-imapd', 'dovecot-lmtpd', 'rspamd']);
				t.log(v.stdout);
				t.regex(v.stdout, opts.codename === 'bookworm' ? /^opensmtpd 7\.\S*bpo12/m : /^opensmtpd 7\.6/m);
				t.regex(v.stdout, /^opensmtpd-filter-rspamd 0\.1\.8/m);
				t.regex(v.stdout, R.dovecot);
				t.regex(v.stdout, /^rspamd 3\./m);
				const holds = (await l.exec('mx', ['apt-mark', 'showhold'])).stdout.trim();
				const backports = (await l.exec('mx', ['test', '-f', BACKPORTS_FILE])).exitCode === 0;
				if (opts.codename === 'bookworm') {
					t.is(holds, 'opensmtpd-filter-rspamd');
					t.true(backports, 'the backports source mailwizard added');
					const etcApt = await l.exec('mx', ['grep', '-rl', 'trixie', '/etc/apt']);
					t.is(etcApt.stdout.trim(), '', 'trixie is nowhere in /etc/apt');
					t.is((await l.exec('mx', ['test', '-d', TRIXIE_DIR])).exitCode, 0);
					const policy = await l.exec('mx', ['apt-cache', 'policy', 'dovecot-core']);
					t.notRegex(policy.stdout, /trixie/, 'apt knows nothing of trixie: no upgrade can pull from it');
				} else {
					t.is(holds, '', 'nothing held');
					t.false(backports, 'no backports source');
					t.not((await l.exec('mx', ['test', '-d', TRIXIE_DIR])).exitCode, 0, 'no private download');
				}
				// Booted with systemd, the mx has its own PID namespace, and units such as dovecot's (PrivateTmp)
				// run in mount namespaces of their own: there, pidof is exact; without, only this mount namespace counts.
				for (const p of ['smtpd', 'dovecot', 'rspamd']) t.is((await l.exec('mx', opts.boot === 'systemd' ? ['pidof', p] : ['sh', '-c', pidofHere(p)])).exitCode, 0, `${p} runs`);
				t.deepEqual(misses(), [], 'apt asked for nothing that was not recorded');
				t.is((await l.exec('mx', ['dpkg', '--audit'])).stdout.trim(), '', 'dpkg has nothing half-installed or half-configured');
			},
		);

		test.serial('a re-run finds the stopped OpenSMTPD and starts it, changing nothing else', async (t) => {
			if (!lane.needWizard(t)) return;
			const l = lab();
			const stop = opts.boot === 'systemd' ? ['systemctl', 'stop', 'opensmtpd'] : ['service', 'opensmtpd', 'stop'];
			await l.exec('mx', stop);
			for (let i = 0; i < 50 && (await l.exec('mx', ['sh', '-c', pidofHere('smtpd')])).exitCode === 0; i++) await new Promise((r) => setTimeout(r, 200));
			t.not((await l.exec('mx', ['sh', '-c', pidofHere('smtpd')])).exitCode, 0, 'smtpd is stopped');
			const r = await lane.wizard(t, lane.WIZARD, 'wizard run after a stop');
			t.is(r.exitCode, 0, tail(r.stdout + r.stderr, 30));
			t.regex(r.stdout, /start opensmtpd/);
			t.notRegex(r.stdout, /^\s+write /m, 'no file rewritten');
			t.is((await l.exec('mx', ['sh', '-c', pidofHere('smtpd')])).exitCode, 0, 'smtpd runs again');
		});

		if (opts.boot === 'systemd') {
			test.serial('systemd: the wizard saw systemd, and every unit is active, enabled, and not failed', async (t) => {
				if (!lane.needWizard(t)) return;
				const l = lab();
				const dry = await l.exec('mx', ['/usr/bin/node', DIST, '--dry-run', '--answers', '/root/mailwizard.yaml', '--state-dir', '/var/lib/mailwizard'], {env: {NO_COLOR: '1', TERM: 'dumb'}});
				t.regex(dry.stdout, new RegExp(`${R.profile.source}, systemd, node ${R.node.source.slice(2)}`), 'the profile names systemd');
				for (const unit of ['opensmtpd', 'dovecot', 'rspamd']) {
					t.is((await l.exec('mx', ['systemctl', 'is-active', unit])).stdout.trim(), 'active', `${unit} is active`);
					t.is((await l.exec('mx', ['systemctl', 'is-enabled', unit])).stdout.trim(), 'enabled', `${unit} starts at boot`);
				}
				const failed = await l.exec('mx', ['systemctl', 'list-units', '--failed', '--plain', '--no-legend', 'opensmtpd*', 'dovecot*', 'rspamd*']);
				t.is(failed.stdout.trim(), '', 'no mail unit failed');
			});

			test.serial('systemd: OpenSMTPD waits for the network and restarts on failure (the drop-in), and a restart keeps mail flowing', async (t) => {
				if (!lane.needWizard(t)) return;
				const l = lab();
				const show = await l.exec('mx', ['systemctl', 'show', 'opensmtpd', '-p', 'After', '-p', 'Wants', '-p', 'Restart', '-p', 'DropInPaths']);
				t.log(show.stdout);
				t.regex(show.stdout, /^After=.*network-online\.target/m);
				t.regex(show.stdout, /^Restart=on-failure$/m);
				t.regex(show.stdout, /^DropInPaths=.*opensmtpd\.service\.d\/mailwizard\.conf/m);
				// The daemon killed from outside comes back by itself.
				const before = (await l.exec('mx', ['systemctl', 'show', 'opensmtpd', '-p', 'MainPID', '--value'])).stdout.trim();
				// Never `kill -9 0` (that is the caller's whole process group: the test runner).
				if (!/^[1-9]\d*$/.test(before)) return t.fail(`opensmtpd has no main process to kill (MainPID=${before})`);
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
		}
		lane.send();
		lane.receive();
		lane.refuse();
		// Issue 18 with systemd: fail2ban reads the journal, the units restart through systemctl.
		if (opts.boot === 'systemd') defence(lane);
		lane.cleanup();

		test.after.always('the proxy log, when something went wrong', (t) => {
			try {
				const m = misses();
				if (m.length) t.log(`replay misses:\n${tail(m.join('\n'), 20)}`);
			} catch {}
			if (proxyLog) rmSync(dirname(proxyLog), {recursive: true, force: true});
		});
	}
}
