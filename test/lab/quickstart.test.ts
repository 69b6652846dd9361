// The README's quick start, word for word, as root on a fresh Debian 12 without node (issue 15):
// apt, git clone, npm ci (offline, from the root's npm cache), the wizard's first screen. See
// test/lab/quickstart/lane.ts.
import {quickstartLane} from './quickstart/lane.ts';

await quickstartLane('bookworm');
