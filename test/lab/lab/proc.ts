// Running commands on the machine for the lab: run/must (no shell, bounded), and the
// process and namespace helpers that stop the lab's processes by PID.
import {spawn} from 'node:child_process';
import {readdirSync, readlinkSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const PYTHON = '/usr/bin/python3';
export const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** argv prefix: close every descriptor above 2, then exec the rest (python -S starts in ~10 ms). */
export const CLOSE_FDS = [PYTHON, '-S', '-c', 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])'];

export type ExecResult = {readonly exitCode: number; readonly stdout: string; readonly stderr: string};
export type ExecOptions = {readonly stdin?: string; readonly timeoutMs?: number; readonly env?: Record<string, string>; readonly cwd?: string};

/** Runs a command (no shell), never throws on a non-zero exit; kills it (SIGKILL) after the timeout. */
export function run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
	return new Promise((resolve) => {
		const child = spawn(argv[0]!, argv.slice(1), {
			env: {PATH, LC_ALL: 'C', HOME: '/root', ...opts.env},
			cwd: opts.cwd,
			stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
			// Its own process group: a `kill 0` (or a group signal) inside never reaches the test runner.
			detached: true,
		});
		let stdout = '';
		let stderr = '';
		child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
		child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
		const timer = setTimeout(() => {
			stderr += `\n[lab] killed after ${opts.timeoutMs ?? 120_000} ms`;
			child.kill('SIGKILL');
		}, opts.timeoutMs ?? 120_000);
		child.on('error', (e) => {
			clearTimeout(timer);
			resolve({exitCode: 127, stdout, stderr: stderr + String(e)});
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({exitCode: code ?? (signal ? 128 + 9 : 1), stdout, stderr});
		});
		if (opts.stdin !== undefined) {
			child.stdin!.on('error', () => {});
			child.stdin!.end(opts.stdin);
		}
	});
}

export async function must(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
	const r = await run(argv, opts);
	if (r.exitCode !== 0) throw new Error(`[lab] ${argv.join(' ')} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
	return r;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		return (e as NodeJS.ErrnoException).code === 'EPERM';
	}
}

export function nsInode(pid: number | 'self', ns: 'net' | 'mnt'): string | undefined {
	try {
		return readlinkSync(`/proc/${pid}/ns/${ns}`);
	} catch {
		return undefined;
	}
}

/** Every process whose network namespace is one of `nets` (inode strings such as net:[4026532178]). */
export function processesIn(nets: ReadonlySet<string>): number[] {
	if (nets.size === 0) return [];
	const out: number[] = [];
	for (const d of readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		const pid = Number(d);
		if (pid === process.pid) continue;
		const n = nsInode(pid, 'net');
		if (n && nets.has(n)) out.push(pid);
	}
	return out;
}

/** The inode of a named network namespace, as /proc/PID/ns/net shows it. */
export async function namedNetInode(name: string): Promise<string | undefined> {
	const r = await run(['stat', '-L', '-c', '%i', `/run/netns/${name}`]);
	return r.exitCode === 0 ? `net:[${r.stdout.trim()}]` : undefined;
}

export async function killAll(pids: readonly number[]): Promise<number[]> {
	const killed: number[] = [];
	for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
		const live = pids.filter(alive);
		for (const p of live) {
			try {
				process.kill(p, signal);
				if (!killed.includes(p)) killed.push(p);
			} catch {}
		}
		for (let i = 0; i < 30 && pids.some(alive); i++) await sleep(100);
	}
	return killed;
}

/** test/lab: client.py, sink.py and syslog.py are here. */
export const LAB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The checkout: bound read-only at its own path inside the mx, wherever it was cloned. */
export const REPO_ROOT = join(LAB_DIR, '../..');

/**
 * sh: the PIDs (one line, like pidof; exit 1 when none) of the named programs that run in the
 * caller's mount namespace. The lab's mx shares the machine's PID namespace, so a bare pidof in
 * the mx also sees another lab's or a developer's smtpd, dovecot or rspamd.
 */
export function pidofHere(...names: readonly string[]): string {
	return `m=$(readlink /proc/self/ns/mnt); out=; for p in $(pidof ${names.join(' ')}); do [ "$(readlink /proc/$p/ns/mnt 2>/dev/null)" = "$m" ] && out="$out $p"; done; [ -n "$out" ] && echo $out`;
}
