// ACME in the lab (issue 16), the wizard end to end: Pebble (Let's Encrypt's test ACME server) on
// the remote host, the real CLI on the mx with tls.acme pointing at it (ca_bundle: the lab CA that
// signed Pebble's HTTPS). The wizard installs nothing new here (the mx sees the machine's certbot
// and nginx), waits for the names in the lab DNS, lets certbot order over http-01 — validated by
// Pebble against the mx for real — and configures OpenSMTPD, Dovecot and nginx on the certificate
// (one DNS round: the DKIM key is made before the names wait, so that wait's zone has every record).
// Then: 25 (STARTTLS), 465, 587 (STARTTLS), 993 and 443 serve it and only Pebble's root verifies
// it; the MTA-STS policy and autoconfig are fetched over HTTPS from the remote host; every send,
// receive and refuse assertion of the other lanes; `mailwizard renew --force` makes every port
// serve a new serial within seconds; Debian's cron entry renews from the private directory by
// itself; and the failures: the directory unreachable (exit 1), a name pointing elsewhere
// (exit 75, the DNS wait), port 80 held by another program (exit 1) — nothing written by them.
// Needs root, `ip netns`, pebble, certbot, nginx (.ci/install-packages.sh); otherwise skipped.
import test from 'ava';
import {acmeLane} from './acme-lane.ts';
import {acmeUnavailable} from './acme.ts';
import {Lab, labUnavailable} from './lab.ts';

const unavailable = (await labUnavailable()) ?? (await acmeUnavailable());

if (unavailable) {
	test.skip(`lab (ACME with Pebble, the wizard end to end, Debian 12) skipped: ${unavailable}`, () => {});
} else {
	acmeLane({
		file: 'test/lab/acme.test.ts',
		node: process.execPath.startsWith('/usr/') ? process.execPath : '/usr/bin/node',
		up: (log) => Lab.up({log}),
		packagesNote: "the mx sees the machine's packages",
	});
}
