// The README's quick start, word for word, as root on a fresh Debian 13 without node (issue 15).
// See test/lab/quickstart/lane.ts.
import {quickstartLane} from './quickstart/lane.ts';

await quickstartLane('trixie');
