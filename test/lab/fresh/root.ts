// A bare Debian 12 or 13 server for the lab: debootstrap minbase plus only what an
// operator has before typing `npx mailwizard` (node, and python3/openssl the lab uses),
// none of the mail packages and no policy-rc.d, so that the wizard's own package step
// runs for real: apt-get update, bookworm-backports, the one-time trixie download, the
// hold, and every postinst that starts its daemon on a host without systemd.
//
// The test may not reach a Debian mirror, so the build (which may, like every root
// build) ends with a rehearsal: the wizard runs once in a throwaway overlay of the new
// root with apt going through test/lab/fresh/apt-proxy.py in record mode. The test then
// replays exactly those answers (Debian's own signed InRelease files and .debs) from
// inside the mx. The recording is part of the cached root: both are rebuilt together.
//
//   npx tsx test/lab/fresh/root.ts [bookworm|trixie]   (build or reuse, print the path and what was recorded)
import {spawn} from 'node:child_process';
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {ensureRoot, hostMirror, readVersions, removeTree, run, type RootSpec} from '../debian13/root.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = join(HERE, '../../..');
export const DIST = process.env.MAILWIZARD_LAB_DIST || join(REPO, 'dist/mailwizard.js');
export const APT_PROXY = join(HERE, 'apt-proxy.py');
/** Debian 12 or Debian 13. */
export type Codename = 'bookworm' | 'trixie';
export const DEFAULT_BARE_ROOTS = '/var/cache/mailwizard-test';
/** The recording lives in the root (under a path no Debian package uses) so that both are one cache entry. */
export const RECORDING_IN_ROOT = '/var/cache/mailwizard-test-apt';
/**
 * The packages the operator's server has before the wizard: systemd as on any Debian server
 * (the systemd lane boots it; the fresh lane runs it without, as in a container), node to
 * run the wizard; python3 and openssl for the lab.
 */
export const BARE_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'nodejs', 'python3', 'openssl', 'ca-certificates', 'procps', 'iproute2'] as const;
/** The packages whose absence makes the root "fresh" for mail, and whose versions are recorded. */
export const MAIL_PACKAGES = ['opensmtpd', 'opensmtpd-filter-rspamd', 'dovecot-core', 'rspamd'] as const;

/** Where the bare root of a Debian release is cached (MAILWIZARD_BARE_ROOTS: another directory for them). */
export function bareRootPath(codename: Codename = 'bookworm'): string {
	return join(process.env.MAILWIZARD_BARE_ROOTS || DEFAULT_BARE_ROOTS, `${codename}-bare-root`);
}

/** Issue 18's packages (the spam and bans stages): a recording without them cannot replay a run. */
const DEFENCE_DEBS: ReadonlyArray<readonly [string, RegExp]> = [
	['redis-server (spam stage)', /\/redis-server_[^/]*\.deb$/],
	['fail2ban (bans stage)', /\/fail2ban_[^/]*\.deb$/],
	['python3-systemd (bans stage, with systemd)', /\/python3-systemd_[^/]*\.deb$/],
];

/** What the rehearsal must have recorded: the wizard's package step really ran through the proxy. */
export const MUST_RECORD: Record<Codename, ReadonlyArray<readonly [string, RegExp]>> = {
	trixie: [
		['trixie InRelease', /\/dists\/trixie\/InRelease$/],
		['opensmtpd 7.6 from trixie', /\/pool\/main\/o\/opensmtpd\/opensmtpd_7\.6[^/]*\.deb$/],
		['opensmtpd-filter-rspamd from trixie', /\/pool\/main\/o\/opensmtpd-filter-rspamd\/opensmtpd-filter-rspamd_0\.1\.8[^/]*\.deb$/],
		['dovecot-imapd 2.4', /\/dovecot-imapd_2\.4[^/]*\.deb$/],
		['rspamd', /\/pool\/main\/r\/rspamd\/rspamd_[^/]*\.deb$/],
		['cron (the daily check without systemd)', /\/pool\/main\/c\/cron\/cron_[^/]*\.deb$/],
		...DEFENCE_DEBS,
	],
	bookworm: [
		['bookworm InRelease', /\/dists\/bookworm\/InRelease$/],
		['bookworm-backports InRelease', /\/dists\/bookworm-backports\/InRelease$/],
		['trixie InRelease (the private one-time list)', /\/dists\/trixie\/InRelease$/],
		['opensmtpd 7.x from bookworm-backports', /\/pool\/main\/o\/opensmtpd\/opensmtpd_7\.[^/]*bpo12[^/]*\.deb$/],
		['opensmtpd-filter-rspamd from trixie', /\/pool\/main\/o\/opensmtpd-filter-rspamd\/opensmtpd-filter-rspamd_0\.1\.8[^/]*\.deb$/],
		['dovecot-imapd', /\/dovecot-imapd_2\.3[^/]*\.deb$/],
		['rspamd', /\/pool\/main\/r\/rspamd\/rspamd_[^/]*\.deb$/],
		['cron (the daily check without systemd)', /\/pool\/main\/c\/cron\/cron_[^/]*\.deb$/],
		...DEFENCE_DEBS,
	],
};

