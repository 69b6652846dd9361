// ava's configuration (package.json holds none: the file order below is a function).
//
// Two test files run at a time, and two labs at once (test/lab/lab/lock.ts SLOTS). Measured on
// CI's two cores: three labs at once (with the roots built on a fresh machine) made the run
// bound by the CPU and slower than two. The longest lab lanes start first, so that the last one
// does not run alone near the end, then the lanes that build a root, the other lab lanes, and
// the terminal and unit tests (which need no lab slot).
const FIRST = [
	'test/lab/kill-1.test.ts',
	'test/lab/kill-2.test.ts',
	'test/lab/debian13.test.ts',
	'test/lab/fresh.test.ts',
	'test/lab/fresh-debian13.test.ts',
	'test/lab/quickstart.test.ts',
	'test/lab/quickstart-debian13.test.ts',
	'test/lab/debian12.test.ts',
	'test/lab/upgrade.test.ts',
];
const rank = (file) => {
	const i = FIRST.findIndex((f) => file.endsWith(f));
	if (i >= 0) return i;
	return file.includes('/test/lab/') ? FIRST.length : FIRST.length + 1;
};

export default {
	files: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
	extensions: {ts: 'module', tsx: 'module'},
	nodeArguments: ['--import=tsx', '--import=./test/helpers/terminal-env.mjs'],
	timeout: '5m',
	concurrency: 2,
	workerThreads: false,
	sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
};
