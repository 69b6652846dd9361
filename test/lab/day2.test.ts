// The day-two lane (issue 17, Debian 12): the wizard sets the server up, then the day-two
// commands (test/lab/day2.ts) and the key rotations (test/lab/rotate.ts), with both domains.
// The Debian 13 lane runs the same day2() and rotation() on its own set-up server.
import test from 'ava';
import {makeLane} from './assertions.ts';
import {Lab, labUnavailable} from './lab.ts';
import {day2} from './day2.ts';
import {rotation} from './rotate.ts';

const unavailable = await labUnavailable();

if (unavailable) {
	test.skip(`lab (day2) skipped: ${unavailable}`, () => {});
} else {
	const lane = makeLane({
		file: 'test/lab/day2.test.ts',
		node: process.execPath.startsWith('/usr/') ? process.execPath : '/usr/bin/node',
		up: (log) => Lab.up({log}),
		packagesNote: "the mx sees the machine's packages",
	});
	lane.hooks();
	lane.wizardRuns();
	day2(lane);
	// Key rotation (issue 21) on the same set-up server: no second setup in CI.
	rotation(lane);
	lane.cleanup();
}
