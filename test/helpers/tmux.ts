// The built CLI in a real terminal: tmux sessions created (and killed) by name.
import {execFileSync} from 'node:child_process';
import {chmodSync, existsSync, mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';

export const CLI = resolve('dist/mailwizard.js');

export function hasTmux(): boolean {
	try {
		execFileSync('tmux', ['-V'], {stdio: 'ignore'});
		return true;
	} catch {
		return false;
	}
}

export function cliBuilt(): boolean {
	return existsSync(CLI);
}

/** A directory a dropped-privilege user can read (for TLS files and the state dir). */
export function openTemp(prefix: string): string {
	const d = mkdtempSync(join(tmpdir(), prefix));
	chmodSync(d, 0o755);
	return d;
}

/** As root, the wizard runs as nobody: it can then never apply anything to this machine. */
export function asUnprivileged(argv: readonly string[]): string[] {
	if (process.getuid?.() !== 0) return [...argv];
	return ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', 'HOME=/tmp', ...argv];
}

const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

export class Tmux {
	readonly name: string;
	constructor(
		prefix: string,
		argv: readonly string[],
		readonly size = {width: 80, height: 24},
		env: Record<string, string> = {},
	) {
		this.name = `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
		const envs = Object.entries(env)
			.map(([k, v]) => `${k}=${q(v)}`)
			.join(' ');
		// The pane stays after the program ends so its last screen and exit code can be read.
		const cmd = `${envs ? `env ${envs} ` : ''}${argv.map(q).join(' ')}; echo "EXIT=$?"; sleep 600`;
		execFileSync('tmux', ['new-session', '-d', '-s', this.name, '-x', String(size.width), '-y', String(size.height), cmd]);
	}

	/** Keys one by one (text, or tmux key names such as Enter, C-u, Escape), letting the screen settle. */
	async keys(...keys: string[]): Promise<void> {
		for (const k of keys) {
			const literal = !/^(Enter|Escape|Up|Down|PageUp|PageDown|NPage|PPage|Tab|C-[a-z])$/.test(k);
			execFileSync('tmux', ['send-keys', '-t', this.name, ...(literal ? ['-l', k] : [k])]);
			await new Promise((r) => setTimeout(r, 150));
		}
	}

	screen(escapes = false): string {
		return execFileSync('tmux', ['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.name], {encoding: 'utf8'});
	}

	async until(test: RegExp, ms = 8000): Promise<string> {
		const end = Date.now() + ms;
		for (;;) {
			const s = this.screen();
			if (test.test(s)) return s;
			if (Date.now() > end) throw new Error(`the screen never matched ${String(test)}:\n${s}`);
			await new Promise((r) => setTimeout(r, 50));
		}
	}

	kill(): void {
		try {
			execFileSync('tmux', ['kill-session', '-t', this.name], {stdio: 'ignore'});
		} catch {}
	}
}
