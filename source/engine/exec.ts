// Running commands: the real runner (execa) and a recording fake for tests.
/** A command: argv only (never a shell string), optional stdin. */
export type Cmd = {
	readonly argv: readonly string[];
	/** Text fed on stdin. Use for passwords: never in argv or env. */
	readonly stdin?: string;
	/** Substrings to mask wherever this command or its output is shown. */
	readonly secrets?: readonly string[];
	readonly env?: Readonly<Record<string, string>>;
	readonly cwd?: string;
	/** Run detached from any controlling terminal (doveadm pw reads the tty otherwise). */
	readonly setsid?: boolean;
	/**
	 * The command starts a daemon that may keep the output pipes open (init scripts):
	 * its output goes to a file, read when the command exits, so nothing waits on the daemon.
	 */
	readonly daemon?: boolean;
	/** Exit codes that count as success (default [0]). */
	readonly okCodes?: readonly number[];
	/** What to do when the command fails (shown after its own error line), e.g. apt's "nothing was installed". */
	readonly failHint?: string;
};

export type ExecResult = {readonly exitCode: number; readonly stdout: string; readonly stderr: string};

export type Exec = {
	/**
	 * Runs cmd; onLine receives output lines as they come (for live display). Never throws
	 * on a non-zero exit. An abort (Ctrl-C) ends the command (SIGTERM) and reports exit 130.
	 */
	run(cmd: Cmd, onLine?: (line: string) => void, signal?: AbortSignal): Promise<ExecResult>;
	/** Whether a program is on PATH. */
	which(program: string): Promise<boolean>;
};

/** Masks every secret of a command (and the stdin) in a string shown to a person. */
export function mask(text: string, secrets: readonly string[] | undefined): string {
	let out = text;
	for (const s of secrets ?? []) if (s) out = out.split(s).join('********');
	return out;
}

/** The shell-like rendering of a command for people (never executed). */
export function showCmd(cmd: Cmd): string {
	const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
	const env = Object.entries(cmd.env ?? {})
		.map(([k, v]) => `${k}=${quote(v)} `)
		.join('');
	const line = (cmd.setsid ? 'setsid ' : '') + env + cmd.argv.map(quote).join(' ');
	const shown = mask(line, cmd.secrets);
	return cmd.stdin === undefined ? shown : `${shown} <<< ${cmd.secrets?.length ? '********' : JSON.stringify(mask(cmd.stdin, cmd.secrets)).slice(0, 80)}`;
}

export function realExec(): Exec {
	return {
		async run(cmd, onLine, signal) {
			const {execa} = await import('execa');
			const argv = cmd.setsid ? ['setsid', '--wait', ...cmd.argv] : [...cmd.argv];
			if (cmd.daemon) return runToFile(argv, cmd, signal, onLine);
			const child = execa(argv[0]!, argv.slice(1), {
				input: cmd.stdin,
				stdin: cmd.stdin === undefined ? 'ignore' : 'pipe',
				env: {LC_ALL: 'C', ...cmd.env},
				cwd: cmd.cwd,
				reject: false,
				all: true,
				stripFinalNewline: false,
				lines: false,
				timeout: 60 * 60 * 1000,
				cancelSignal: signal,
			});
			if (onLine) {
				let buf = '';
				child.all?.on('data', (chunk: Buffer) => {
					buf += chunk.toString();
					const parts = buf.split(/\r?\n|\r/);
					buf = parts.pop() ?? '';
					for (const p of parts) onLine(mask(p, cmd.secrets));
				});
				child.all?.on('end', () => {
					if (buf) onLine(mask(buf, cmd.secrets));
				});
			}
			const r = await child;
			const exitCode = r.isCanceled ? 130 : typeof r.exitCode === 'number' ? r.exitCode : r.failed ? 127 : 0;
			const stderr = typeof r.stderr === 'string' ? r.stderr : '';
			return {exitCode, stdout: typeof r.stdout === 'string' ? r.stdout : '', stderr: r.failed && exitCode === 127 && !stderr ? String(r.shortMessage ?? '') : stderr};
		},
		async which(program) {
			const {access} = await import('node:fs/promises');
			for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
				try {
					await access(`${dir}/${program}`, 1);
					return true;
				} catch {}
			}
			return false;
		},
	};
}