export type Recorded = {readonly url: string; readonly status: number; readonly size: number};

export function recorded(dir: string): Recorded[] {
	const out: Recorded[] = [];
	for (const f of readdirSync(dir)) {
		if (!f.endsWith('.json')) continue;
		out.push(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Recorded);
	}
	return out.sort((a, b) => a.url.localeCompare(b.url));
}

/** The answers of the rehearsal: the lab's, except that TLS cannot pass (the wizard stops after the packages). */
const REHEARSAL_ANSWERS = `# rehearsal of test/lab/fresh/root.ts: only the package step matters
domain: example.test
hostname: mail.example.test
ipv4: 192.0.2.25
tls:
  cert: /etc/ssl/certs/rehearsal-missing.pem
  key: /etc/ssl/private/rehearsal-missing.key
users:
  - name: alice
    password_file: /root/alice.pass
`;

/**
 * Runs in `unshare -m -u -p --fork --kill-child`: a throwaway overlay of the new root on a
 * tmpfs, the checkout bound read-only, policy-rc.d so no daemon starts (this is the
 * machine's own network), then the wizard with apt through the recording proxy. Every
 * process ends with the PID namespace. Args: BASE ROOT FILES PORT NODE DIST BIND...
 */
const REHEARSAL = `set -u
B="$1"; R="$2"; F="$3"; P="$4"; NODE="$5"; DIST="$6"; shift 6
mount --make-rprivate /
mount -t tmpfs -o mode=0755,size=3g mw-rehearsal "$B"
mkdir "$B/upper" "$B/work" "$B/m"; M="$B/m"
mount -t overlay overlay -o "lowerdir=$R,upperdir=$B/upper,workdir=$B/work" "$M"
mount -t proc proc "$M/proc"
mount -t sysfs sysfs "$M/sys"
mount --bind /dev "$M/dev"
mount -t tmpfs -o mode=0755 run "$M/run"
mount -t tmpfs -o mode=1777 tmp "$M/tmp"
for p in "$@"; do mkdir -p "$M$p"; mount --bind "$p" "$M$p"; mount -o remount,bind,ro "$M$p"; done
printf '#!/bin/sh\\nexit 101\\n' > "$M/usr/sbin/policy-rc.d"; chmod 0755 "$M/usr/sbin/policy-rc.d"
install -m 0600 "$F/answers.yaml" "$M/root/mailwizard.yaml"
install -m 0600 "$F/alice.pass" "$M/root/alice.pass"
hostname mail.example.test; echo mail.example.test > "$M/etc/hostname"
chroot "$M" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root TERM=dumb NO_COLOR=1 \\
  http_proxy="http://127.0.0.1:$P" "$NODE" "$DIST" --answers /root/mailwizard.yaml --yes --no-wait --resolver 127.0.0.1:9 --probe none --dnsbl none --state-dir /var/lib/mailwizard
echo "wizard exit $?"
# The rehearsal has no systemd: what the bans stage installs only where systemd runs (fail2ban's
# journal reader) is fetched through the proxy too, so a lane booted with systemd can replay it.
(cd "$M/tmp" && chroot "$M" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin http_proxy="http://127.0.0.1:$P" sh -c 'cd /tmp && apt-get download python3-systemd' >/dev/null 2>&1) || echo "python3-systemd not fetched"
`;

