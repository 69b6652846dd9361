// The ACME lane (test/lab/acme-lane.ts) on Debian 13: the mx on a fresh overlay of the cached
// Debian 13 root with certbot, nginx and cron (test/lab/acme-debian13-root.ts), the wizard under
// Debian 13's own node; Pebble on the remote host as in the Debian 12 lane.
// Needs root, `ip netns`, pebble, certbot, nginx, curl on the machine; otherwise skipped.
import test from 'ava';
import {acmeLane} from './acme-lane.ts';
import {acmeUnavailable} from './acme.ts';
import {acmeTrixieRoot} from './acme-debian13-root.ts';
import {LOCK_WAIT_MS, TRIXIE_NODE, upTrixieLab} from './debian13/lane.ts';
import {labUnavailable} from './lab.ts';

const unavailable = (await labUnavailable()) ?? (await acmeUnavailable());
const root = unavailable ? undefined : await acmeTrixieRoot();

if (unavailable) {
	test.skip(`lab (ACME with Pebble, the wizard end to end, Debian 13) skipped: ${unavailable}`, () => {});
} else if (!root || 'error' in root) {
	test.skip(`lab (ACME with Pebble, Debian 13) skipped: the Debian 13 root cannot be built: ${root && 'error' in root ? root.error : '?'}`, () => {});
} else {
	acmeLane({
		file: 'test/lab/acme-debian13.test.ts',
		node: TRIXIE_NODE,
		up: (log) => {
			log(`Debian 13 root ${root.dir} (${root.cold ? 'built' : 'cached'} in ${root.ms} ms): ${JSON.stringify(root.packages)}`);
			return upTrixieLab(root.dir, log);
		},
		packagesNote: 'the Debian 13 root has opensmtpd installed',
		setupTimeoutMs: LOCK_WAIT_MS + 120_000,
	});
}
