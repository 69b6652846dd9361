// A Debian 13 (trixie) root for tests: debootstrap from the mirror the machine's apt
// already uses, the mail packages installed in a chroot where no daemon may start,
// built in a temporary directory and renamed when complete (an interrupted build is
// never taken as good), then cached. Needs root.
//
//   import {ensureTrixieRoot} from './root.ts';  const dir = await ensureTrixieRoot();
//   npx tsx test/lab/debian13/root.ts            (build or reuse, print the path and timings)
import {spawn} from 'node:child_process';
import {existsSync, readFileSync, readdirSync} from 'node:fs';
import {mkdir, mkdtemp, readFile, rename, rm, writeFile, chmod} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import {createHash} from 'node:crypto';
import {needsOf, parseSources} from '../../../steps/02-packages.ts';
import {STEPS} from '../../../steps/index.ts';
import {alive} from '../lab.ts';

/**
 * Every package a stage declares for Debian 13, whatever the answers and the init system (the
 * lanes run with and without systemd, with and without ACME): the cached root follows the stages.
 */
export const PLANNED_13: readonly string[] = needsOf(
	STEPS.map((s) => ({packages: s.packages})),
	'13',
).map((n) => n.name);

/** What the wizard installs on Debian 13, plus what the tests need (openssl, python3, node). */
export const TRIXIE_PACKAGES: readonly string[] = [...new Set([...PLANNED_13, 'openssl', 'ca-certificates', 'python3', 'nodejs'])];

/**
 * The cached root's name carries a digest of its package list: a stage that declares a new
 * package gets a new root, built beside the old one (which a lane may still be using as its lower layer).
 */
export const DEFAULT_TRIXIE_ROOT = `/var/cache/mailwizard-test/trixie-root-${createHash('sha256').update(TRIXIE_PACKAGES.join(' ')).digest('hex').slice(0, 8)}`;

/** Packages whose versions are recorded in versions.json. */
const VERSIONED = ['opensmtpd', 'opensmtpd-filter-rspamd', 'dovecot-core', 'dovecot-imapd', 'dovecot-lmtpd', 'rspamd', 'openssl', 'nodejs', 'python3'] as const;

export type TrixieVersions = {
	readonly packages: Record<string, string>;
	/** `dovecot --version` inside the root (empty in a root without Dovecot). */
	readonly dovecot: string;
	/** `node --version` inside the root. */
	readonly node: string;
	readonly mirror: string;
	readonly builtAt: string;
	readonly buildSeconds: number;
};

export function trixieRootPath(): string {
	return process.env.MAILWIZARD_TRIXIE_ROOT || DEFAULT_TRIXIE_ROOT;
}

export type RunResult = {readonly code: number; readonly stdout: string; readonly stderr: string};

