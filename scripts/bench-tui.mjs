// node scripts/bench-tui.mjs: time to the first frame of the interactive wizard
// (the bundled CLI in a pseudo-terminal made by `script -qfc`), as a ratio to
// `node -e 0` run the same way. Prints both medians and the ratio.
import {execFileSync, spawn} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const runs = Number(process.env.BENCH_RUNS ?? 11);
const cli = 'dist/mailwizard.js';
if (!existsSync(cli)) execFileSync('npm', ['run', 'build'], {stdio: 'inherit'});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const q = (a) => `'${a.replace(/'/g, `'\\''`)}'`;

/** ms from spawn until `text` is on the pty (or until exit when text is undefined). */
function once(argv, text) {
	return new Promise((resolve, reject) => {
		const started = process.hrtime.bigint();
		const child = spawn('script', ['-qfc', argv.map(q).join(' '), '/dev/null'], {stdio: ['pipe', 'pipe', 'ignore'], env: {...process.env, COLUMNS: '80', LINES: '24'}});
		let out = '';
		let done = false;
		const finish = (ok) => {
			if (done) return;
			done = true;
			const ms = Number(process.hrtime.bigint() - started) / 1e6;
			if (text) child.kill('SIGKILL'); // the pty closes: the wizard gets SIGHUP and leaves
			ok ? resolve(ms) : reject(new Error(`"${text}" never appeared:\n${out.slice(-500)}`));
		};
		child.stdout.on('data', (d) => {
			out += d.toString();
			if (text && out.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '').includes(text)) finish(true);
		});
		child.on('exit', () => finish(!text));
		setTimeout(() => finish(false), 10_000);
	});
}

const state = mkdtempSync(join(tmpdir(), 'mw-bench-tui-'));
const base = [];
const tui = [];
try {
	for (let i = 0; i < runs; i++) {
		base.push(await once([process.execPath, '-e', '0']));
		tui.push(await once([process.execPath, cli, '--state-dir', join(state, 'state')], 'Enter start'));
	}
} finally {
	rmSync(state, {recursive: true, force: true});
}
const b = median(base);
const f = median(tui);
console.log(`node -e 0 in a pty:                ${b.toFixed(0)} ms (median of ${runs})`);
console.log(`wizard first frame in a pty:       ${f.toFixed(0)} ms (median of ${runs})`);
console.log(`ratio first frame / node -e 0:     ${(f / b).toFixed(2)}`);
