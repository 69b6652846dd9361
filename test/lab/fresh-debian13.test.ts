// The fresh lane on Debian 13 (today's stable): a bare trixie (test/lab/fresh/root.ts), no
// mail package, no systemd running, and, as in Debian's Docker images, a policy-rc.d that
// keeps every postinst from starting its daemon (the wizard starts them). The wizard's package step installs OpenSMTPD 7.6, the
// filter, Dovecot 2.4 and Rspamd from trixie itself (no backports, no hold), apt replaying
// Debian's answers recorded when the root was built; then every send/receive/refuse assertion.
import {freshLane} from './fresh/lane.ts';

await freshLane({file: 'test/lab/fresh-debian13.test.ts', title: 'fresh Debian 13, packages installed by the wizard', codename: 'trixie', docker: true});
