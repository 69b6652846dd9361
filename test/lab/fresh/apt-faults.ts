// apt failing midway and a run killed in the middle of apt (issue 20), on the bare Debian 12
// lane before its real runs: the replaying proxy "loses" the mirror after the first package
// (test/lab/fresh/apt-proxy.py, /run/apt-proxy-fail), then a run is killed (SIGKILL: the
// wizard, apt and dpkg at once) while dpkg unpacks. The lane's own runs that follow must
// converge from there: every package installed and configured, nothing held that should not be.
import test, {type ExecutionContext} from 'ava';
import {pidofHere} from '../lab.ts';
import {STATE, tail, type Lane} from '../assertions.ts';

const FAIL_FILE = '/run/apt-proxy-fail';

/** dpkg's view: nothing half-installed or half-configured (dpkg --audit prints nothing), and its journal is empty. */
async function dpkgClean(lane: Lane): Promise<{audit: string; journal: string}> {
	const l = lane.lab();
	const audit = await l.exec('mx', ['dpkg', '--audit']);
	const journal = await l.exec('mx', ['sh', '-c', 'ls -A /var/lib/dpkg/updates']);
	return {audit: audit.stdout.trim(), journal: journal.stdout.trim()};
}

async function stepsDone(lane: Lane): Promise<string[]> {
	const r = await lane.lab().exec('mx', ['cat', `${STATE}/state.json`]);
	if (r.exitCode !== 0) return [];
	const s = JSON.parse(r.stdout) as {steps?: Record<string, {done?: boolean}>};
	return Object.entries(s.steps ?? {})
		.filter(([, v]) => v.done)
		.map(([k]) => k);
}

/** Waits until dpkg runs in the mx (it unpacks), then kills the wizard, apt and dpkg at once. */
async function killWhenDpkgRuns(t: ExecutionContext, lane: Lane): Promise<boolean> {
	const l = lane.lab();
	const end = Date.now() + 4 * 60_000;
	while (Date.now() < end) {
		const dpkg = await l.exec('mx', ['sh', '-c', pidofHere('dpkg')]);
		if (dpkg.exitCode === 0) {
			await new Promise((r) => setTimeout(r, 300)); // into the unpacking
			const all = await l.exec('mx', ['sh', '-c', `${pidofHere('node', 'apt-get', 'dpkg', 'dpkg-deb', 'http')}; true`]);
			const pids = all.stdout.trim();
			t.log(`killing ${pids} (node, apt-get, dpkg, its helpers) while dpkg runs`);
			await l.exec('mx', ['sh', '-c', `kill -9 ${pids}`]);
			return true;
		}
		await new Promise((r) => setTimeout(r, 50));
	}
	return false;
}

export function aptFaults(lane: Lane): void {
	test.serial("20: apt fails midway (the mirror gone after the first package): exit 1 naming apt's error, what to do, nothing half-installed or held, nothing after the packages", async (t) => {
		t.timeout(5 * 60_000);
		const l = lane.lab();
		await l.writeFile('mx', FAIL_FILE, '1\n');
		try {
			const r = await lane.wizard(t, lane.WIZARD, 'wizard run with the mirror gone midway');
			t.log(tail(r.stdout, 14));
			t.is(r.exitCode, 1);
			t.regex(r.stdout, /ERROR in step packages: command failed with exit code 100: E: Failed to fetch http:\/\/\S+\.deb +503 /);
			t.regex(r.stdout, /Nothing was left half-installed by this command\. Check the network and the mirror/);
			t.deepEqual(await dpkgClean(lane), {audit: '', journal: ''}, 'dpkg has nothing half-done');
			t.is((await l.exec('mx', ['apt-mark', 'showhold'])).stdout.trim(), '', 'nothing held');
			t.deepEqual(await stepsDone(lane), ['preflight'], 'the packages stage is not done, and nothing after it ran');
			t.not((await l.exec('mx', ['test', '-e', '/etc/smtpd.conf'])).exitCode, 0, 'no mail configuration written');
		} finally {
			await l.exec('mx', ['rm', '-f', FAIL_FILE]);
		}
	});

	test.serial('20: a run killed while dpkg unpacks (the wizard, apt and dpkg at once): the next runs finish what dpkg left and converge', async (t) => {
		t.timeout(8 * 60_000);
		const run = lane.wizard(t, lane.WIZARD, 'wizard run killed mid-apt');
		const killed = await killWhenDpkgRuns(t, lane);
		const r = await run;
		t.true(killed, `dpkg never ran: ${tail(r.stdout, 10)}`);
		t.not(r.exitCode, 0, 'the run did not finish');
		t.not(r.exitCode, 75, 'the run did not reach the DNS wait');
		const left = await dpkgClean(lane);
		t.log(`after the kill: dpkg --audit: ${left.audit.split('\n')[0] || '(clean)'}; journal: ${left.journal || '(empty)'}`);
		const dry = await lane.lab().exec('mx', [lane.NODE, ...lane.WIZARD.slice(1).filter((a) => a !== '--yes'), '--dry-run'], {env: {NO_COLOR: '1', TERM: 'dumb'}});
		const packages = dry.stdout.slice(dry.stdout.indexOf('Packages:'), dry.stdout.indexOf('The vmail user'));
		t.log(packages.split('\n').slice(0, 12).join('\n'));
		if (left.journal) t.regex(packages, /\$ .*dpkg --configure -a/, 'the interrupted install is finished first');
		t.regex(packages, /apt-get install/, 'what is missing is installed again');
	});
}