/** The rehearsal: records what the wizard's package step fetches, into ROOT/var/cache/mailwizard-test-apt. */
export async function rehearse(codename: Codename, root: string, log: (l: string) => void): Promise<void> {
	const started = Date.now();
	const dir = join(root, RECORDING_IN_ROOT);
	mkdirSync(dir, {recursive: true});
	const proxy = spawn('python3', [APT_PROXY, 'record', dir, '127.0.0.1', '0'], {stdio: ['ignore', 'pipe', 'pipe']});
	let proxyLog = '';
	proxy.stderr!.on('data', (c: Buffer) => (proxyLog += c.toString()));
	const port = await new Promise<number>((resolve, reject) => {
		proxy.stdout!.on('data', (c: Buffer) => {
			const m = /port (\d+)/.exec(c.toString());
			if (m) resolve(Number(m[1]));
		});
		proxy.on('exit', (code) => reject(new Error(`the recording proxy exited (${code}): ${proxyLog}`)));
	});
	const base = await mkdtemp(join(tmpdir(), 'mw-rehearsal-'));
	const files = await mkdtemp(join(tmpdir(), 'mw-rehearsal-files-'));
	try {
		writeFileSync(join(files, 'answers.yaml'), REHEARSAL_ANSWERS, {mode: 0o600});
		writeFileSync(join(files, 'alice.pass'), 'rehearsal-password\n', {mode: 0o600});
		const binds = [REPO, ...(DIST.startsWith(`${REPO}/`) ? [] : [dirname(DIST)])];
		log(`rehearsal: the wizard in an overlay of ${root}, apt through the recording proxy on 127.0.0.1:${port}`);
		const r = await run(['unshare', '-m', '-u', '-p', '--fork', '--kill-child', 'sh', '-c', REHEARSAL, 'rehearsal', base, root, files, String(port), '/usr/bin/node', DIST, ...binds], {
			timeoutMs: 20 * 60_000,
		});
		const got = recorded(dir);
		const missing = MUST_RECORD[codename].filter(([, re]) => !got.some((g) => g.status === 200 && re.test(g.url)));
		const bytes = got.reduce((n, g) => n + g.size, 0);
		log(`rehearsal done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${got.length} answers recorded (${(bytes / 1048576).toFixed(1)} MiB); ${r.stdout.trim().split('\n').at(-1)}`);
		if (missing.length) {
			throw new Error(
				`the rehearsal did not record ${missing.map(([what]) => what).join(', ')}.\nwizard output:\n${(r.stdout + r.stderr).trim().split('\n').slice(-40).join('\n')}\nproxy:\n${proxyLog.trim().split('\n').slice(-20).join('\n')}`,
			);
		}
	} finally {
		proxy.kill('SIGTERM');
		await removeTree(base);
		await rm(files, {recursive: true, force: true});
	}
}

/** A recorded InRelease that apt would refuse as expired within the next day (bookworm-backports lives a week). */
export function expiredRecording(root: string): string | undefined {
	const have = readVersions(root)?.packages ?? {};
	const lacking = BARE_PACKAGES.filter((p) => !have[p]);
	if (lacking.length) return `built without ${lacking.join(', ')}`;
	const dir = join(root, RECORDING_IN_ROOT);
	let entries: Recorded[];
	try {
		entries = recorded(dir);
	} catch {
		return 'no apt recording';
	}
	// Recorded before the daily check's stage (issue 19) existed: the replay would lack cron.
	if (!entries.some((e) => e.status === 200 && /\/cron_[^/]*\.deb$/.test(e.url))) return 'the apt recording has no cron (the daily check installs it since issue 19)';
	for (const [what, re] of DEFENCE_DEBS) if (!entries.some((e) => e.status === 200 && re.test(e.url))) return `the apt recording has no ${what} (issue 18)`;
	for (const f of readdirSync(dir)) {
		if (!f.endsWith('.body')) continue;
		const head = readFileSync(join(dir, f), 'latin1').slice(0, 4096);
		const until = /^Valid-Until: (.+)$/m.exec(head)?.[1];
		if (until && Date.parse(until) < Date.now() + 86_400_000) return `a recorded InRelease is valid until ${until}`;
	}
	return entries.length ? undefined : 'an empty apt recording';
}

export const BARE_SPEC = (codename: Codename): RootSpec => ({
	codename,
	target: bareRootPath(codename),
	packages: BARE_PACKAGES,
	versioned: [...BARE_PACKAGES, ...MAIL_PACKAGES],
	// Recorded through an HTTP proxy: plain http (apt checks Debian's signatures either way).
	mirror: () => hostMirror().replace(/^https:/, 'http:'),
	startDaemonsLater: true,
	stale: expiredRecording,
	finish: (dir, log) => rehearse(codename, dir, log),
});

export function ensureBareRoot(codename: Codename, opts: {log?: (l: string) => void} = {}): Promise<string> {
	return ensureRoot(BARE_SPEC(codename), {log: opts.log ?? ((l) => console.error(`[${codename}-bare-root] ${l}`))});
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
	const t0 = Date.now();
	const codename = (process.argv[2] ?? 'bookworm') as Codename;
	ensureBareRoot(codename)
		.then((dir) => {
			console.log(dir);
			for (const r of recorded(join(dir, RECORDING_IN_ROOT))) console.log(`${r.status} ${String(r.size).padStart(9)} ${r.url}`);
			console.error(`[bare-root] total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
		})
		.catch((e) => {
			console.error(String(e instanceof Error ? e.message : e));
			process.exit(1);
		});
}
