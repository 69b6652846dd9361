// Killed at every action (issue 20), the first half of the boundaries and a power cut:
// test/lab/kill/lane.ts. Its twin, test/lab/kill-2.test.ts, runs in the other lab slot.
import {killLane} from './kill/lane.ts';

killLane(1);
