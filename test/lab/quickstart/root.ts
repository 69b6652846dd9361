// The lab's stand-in for "a fresh Debian 12 (or 13) server" in the README's quick start (issue 15):
// the bare root of test/lab/fresh/root.ts, without the node it carries for the
// other lanes (purged: a fresh Debian has no node), plus what stands in for the internet:
//   - an apt recording of the quick start's own `apt install` line (apt-proxy.py, recorded
//     from the real mirror in a throwaway overlay of this root, replayed inside the lab);
//   - an npm cache in /root/.npm holding every package (and packument) the committed
//     package-lock.json needs, with /root/.npmrc `offline=true`: npm then answers from it
//     alone, as a registry that holds exactly the lockfile would.
// The build checks the cache with that Debian's own npm (`npm ci --ignore-scripts`, offline)
// in that overlay, so a lockfile npm cannot install offline is reported here, by name.
// Rebuilt when README's apt line or the committed package-lock.json changes.
//
//   npx tsx test/lab/quickstart/root.ts [bookworm|trixie]   (build or reuse, print the path and what it holds)
import {spawn, spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {mkdir, mkdtemp, rename, rm, writeFile} from 'node:fs/promises';
import {homedir, tmpdir} from 'node:os';
import {basename, dirname, join} from 'node:path';
import {alive} from '../lab.ts';
import {readVersions, removeTree, run, must} from '../debian13/root.ts';
import {APT_PROXY, DEFAULT_BARE_ROOTS, ensureBareRoot, RECORDING_IN_ROOT, recorded, REPO, type Codename} from '../fresh/root.ts';

/** Where the quick start's apt answers are kept inside the root (no Debian package uses it). */
export const QUICKSTART_RECORDING = '/var/cache/mailwizard-quickstart-apt';
/** What the build wrote: which README line, which lockfile, which bare root; the npm and node it found. */
export const QUICKSTART_META = 'quickstart.json';

export type QuickstartMeta = {
	readonly aptLine: string;
	readonly lockSha256: string;
	readonly bareBuiltAt: string;
	readonly npm: string;
	readonly node: string;
	readonly purged: string;
	readonly builtAt: string;
	readonly buildSeconds: number;
};

export function quickstartRootPath(codename: Codename): string {
	return join(process.env.MAILWIZARD_BARE_ROOTS || DEFAULT_BARE_ROOTS, `${codename}-quickstart-root`);
}

/** The README's quick start: the lines of the first ```sh block under "## Quick start", exactly as written. */
export function readmeQuickstart(readme = committed('README.md')): string[] {
	const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'));
	const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
	if (!block) throw new Error('README.md has no ```sh block under "## Quick start"');
	return block.split('\n').filter((l) => l.trim() !== '');
}

/** The quick start's apt line (the first line that runs apt). */
export function aptLine(lines = readmeQuickstart()): string {
	const l = lines.find((x) => /^apt(-get)? /.test(x));
	if (!l) throw new Error(`the quick start has no apt line: ${lines.join(' | ')}`);
	return l;
}

/** A file as committed at HEAD (what a clone gets), not as it is in the work tree. */
export function committed(path: string): string {
	const r = spawnSync('git', ['-C', REPO, 'show', `HEAD:${path}`], {encoding: 'utf8', maxBuffer: 64 << 20});
	if (r.status !== 0) throw new Error(`git show HEAD:${path} failed in ${REPO}: ${r.stderr}`);
	return r.stdout;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function readMeta(root: string): QuickstartMeta | undefined {
	try {
		return JSON.parse(readFileSync(join(root, QUICKSTART_META), 'utf8')) as QuickstartMeta;
	} catch {
		return undefined;
	}
}

/** Why the cached root no longer fits the checkout (then it is rebuilt), if it does not. */
function stale(root: string): string | undefined {
	const m = readMeta(root);
	if (!m) return 'not built';
	if (m.aptLine !== aptLine()) return `README's apt line is now "${aptLine()}"`;
	if (m.lockSha256 !== sha256(committed('package-lock.json'))) return 'the committed package-lock.json changed';
	return undefined;
}

/**
 * In a private mount namespace: purge node from the copy (as on a fresh Debian), then, in a
 * throwaway overlay of it, the quick start's apt line with apt through the recording proxy,
 * and Debian's npm installing the lockfile offline from the cache. Args: BASE ROOT PORT LOCKDIR APTLINE.
 */
const SCRIPT = `set -eu
B="$1"; R="$2"; P="$3"; L="$4"; A="$5"
mount --make-rprivate /
export DEBIAN_FRONTEND=noninteractive
mount -t proc proc "$R/proc"
chroot "$R" apt-get purge -y --autoremove nodejs
chroot "$R" apt-get clean
umount "$R/proc"
mount -t tmpfs -o mode=0755,size=3g mw-quickstart "$B"
mkdir "$B/upper" "$B/work" "$B/m"; M="$B/m"
mount -t overlay overlay -o "lowerdir=$R,upperdir=$B/upper,workdir=$B/work" "$M"
mount -t proc proc "$M/proc"
mount -t sysfs sysfs "$M/sys"
mount --bind /dev "$M/dev"
mount -t tmpfs -o mode=0755 run "$M/run"
mount -t tmpfs -o mode=1777 tmp "$M/tmp"
printf 'Acquire::http::Proxy "http://127.0.0.1:%s";\\n' "$P" > "$M/etc/apt/apt.conf.d/01mwlab-proxy"
E="env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 TERM=dumb"
echo "== $A"
chroot "$M" $E DEBIAN_FRONTEND=noninteractive sh -c "$A"
mkdir "$M/root/lockcheck"; cp "$L/package.json" "$L/package-lock.json" "$M/root/lockcheck/"
echo "== npm ci --ignore-scripts (offline, Debian's npm)"
chroot "$M" $E sh -c 'cd /root/lockcheck && npm ci --ignore-scripts --no-audit --no-fund'
echo "npm $(chroot "$M" $E npm --version) node $(chroot "$M" $E node --version)"
`;

async function proxyPort(dir: string): Promise<{port: number; stop: () => void; log: () => string}> {
	const proxy = spawn('python3', [APT_PROXY, 'record', dir, '127.0.0.1', '0'], {stdio: ['ignore', 'pipe', 'pipe']});
	let log = '';
	proxy.stderr!.on('data', (c: Buffer) => (log += c.toString()));
	const port = await new Promise<number>((resolve, reject) => {
		proxy.stdout!.on('data', (c: Buffer) => {
			const m = /port (\d+)/.exec(c.toString());
			if (m) resolve(Number(m[1]));
		});
		proxy.on('exit', (code) => reject(new Error(`the recording proxy exited (${code}): ${log}`)));
	});
	return {port, stop: () => proxy.kill('SIGTERM'), log: () => log};
}

/** npm's cache for the committed lockfile, filled on the machine (which may reach the registry while a root is built). */
async function fillNpmCache(cache: string, lockDir: string, log: (l: string) => void): Promise<void> {
	// Start from what the machine's npm already has: fewer downloads, and none when it has all.
	const mine = join(homedir(), '.npm/_cacache');
	if (existsSync(mine)) await must(['cp', '-a', mine, join(cache, '_cacache')], 'copying the machine npm cache');
	const work = await mkdtemp(join(tmpdir(), 'mw-quickstart-npm-'));
	try {
		await must(['cp', join(lockDir, 'package.json'), join(lockDir, 'package-lock.json'), work], 'copy');
		const r = await must(
			// In the scratch directory (run() has no cwd: npm ci there would empty the checkout's node_modules).
			[
				'sh',
				'-c',
				'cd "$0" && exec "$@"',
				work,
				'npm',
				'ci',
				'--ignore-scripts',
				'--no-audit',
				'--no-fund',
				'--prefer-offline',
				'--cache',
				cache,
				'--registry',
				'https://registry.npmjs.org/',
				'--userconfig',
				'/dev/null',
			],
			'npm ci on the machine (filling the cache)',
			{env: {HOME: work, PATH: process.env.PATH ?? ''}, timeoutMs: 10 * 60_000, stdin: ''},
		);
		log(`npm cache filled: ${/^added .*$/m.exec(r.stdout + r.stderr)?.[0] ?? '(npm said nothing)'}`);
	} finally {
		await rm(work, {recursive: true, force: true});
	}
	await rm(join(cache, '_logs'), {recursive: true, force: true});
}

async function build(codename: Codename, target: string, log: (l: string) => void): Promise<QuickstartMeta> {
	const started = Date.now();
	const bare = await ensureBareRoot(codename, {log});
	const tmp = await mkdtemp(join(dirname(target), `${basename(target)}.tmp-`));
	const base = await mkdtemp(join(tmpdir(), 'mw-quickstart-'));
	const lockDir = await mkdtemp(join(tmpdir(), 'mw-quickstart-lock-'));
	const line = aptLine();
	try {
		await must(['cp', '-a', '--reflink=auto', `${bare}/.`, tmp], 'copying the bare root');
		await removeTree(join(tmp, RECORDING_IN_ROOT));
		await rm(join(tmp, 'versions.json'), {force: true});
		const lock = committed('package-lock.json');
		writeFileSync(join(lockDir, 'package-lock.json'), lock);
		writeFileSync(join(lockDir, 'package.json'), committed('package.json'));
		const npmDir = join(tmp, 'root/.npm');
		mkdirSync(npmDir, {recursive: true, mode: 0o755});
		await fillNpmCache(npmDir, lockDir, log);
		writeFileSync(join(tmp, 'root/.npmrc'), '# mailwizard lab: the npm registry is this cache (~/.npm), filled from the lockfile when the root was built\noffline=true\n');
		const recording = join(tmp, QUICKSTART_RECORDING);
		mkdirSync(recording, {recursive: true});
		const proxy = await proxyPort(recording);
		let out = '';
		try {
			log(`rehearsal: "${line}" through the recording proxy on 127.0.0.1:${proxy.port}, then npm ci offline`);
			const r = await run(['unshare', '-m', 'sh', '-c', SCRIPT, 'quickstart-root', base, tmp, String(proxy.port), lockDir, line], {timeoutMs: 20 * 60_000});
			out = r.stdout + r.stderr;
			if (r.code !== 0)
				throw new Error(`the quick start rehearsal failed (exit ${r.code}):\n${out.trim().split('\n').slice(-40).join('\n')}\nproxy:\n${proxy.log().trim().split('\n').slice(-10).join('\n')}`);
		} finally {
			proxy.stop();
		}
		const got = recorded(recording);
		const misses = got.filter((g) => g.status !== 200);
		if (!got.some((g) => /\/npm_[^/]*\.deb$/.test(g.url)) || misses.length) throw new Error(`the apt recording lacks npm or has failures: ${JSON.stringify(misses.slice(0, 5))}`);
		log(`${got.length} apt answers recorded (${(got.reduce((n, g) => n + g.size, 0) / 1048576).toFixed(1)} MiB)`);
		const versions = /^npm (\S+) node (\S+)$/m.exec(out);
		const meta: QuickstartMeta = {
			aptLine: line,
			lockSha256: sha256(lock),
			bareBuiltAt: readVersions(bare)?.builtAt ?? '',
			npm: versions?.[1] ?? '?',
			node: versions?.[2] ?? '?',
			purged: existsSync(join(tmp, 'usr/bin/node')) ? 'no' : 'nodejs',
			builtAt: new Date().toISOString(),
			buildSeconds: Math.round((Date.now() - started) / 100) / 10,
		};
		if (meta.purged !== 'nodejs') throw new Error('node is still in the root after the purge');
		await writeFile(join(tmp, QUICKSTART_META), `${JSON.stringify(meta, null, 2)}\n`);
		await rename(tmp, target);
		return meta;
	} catch (e) {
		await removeTree(tmp);
		throw e;
	} finally {
		await removeTree(base);
		await rm(lockDir, {recursive: true, force: true});
	}
}

/** One builder at a time: a lock directory holding the builder's pid. */
async function locked<T>(target: string, fn: () => Promise<T>): Promise<T> {
	const lock = `${target}.lock`;
	for (;;) {
		try {
			mkdirSync(lock);
			writeFileSync(join(lock, 'pid'), String(process.pid));
			break;
		} catch (e) {
			if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
			let pid = 0;
			try {
				pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
			} catch {}
			if (pid && !alive(pid)) rmSync(lock, {recursive: true, force: true});
			else await new Promise((r) => setTimeout(r, 1000));
		}
	}
	try {
		return await fn();
	} finally {
		await rm(lock, {recursive: true, force: true});
	}
}

/** The cached quick-start root, built (with its recording and npm cache) when missing or stale. */
export async function ensureQuickstartRoot(codename: Codename, opts: {log?: (l: string) => void} = {}): Promise<string> {
	const log = opts.log ?? ((l: string) => console.error(`[${codename}-quickstart-root] ${l}`));
	if (process.getuid?.() !== 0) throw new Error('building the quick-start root needs root (chroot, mount)');
	const target = quickstartRootPath(codename);
	const why = stale(target);
	if (!why) return target;
	if (readMeta(target)) log(`cached root ${target} is stale (${why}): rebuilding`);
	await mkdir(dirname(target), {recursive: true});
	return locked(target, async () => {
		if (!stale(target)) return target;
		if (existsSync(target)) await removeTree(target);
		for (const f of readdirSync(dirname(target))) if (f.startsWith(`${basename(target)}.tmp-`)) await removeTree(join(dirname(target), f));
		const m = await build(codename, target, log);
		log(`cold build of ${target} took ${m.buildSeconds} s (npm ${m.npm}, node ${m.node})`);
		return target;
	});
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
	const t0 = Date.now();
	ensureQuickstartRoot((process.argv[2] ?? 'bookworm') as Codename)
		.then((dir) => {
			console.log(dir);
			console.log(JSON.stringify(readMeta(dir), null, 2));
			console.error(`[quickstart-root] total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
		})
		.catch((e) => {
			console.error(String(e instanceof Error ? e.message : e));
			process.exit(1);
		});
}
