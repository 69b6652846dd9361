// End to end on Debian 12 (issues 5 and 9): mailwizard configures the lab's mx host, the lab
// publishes its DNS records, and real clients on the remote host send, receive and get refused.
// Needs root and `ip netns`; otherwise skipped with the reason in the test title.
// Layout and helpers: test/lab/lab.ts; the assertions (shared with the Debian 13 lane):
// test/lab/assertions.ts; the protocol clients: test/lab/client.py.
import test from 'ava';
import {Lab, labUnavailable} from './lab.ts';
import {makeLane} from './assertions.ts';
import {security} from './security.ts';
import {ipv6} from './ipv6.ts';
import {doctor} from './doctor.ts';
import {robust} from './robust.ts';
import {defence} from './defence.ts';

const unavailable = await labUnavailable();

if (unavailable) {
	test.skip(`lab (Debian 12, end to end) skipped: ${unavailable}`, () => {});
} else {
	const lane = makeLane({
		file: 'test/lab/debian12.test.ts',
		node: process.execPath.startsWith('/usr/') ? process.execPath : '/usr/bin/node',
		up: (log) => Lab.up({log}),
		packagesNote: "the mx sees the machine's packages",
	});
	// all() in the order of its parts, with the security checks of issue 14 and the refused
	// configuration of issue 20 before the cleanup.
	lane.hooks();
	lane.labChecks();
	lane.wizardRuns();
	lane.send();
	lane.receive();
	lane.refuse();
	ipv6(lane);
	security(lane);
	doctor(lane);
	robust(lane);
	defence(lane);
	lane.cleanup();
}
