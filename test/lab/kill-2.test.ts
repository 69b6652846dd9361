// Killed at every action (issue 20), the second half of the boundaries and kills mid daemon start:
// test/lab/kill/lane.ts. Its twin, test/lab/kill-1.test.ts, runs in the other lab slot.
import {killLane} from './kill/lane.ts';

killLane(2);
