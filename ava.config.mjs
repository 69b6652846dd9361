// ava's configuration (package.json holds none: the file order below is a function).
//
// Three test files run at a time, and three labs at once (test/lab/lab/lock.ts SLOTS; a lab is
// mostly waiting for daemons, so three fit on two cores): the longest lab lanes start first so
// that the last one does not start alone near the end, then the lanes that build a root first
// (while the others hold the slots), the other lab lanes, and the terminal and unit tests
// (which need no lab slot).
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
	concurrency: 3,
	workerThreads: false,
	sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
};
