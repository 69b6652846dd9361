// The README's quick start, word for word, on a fresh Debian 12 or 13 (issue 15): the mx is the
// cached root of test/lab/quickstart/root.ts — the bare Debian of the fresh lanes, with no
// node, no npm, no git — and a real terminal (tmux) runs a root login shell in it. The test
// types each line of README's ```sh block exactly as written (only `<this repository>` becomes
// the path of a clone of the committed HEAD, bound read-only into the mx) and waits for it to
// end: apt installs nodejs, npm and git (apt through a proxy inside the mx that replays Debian's
// answers recorded when the root was built), git clones, `npm ci` installs the lockfile from the
// root's npm cache (the lab's registry, /root/.npmrc offline=true) and builds dist/ through
// "prepare" on that Debian's own node (18 on 12, 20 on 13), and `node dist/mailwizard.js`
// shows the wizard's first screen; q quits with exit 0. The mx has no route out: nothing else can be fetched.
// Needs root, `ip netns` and tmux; otherwise skipped with the reason in the test title.
import test from 'ava';
import {execFileSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Lab, LAB_LOCK_WAIT_MS, labUnavailable, PYTHON} from '../lab.ts';
import {APT_PROXY, REPO, type Codename} from '../fresh/root.ts';
import {ensureQuickstartRoot, QUICKSTART_RECORDING, readMeta, readmeQuickstart} from './root.ts';

const W = 80;
const H = 24;
const SOCKET = `mwlabqs-${process.pid}`;
const PROXY_PORT = 3142;
/** Where the shell's PROMPT_COMMAND appends each command's exit status (the lab's instrument, not the operator's). */
const STATUS = '/run/mwlab-quickstart-status';
const PLACEHOLDER = '<this repository>';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

function tmuxMissing(): string | undefined {
	try {
		execFileSync('tmux', ['-V'], {stdio: 'ignore'});
		return undefined;
	} catch {
		return 'tmux is not installed';
	}
}

/** A root login shell in the mx, in a tmux pane of a private tmux server. */
class Shell {
	readonly name = `mwlabqs-${process.pid}-${randomBytes(3).toString('hex')}`;
	constructor(lab: Lab) {
		const closeFds = [PYTHON, '-S', '-c', 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])'];
		const env = ['env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'TERM=xterm-256color', 'LANG=C.UTF-8', `PROMPT_COMMAND=echo $? >> ${STATUS}`];
		const argv = [...closeFds, ...lab.enter('mx'), ...env, 'sh', '-c', 'cd /root && exec bash --login'];
		execFileSync('tmux', ['-L', SOCKET, 'new-session', '-d', '-s', this.name, '-x', String(W), '-y', String(H), argv.map(q).join(' ')], {env: {...process.env, LANG: 'C.UTF-8'}});
	}
	/** A line typed as the operator would, then Enter. */
	type(line: string): void {
		execFileSync('tmux', ['-L', SOCKET, 'send-keys', '-t', this.name, '-l', line]);
		execFileSync('tmux', ['-L', SOCKET, 'send-keys', '-t', this.name, 'Enter']);
	}
	key(k: string): void {
		execFileSync('tmux', ['-L', SOCKET, 'send-keys', '-t', this.name, '-l', k]);
	}
	screen(): string {
		return execFileSync('tmux', ['-L', SOCKET, 'capture-pane', '-p', '-t', this.name], {encoding: 'utf8'});
	}
	history(n = 40): string {
		const all = execFileSync('tmux', ['-L', SOCKET, 'capture-pane', '-p', '-J', '-S', '-', '-t', this.name], {encoding: 'utf8', maxBuffer: 64 << 20});
		return all.trimEnd().split('\n').slice(-n).join('\n');
	}
	async until(re: RegExp, ms: number): Promise<string> {
		const end = Date.now() + ms;
		for (;;) {
			const s = this.screen();
			if (re.test(s)) return s;
			if (Date.now() > end) throw new Error(`the screen never matched ${String(re)} within ${ms} ms:\n${this.history()}`);
			await sleep(200);
		}
	}
	kill(): void {
		try {
			execFileSync('tmux', ['-L', SOCKET, 'kill-session', '-t', this.name], {stdio: 'ignore'});
		} catch {}
	}
}

