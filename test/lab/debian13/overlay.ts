// A throwaway Debian 13 server: the cached trixie root as the lower layer of an overlay
// whose upper layer lives on a tmpfs, in private mount, network (only lo, up) and PID
// namespaces. Nothing is mounted or bound on the host. The holder is PID 1 of the PID
// namespace and waits for EOF on a pipe from this process: when we close it, or when
// this process dies in any way (even SIGKILL), the holder exits, the kernel kills every
// process of the sandbox (daemons included) and drops the mounts with them.
// The cached root stays pristine.
import {spawn, type ChildProcess} from 'node:child_process';
import {readFileSync, readdirSync, readlinkSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {run, type RunResult} from './root.ts';

const HOLDER = `set -eu
B="$1"; R="$2"; M="$B/merged"
mount -t tmpfs -o mode=0755,size=2g mw-trixie "$B"
mkdir "$B/upper" "$B/work" "$M"
mount -t overlay overlay -o "lowerdir=$R,upperdir=$B/upper,workdir=$B/work" "$M"
mount -t proc proc "$M/proc"
mount -t sysfs sysfs "$M/sys"
mount -t tmpfs -o mode=0755 dev "$M/dev"
for d in null zero full random urandom tty; do touch "$M/dev/$d"; mount --bind "/dev/$d" "$M/dev/$d"; done
mkdir "$M/dev/pts" "$M/dev/shm"; ln -s /proc/self/fd "$M/dev/fd"; ln -s pts/ptmx "$M/dev/ptmx"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$M/dev/pts"
mount -t tmpfs -o mode=1777 shm "$M/dev/shm"
mount -t tmpfs -o mode=0755 run "$M/run"
mount -t tmpfs -o mode=1777 tmp "$M/tmp"
ip link set lo up
echo ready
# Lives exactly as long as the pipe from the test process.
cat >/dev/null
`;

export type Sandbox = {
	/** The holder's pid: its mount and network namespaces are the sandbox's. */
	readonly pid: number;
	/** The merged root, as seen inside the sandbox's mount namespace. */
	readonly merged: string;
	/** Runs argv chrooted into the overlay, inside both namespaces. */
	exec(argv: readonly string[], opts?: {stdin?: string; setsid?: boolean; timeoutMs?: number}): Promise<RunResult>;
	/** sh -c SCRIPT inside the sandbox. */
	sh(script: string, opts?: {stdin?: string; setsid?: boolean; timeoutMs?: number}): Promise<RunResult>;
	/** Writes a file inside the sandbox (root:root unless owner given). */
	write(path: string, content: string, mode?: number, owner?: string): Promise<void>;
	read(path: string): Promise<string>;
	/** Runs a command in the sandbox's network namespace only (host tools, e.g. ss). */
	net(argv: readonly string[]): Promise<RunResult>;
	/** Kills everything inside, releases the namespaces and mounts. Idempotent. */
	close(): Promise<{killed: number[]}>;
};

type NsIds = {readonly mnt?: string; readonly net?: string; readonly pid?: string};

function nsInode(pid: number, ns: keyof NsIds): string | undefined {
	try {
		return readlinkSync(`/proc/${pid}/ns/${ns}`);
	} catch {
		return undefined;
	}
}

/** Every process in one of the sandbox's namespaces (all of them started through it). */
function members(ids: NsIds, except: number[] = []): number[] {
	const out: number[] = [];
	for (const d of readdirSync('/proc')) {
		if (!/^\d+$/.test(d) || except.includes(Number(d))) continue;
		const pid = Number(d);
		if ((Object.keys(ids) as (keyof NsIds)[]).some((k) => ids[k] && nsInode(pid, k) === ids[k])) out.push(pid);
	}
	return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openTrixieOverlay(lower: string): Promise<Sandbox> {
	const base = await mkdtemp(join(tmpdir(), 'mw-trixie-ovl-'));
	const merged = join(base, 'merged');
	const holder: ChildProcess = spawn('unshare', ['-m', '-n', '-p', '--fork', '--kill-child', '--propagation', 'private', 'sh', '-c', HOLDER, 'holder', base, lower], {stdio: ['pipe', 'pipe', 'pipe']});
	let errText = '';
	holder.stderr!.on('data', (c: Buffer) => (errText += c.toString()));
	const ready = await new Promise<boolean>((resolve) => {
		holder.stdout!.on('data', (c: Buffer) => {
			if (c.toString().includes('ready')) resolve(true);
		});
		holder.on('exit', () => resolve(false));
	});
	// The holder is unshare's child (PID 1 inside); the namespaces are its.
	const pid = ready ? Number(readFileSync(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8').trim().split(/\s+/)[0]) : 0;
	const ids: NsIds = pid ? {mnt: nsInode(pid, 'mnt'), net: nsInode(pid, 'net'), pid: nsInode(pid, 'pid')} : {};
	let closed = false;
	const close = async () => {
		if (closed) return {killed: []};
		closed = true;
		const killed: number[] = [];
		// Polite first (daemons get SIGTERM), then the holder goes.
		for (const signal of ['SIGTERM'] as const) {
			const inside = members(ids, [pid]);
			for (const p of inside) {
				try {
					process.kill(p, signal);
					if (!killed.includes(p)) killed.push(p);
				} catch {}
			}
			if (inside.length) await sleep(300);
		}
		if (holder.exitCode === null && holder.signalCode === null) {
			const gone = new Promise((r) => holder.once('exit', r));
			holder.stdin!.end(); // PID 1 exits; the kernel kills the rest of the sandbox
			const t = setTimeout(() => holder.kill('SIGKILL'), 5000);
			await gone;
			clearTimeout(t);
		}
		let left = members(ids);
		for (let i = 0; left.length && i < 30; i++) {
			await sleep(100);
			left = members(ids);
		}
		if (left.length) throw new Error(`sandbox processes still alive after close: ${left.join(' ')}`);
		// The tmpfs (upper layer) was only mounted in the holder's namespace: the host's
		// directory is empty.
		await rm(base, {recursive: true, force: true});
		return {killed};
	};
	if (!ready) {
		await close();
		throw new Error(`could not set up the overlay sandbox: ${errText.trim()}`);
	}
	const enter = ['nsenter', '-t', String(pid), '-m', '-n', '-p', 'chroot', merged, '/usr/bin/env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LC_ALL=C', 'HOME=/root'];
	const exec: Sandbox['exec'] = (argv, opts = {}) => run([...(opts.setsid ? ['setsid', '--wait'] : []), ...enter, ...argv], {stdin: opts.stdin, timeoutMs: opts.timeoutMs ?? 120_000});
	return {
		pid,
		merged,
		exec,
		sh: (script, opts) => exec(['sh', '-c', script], opts),
		async write(path, content, mode = 0o644, owner = 'root:root') {
			const r = await exec(['sh', '-c', 'umask 077; cat > "$1" && chmod "$2" "$1" && chown "$3" "$1"', 'sh', path, mode.toString(8), owner], {stdin: content});
			if (r.code !== 0) throw new Error(`writing ${path} in the sandbox failed: ${r.stderr}`);
		},
		async read(path) {
			const r = await exec(['cat', path]);
			if (r.code !== 0) throw new Error(`reading ${path} in the sandbox failed: ${r.stderr}`);
			return r.stdout;
		},
		net: (argv) => run(['nsenter', '-t', String(pid), '-n', ...argv]),
		close,
	};
}