/** Runs a command (no shell), collects its output; never throws on a non-zero exit. */
export function run(argv: readonly string[], opts: {stdin?: string; env?: Record<string, string>; log?: (line: string) => void; timeoutMs?: number} = {}): Promise<RunResult> {
	return new Promise((resolve) => {
		const child = spawn(argv[0]!, argv.slice(1), {
			env: {PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', ...opts.env},
			stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		const lines = (chunk: Buffer) => {
			if (opts.log) for (const l of chunk.toString().split('\n')) if (l.trim()) opts.log(l);
		};
		child.stdout!.on('data', (c: Buffer) => ((stdout += c.toString()), lines(c)));
		child.stderr!.on('data', (c: Buffer) => ((stderr += c.toString()), lines(c)));
		const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
		child.on('error', (e) => {
			if (timer) clearTimeout(timer);
			resolve({code: 127, stdout, stderr: stderr + String(e)});
		});
		child.on('close', (code, signal) => {
			if (timer) clearTimeout(timer);
			resolve({code: code ?? (signal ? 128 : 1), stdout, stderr});
		});
		if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
	});
}

export async function must(argv: readonly string[], what: string, opts: Parameters<typeof run>[1] = {}): Promise<RunResult> {
	const r = await run(argv, opts);
	if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${argv.join(' ')}\n${(r.stderr || r.stdout).trim().split('\n').slice(-25).join('\n')}`);
	return r;
}

/** The Debian mirror this machine's apt uses (never a hard-coded host). */
export function hostMirror(): string {
	const codename = /^VERSION_CODENAME=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]?.replace(/"/g, '').trim() ?? 'bookworm';
	const texts: string[] = [];
	if (existsSync('/etc/apt/sources.list')) texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
	if (existsSync('/etc/apt/sources.list.d')) {
		for (const f of readdirSync('/etc/apt/sources.list.d').sort()) {
			if (f.endsWith('.list') || f.endsWith('.sources')) texts.push(readFileSync(join('/etc/apt/sources.list.d', f), 'utf8'));
		}
	}
	const {mirror} = parseSources(texts, codename);
	if (!mirror) throw new Error(`no Debian mirror for ${codename} found in /etc/apt/sources.list*: cannot debootstrap trixie`);
	return mirror;
}

export function readVersions(root: string): TrixieVersions | undefined {
	try {
		return JSON.parse(readFileSync(join(root, 'versions.json'), 'utf8')) as TrixieVersions;
	} catch {
		return undefined;
	}
}

const POLICY_RC_D = '#!/bin/sh\n# mailwizard test root: no daemon starts during package installation.\nexit 101\n';

/**
 * The chroot part of the build, as one shell script run inside a private mount namespace
 * (`unshare -m`): /proc, /sys and /dev are mounted for it and unmounted by the script, and
 * whatever happens (failure, kill) the namespace takes its mounts with it.
 */
function installScript(dir: string, packages: readonly string[]): string {
	const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
	const D = q(dir);
	return `set -eu
cleanup() { umount ${q(dir + '/dev/pts')} 2>/dev/null || true; umount ${q(dir + '/dev')} 2>/dev/null || true; umount ${q(dir + '/sys')} 2>/dev/null || true; umount ${q(dir + '/proc')} 2>/dev/null || true; }
trap cleanup EXIT
mount --make-rprivate /
mount -t proc proc ${D}/proc
mount -t sysfs sysfs ${D}/sys
mount --bind /dev ${D}/dev
mount -t devpts -o newinstance,ptmxmode=0666 devpts ${D}/dev/pts 2>/dev/null || true
export DEBIAN_FRONTEND=noninteractive
chroot ${D} apt-get update
echo 'opensmtpd opensmtpd/mailname string mail.example.test' | chroot ${D} debconf-set-selections
chroot ${D} apt-get install -y --no-install-recommends ${packages.join(' ')}
chroot ${D} apt-get clean
`;
}

async function dpkgVersions(dir: string, versioned: readonly string[]): Promise<Record<string, string>> {
	const r = await run(['chroot', dir, 'dpkg-query', '-W', '-f', '${Package} ${Version}\\n', ...versioned]);
	const out: Record<string, string> = {};
	for (const line of r.stdout.split('\n')) {
		const [p, v] = line.trim().split(/\s+/);
		if (p && v) out[p] = v;
	}
	return out;
}

/** A cached root: which Debian, what is installed in it, and what is done before it counts as complete. */
export type RootSpec = {
	readonly codename: string;
	readonly target: string;
	readonly packages: readonly string[];
	/** Packages whose versions are recorded in versions.json. */
	readonly versioned: readonly string[];
	/** Remove the policy-rc.d used while building: package installs later start their daemons, as on a real server. */
	readonly startDaemonsLater?: boolean;
	/** The mirror to debootstrap from (the machine's own unless given). */
	readonly mirror?: () => string;
	/** Why a complete cached root can no longer be used (it is then rebuilt), if it cannot. */
	readonly stale?: (dir: string) => string | undefined;
	/** Runs on the complete root before it is renamed into place (a failure discards the build). */
	readonly finish?: (dir: string, log: (l: string) => void) => Promise<void>;
};

export const TRIXIE_SPEC = (): RootSpec => ({
	codename: 'trixie',
	target: trixieRootPath(),
	packages: TRIXIE_PACKAGES,
	versioned: VERSIONED,
	// A root built before the daily check's stage (issue 19): the wizard would fetch cron, offline.
	stale: (dir) => (existsSync(join(dir, 'usr/sbin/cron')) ? undefined : 'built without cron (the daily check needs it without systemd)'),
});

async function build(spec: RootSpec, log: (l: string) => void): Promise<TrixieVersions> {
	const {target, codename} = spec;
	const started = Date.now();
	const mirror = (spec.mirror ?? hostMirror)();
	const tmp = await mkdtemp(join(dirname(target), `${basename(target)}.tmp-`));
	try {
		log(`debootstrap --variant=minbase ${codename} ${tmp} ${mirror}`);
		// In a private mount namespace too: whatever debootstrap mounts (/proc, /sys) cannot outlive it.
		await must(['unshare', '-m', '--propagation', 'private', 'debootstrap', '--variant=minbase', codename, tmp, mirror], 'debootstrap', {timeoutMs: 15 * 60_000});
		log(`debootstrap done after ${((Date.now() - started) / 1000).toFixed(1)} s`);
		await writeFile(join(tmp, 'usr/sbin/policy-rc.d'), POLICY_RC_D);
		await chmod(join(tmp, 'usr/sbin/policy-rc.d'), 0o755);
		await must(['unshare', '-m', 'sh', '-c', installScript(tmp, spec.packages)], `package installation in the ${codename} chroot`, {timeoutMs: 20 * 60_000});
		if (spec.startDaemonsLater) await rm(join(tmp, 'usr/sbin/policy-rc.d'));
		const dovecot = (await run(['chroot', tmp, 'dovecot', '--version'])).stdout.trim();
		const node = (await must(['chroot', tmp, 'node', '--version'], 'node --version')).stdout.trim();
		await spec.finish?.(tmp, log);
		const versions: TrixieVersions = {
			packages: await dpkgVersions(tmp, spec.versioned),
			dovecot,
			node,
			mirror,
			builtAt: new Date().toISOString(),
			buildSeconds: Math.round((Date.now() - started) / 100) / 10,
		};
		await writeFile(join(tmp, 'versions.json'), `${JSON.stringify(versions, null, 2)}\n`);
		// Complete: only now does it get the name that marks it as good.
		await rename(tmp, target);
		return versions;
	} catch (e) {
		await removeTree(tmp);
		throw e;
	}
}

/** rm -rf that never crosses into a mounted filesystem (a leftover /proc or /dev mount). */
export async function removeTree(dir: string): Promise<void> {
	await run(['rm', '-rf', '--one-file-system', dir]);
}

/** One builder at a time (ava runs test files in parallel processes): a lock directory holding the builder's pid. */
async function withLock<T>(target: string, fn: () => Promise<T>): Promise<T> {
	const lock = `${target}.lock`;
	for (;;) {
		try {
			await mkdir(lock);
			await writeFile(join(lock, 'pid'), String(process.pid));
			break;
		} catch (e) {
			if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
			const pid = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
			if (pid && !alive(pid)) {
				await rm(lock, {recursive: true, force: true});
				continue;
			}
			await new Promise((r) => setTimeout(r, 1000));
		}
	}
	try {
		return await fn();
	} finally {
		await rm(lock, {recursive: true, force: true});
	}
}

export type EnsureOptions = {readonly log?: (line: string) => void};

/** Returns the path of a complete Debian 13 root, building it once (cold) and reusing it afterwards (cached). */
export function ensureTrixieRoot(opts: EnsureOptions = {}): Promise<string> {
	return ensureRoot(TRIXIE_SPEC(), {log: (l: string) => console.error(`[trixie-root] ${l}`), ...opts});
}

/** Returns the path of the complete root the spec describes, building it once (cold) and reusing it afterwards (cached). */
export async function ensureRoot(spec: RootSpec, opts: EnsureOptions = {}): Promise<string> {
	const log = opts.log ?? ((l: string) => console.error(`[${spec.codename}-root] ${l}`));
	if (process.getuid?.() !== 0) throw new Error(`building the ${spec.codename} root needs root (debootstrap, chroot, mount)`);
	const {target} = spec;
	const started = Date.now();
	const usable = () => Boolean(readVersions(target)) && !spec.stale?.(target);
	const why = readVersions(target) && spec.stale?.(target);
	if (why) log(`cached root ${target} is stale (${why}): rebuilding`);
	if (usable()) {
		log(`cached root ${target} reused in ${Date.now() - started} ms`);
		return target;
	}
	await mkdir(dirname(target), {recursive: true});
	return withLock(target, async () => {
		// Someone else may have finished it while we waited for the lock.
		if (usable()) {
			log(`cached root ${target} reused (built by another process) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
			return target;
		}
		// A directory at the target without versions.json is not ours to trust: set it aside.
		if (existsSync(target)) await removeTree(target);
		// Leftovers of interrupted builds (we hold the lock: nobody is using them).
		for (const f of readdirSync(dirname(target))) {
			if (f.startsWith(`${basename(target)}.tmp-`)) await removeTree(join(dirname(target), f));
		}
		const v = await build(spec, log);
		log(`cold build of ${target} took ${v.buildSeconds} s (dovecot ${v.dovecot || 'none'}, node ${v.node})`);
		return target;
	});
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
	const t0 = Date.now();
	ensureTrixieRoot()
		.then((dir) => {
			console.log(dir);
			console.log(JSON.stringify(readVersions(dir), null, 2));
			console.error(`[trixie-root] total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
		})
		.catch((e) => {
			console.error(String(e instanceof Error ? e.message : e));
			process.exit(1);
		});
}