const RELEASE = {
	bookworm: {name: 'Debian 12', node: /^v18\./},
	trixie: {name: 'Debian 13', node: /^v20\./},
} as const;

export async function quickstartLane(codename: Codename): Promise<void> {
	const R = RELEASE[codename];
	const unavailable = (await labUnavailable()) ?? tmuxMissing();
	let root: {dir: string; ms: number} | {error: string} | undefined;
	if (!unavailable) {
		const t0 = Date.now();
		try {
			root = {dir: await ensureQuickstartRoot(codename), ms: Date.now() - t0};
		} catch (e) {
			root = {error: e instanceof Error ? e.message : String(e)};
		}
	}

	if (unavailable) {
		test.skip(`lab (the README quick start on a fresh ${R.name}) skipped: ${unavailable}`, () => {});
	} else if (!root || 'error' in root) {
		// Building the root needs the Debian mirror and the npm registry (or the machine's npm cache).
		test(`lab (the README quick start): the fresh ${R.name} root, its apt recording and npm cache can be built`, (t) => t.fail(root && 'error' in root ? root.error : '?'));
	} else {
		const built = root;
		const S: {lab?: Lab; shell?: Shell; clone?: string; proxyLog?: string} = {};

		test.before(async (t) => {
			t.timeout(LAB_LOCK_WAIT_MS + 3 * 60_000);
			t.log(`quick-start root ${built.dir} (ready in ${built.ms} ms): ${JSON.stringify(readMeta(built.dir))}`);
			// "git clone <this repository>": a clone of the committed HEAD, as the operator's would be.
			S.clone = mkdtempSync(join(tmpdir(), 'mw-quickstart-repo-'));
			execFileSync('git', ['clone', '--quiet', '--bare', REPO, join(S.clone, 'mailwizard.git')]);
			S.lab = await Lab.up({log: (l) => t.log(`[lab] ${l}`), mxRoot: {lower: built.dir, binds: [S.clone], rspamdCache: ''}, lockWaitMs: LAB_LOCK_WAIT_MS});
			// The lab's stand-in for Debian's mirror: apt's proxy, answering only what was recorded.
			await S.lab.writeFile('mx', '/usr/local/lib/mwlab/apt-proxy.py', readFileSync(APT_PROXY, 'utf8'), 0o755);
			await S.lab.writeFile('mx', '/etc/apt/apt.conf.d/01mwlab-proxy', `Acquire::http::Proxy "http://127.0.0.1:${PROXY_PORT}";\n`);
			S.proxyLog = join(mkdtempSync(join(tmpdir(), 'mw-quickstart-proxy-')), 'proxy.log');
			S.lab.spawnDaemon('mx', [PYTHON, '/usr/local/lib/mwlab/apt-proxy.py', 'replay', QUICKSTART_RECORDING, '127.0.0.1', String(PROXY_PORT)], S.proxyLog);
			for (let i = 0; i < 50 && !readFileSync(S.proxyLog, 'utf8').includes(`port ${PROXY_PORT}`); i++) await sleep(100);
		});

		test.after.always(async () => {
			S.shell?.kill();
			await S.lab?.down();
			if (S.clone) rmSync(S.clone, {recursive: true, force: true});
			if (S.proxyLog) rmSync(join(S.proxyLog, '..'), {recursive: true, force: true});
			try {
				execFileSync('tmux', ['-L', SOCKET, 'list-sessions'], {stdio: 'ignore'});
			} catch {
				rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`, SOCKET), {force: true});
			}
		});

		const lab = () => {
			if (!S.lab) throw new Error('the lab is not up (see the before hook)');
			return S.lab;
		};
		const statuses = async () =>
			(
				await lab()
					.readFile('mx', STATUS)
					.catch(() => '')
			)
				.split('\n')
				.filter(Boolean)
				.map(Number);

		test.serial(`the README quick start, typed word for word as root on a fresh ${R.name}, reaches the wizard’s first screen; q exits 0`, async (t) => {
			t.timeout(15 * 60_000);
			const l = lab();
			const lines = readmeQuickstart();
			t.true(
				lines.some((x) => x.includes(PLACEHOLDER)),
				`the quick start clones ${PLACEHOLDER}`,
			);
			t.regex(lines.at(-1)!, /^node dist\/mailwizard\.js\b/, 'the last line starts the wizard');
			const typed = lines.map((x) => x.replace(PLACEHOLDER, join(S.clone!, 'mailwizard.git')));
			// Fresh: no node, npm or git, and no route to any mirror or registry.
			for (const cmd of ['node', 'npm', 'git']) t.not((await l.exec('mx', ['sh', '-c', `command -v ${cmd}`])).exitCode, 0, `${cmd} is not installed yet`);
			t.is((await l.probe('mx', ['ip', 'route', 'show', 'default'])).stdout.trim(), '', 'no default route');

			const shell = (S.shell = new Shell(l));
			const ready = Date.now() + 20_000;
			while ((await statuses()).length < 1) {
				if (Date.now() > ready) return t.fail(`the shell never showed its prompt:\n${shell.history()}`);
				await sleep(100);
			}
			const times: string[] = [];
			for (const [i, line] of typed.entries()) {
				const t0 = Date.now();
				const before = (await statuses()).length;
				shell.type(line);
				if (i === typed.length - 1) {
					const first = await shell.until(/Enter start/, 60_000);
					t.regex(first, /mailwizard — your own mail server on this machine/);
					t.regex(first, /1\. Preflight/, 'the stage list');
					t.notRegex(first, /Not root/, 'root: the wizard can apply');
					times.push(`${((Date.now() - t0) / 1000).toFixed(1)} s to the first screen`);
					t.log(first);
					shell.key('q');
				}
				const end = Date.now() + 10 * 60_000;
				let s = await statuses();
				while (s.length <= before) {
					if (Date.now() > end) return t.fail(`"${line}" did not end within 10 minutes:\n${shell.history()}`);
					await sleep(250);
					s = await statuses();
				}
				times.push(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${line}`);
				if (s[before] !== 0) return t.fail(`"${line}" exited ${s[before]}:\n${shell.history(60)}`);
				if (/^npm ci\b/.test(line)) {
					t.log(`npm ci, the end of its output:\n${shell.history(12)}`);
					const dist = await l.exec('mx', ['sh', '-c', 'cd /root/mailwizard && git ls-files dist && test -s dist/mailwizard.js && echo built']);
					t.is(dist.stdout.trim(), 'built', 'dist/ is not in the clone: "prepare" built it');
				}
				if (i === 1) {
					const head = (await l.exec('mx', ['git', '-C', '/root/mailwizard', 'rev-parse', 'HEAD'])).stdout.trim();
					t.is(head, execFileSync('git', ['-C', REPO, 'rev-parse', 'HEAD'], {encoding: 'utf8'}).trim(), 'the clone is the committed HEAD');
				}
			}
			t.log(times.join('\n'));
			t.is((await statuses()).at(-1), 0, 'q: exit 0');
			const node = await l.exec('mx', ['node', '--version']);
			t.regex(node.stdout, R.node, `${R.name}'s own node ran the build and the wizard`);
			const misses = readFileSync(S.proxyLog!, 'utf8')
				.split('\n')
				.filter((x) => x.startsWith('replay MISS'));
			t.deepEqual(misses, [], 'apt asked for nothing that was not recorded');
		});
	}
}