/**
 * Output to a temp file: a daemon that inherits it blocks nothing (a pipe would stay
 * open as long as the daemon lives). node:child_process hands the descriptor over as is.
 * apt-get is run this way too: on a host without systemd a package's postinst starts its
 * daemon from an init script, and that daemon would otherwise hold the wizard's pipe.
 * The file is followed while the command runs, so its lines still show live.
 */
async function runToFile(argv: string[], cmd: Cmd, signal?: AbortSignal, onLine?: (line: string) => void): Promise<ExecResult> {
	const {mkdtemp, open, readFile, rm} = await import('node:fs/promises');
	const {openSync, closeSync} = await import('node:fs');
	const {spawn} = await import('node:child_process');
	const {tmpdir} = await import('node:os');
	const {join} = await import('node:path');
	const dir = await mkdtemp(join(tmpdir(), 'mailwizard-'));
	const file = join(dir, 'output');
	const fd = openSync(file, 'a', 0o600);
	// Follows the file: whole lines go to onLine as they are written.
	let offset = 0;
	let partial = '';
	const follow = async (final: boolean): Promise<void> => {
		if (!onLine) return;
		const h = await open(file, 'r');
		try {
			for (;;) {
				const buf = Buffer.alloc(64 * 1024);
				const {bytesRead} = await h.read(buf, 0, buf.length, offset);
				if (!bytesRead) break;
				offset += bytesRead;
				partial += buf.subarray(0, bytesRead).toString();
			}
		} finally {
			await h.close();
		}
		const parts = partial.split(/\r?\n|\r/);
		partial = parts.pop() ?? '';
		if (final && partial) parts.push(partial);
		for (const p of parts) onLine(mask(p, cmd.secrets));
	};
	let following = Promise.resolve();
	const timer = onLine ? setInterval(() => (following = following.then(() => follow(false)).catch(() => {})), 150) : undefined;
	try {
		const exitCode = await new Promise<number>((resolve) => {
			const child = spawn(argv[0]!, argv.slice(1), {stdio: [cmd.stdin === undefined ? 'ignore' : 'pipe', fd, fd], env: {...process.env, LC_ALL: 'C', ...cmd.env}, cwd: cmd.cwd, signal});
			if (cmd.stdin !== undefined) child.stdin?.end(cmd.stdin);
			child.on('error', (e: NodeJS.ErrnoException) => resolve(e.name === 'AbortError' ? 130 : 127));
			child.on('exit', (code, sig) => resolve(signal?.aborted ? 130 : (code ?? (sig ? 128 : 1))));
		});
		clearInterval(timer);
		await following;
		await follow(true).catch(() => {});
		return {exitCode, stdout: mask(await readFile(file, 'utf8').catch(() => ''), cmd.secrets), stderr: ''};
	} finally {
		clearInterval(timer);
		closeSync(fd);
		await rm(dir, {recursive: true, force: true});
	}
}

export type FakeRule = {
	readonly match: (argv: readonly string[]) => boolean;
	readonly result: ExecResult | ((cmd: Cmd) => ExecResult);
};

/** A recording fake: every command is kept in `calls`; answers come from rules (default exit 0, empty output). */
export function fakeExec(rules: FakeRule[] = [], programs: readonly string[] = []): Exec & {calls: Cmd[]} {
	const calls: Cmd[] = [];
	return {
		calls,
		async run(cmd) {
			calls.push(cmd);
			const rule = rules.find((r) => r.match(cmd.argv));
			if (!rule) return {exitCode: 0, stdout: '', stderr: ''};
			return typeof rule.result === 'function' ? rule.result(cmd) : rule.result;
		},
		async which(program) {
			return programs.includes(program);
		},
	};
}
