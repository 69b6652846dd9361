// npm run bench: start-up and dry-run costs of the bundled CLI, as ratios to a bare
// `node -e 0` on the same machine, plus the packed size and the dry run's peak RSS.
import {spawnSync, execFileSync} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const runs = Number(process.env.BENCH_RUNS ?? 15);
const cli = 'dist/mailwizard.js';
if (!existsSync(cli)) execFileSync('npm', ['run', 'build'], {stdio: 'inherit'});

function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.floor(s.length / 2)];
}

/** okCodes: the example's dry run exits 1 or 2 on a machine without its certificate and password files. */
function time(args, okCodes = [0]) {
	const xs = [];
	for (let i = 0; i < runs; i++) {
		const t = process.hrtime.bigint();
		const r = spawnSync(process.execPath, args, {stdio: ['ignore', 'ignore', 'ignore']});
		xs.push(Number(process.hrtime.bigint() - t) / 1e6);
		if (!okCodes.includes(r.status)) throw new Error(`${args.join(' ')} exited ${r.status}`);
	}
	return median(xs);
}

const state = join(mkdtempSync(join(tmpdir(), 'mw-bench-')), 'state');
const base = time(['-e', '0']);
const rows = [
	['--version', time([cli, '--version']), 2],
	['--help', time([cli, '--help']), 2],
	['--dry-run (example answers)', time([cli, '--dry-run', '--answers', 'examples/example.com.yaml', '--state-dir', state], [0, 1, 2]), 5],
];

const rss = spawnSync(
	process.execPath,
	[
		'--import',
		'data:text/javascript,process.on("exit",()=>process.stderr.write("MAXRSS "+process.resourceUsage().maxRSS+"\\n"))',
		cli,
		'--dry-run',
		'--answers',
		'examples/example.com.yaml',
		'--state-dir',
		state,
	],
	{encoding: 'utf8'},
);
const maxRssMb = Number(/MAXRSS (\d+)/.exec(rss.stderr)?.[1] ?? 0) / 1024;

const packDir = mkdtempSync(join(tmpdir(), 'mw-pack-'));
const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], {encoding: 'utf8'}).trim().split('\n').pop();
const packed = statSync(join(packDir, tarball)).size;
rmSync(packDir, {recursive: true, force: true});

console.log(`node ${process.version}, ${runs} runs each, medians; baseline node -e 0 = ${base.toFixed(1)} ms`);
console.log('measure                          ms      x node -e 0   target');
for (const [name, ms, target] of rows) console.log(`${name.padEnd(32)} ${ms.toFixed(1).padStart(6)}  ${(ms / base).toFixed(2).padStart(8)}x     < ${target}x ${ms / base < target ? 'ok' : 'MISSED'}`);
if (existsSync('scripts/bench-tui.mjs')) {
	const tui = spawnSync(process.execPath, ['scripts/bench-tui.mjs'], {encoding: 'utf8'});
	process.stdout.write(tui.stdout);
}
console.log(
	`bundle dist/mailwizard.js: ${(statSync(cli).size / 1024).toFixed(0)} KiB; packed package: ${(packed / 1024).toFixed(0)} KiB (target < 1024 KiB ${packed < 1024 * 1024 ? 'ok' : 'MISSED'})`,
);
console.log(`dry run peak RSS: ${maxRssMb.toFixed(1)} MiB (target < 100 MiB ${maxRssMb < 100 ? 'ok' : 'MISSED'})`);
