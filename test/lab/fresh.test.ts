// End to end from nothing (issues 3 and 5): the mx is a bare Debian 12 (test/lab/fresh/root.ts)
// with none of the mail packages and no policy-rc.d, and no systemd running (as in a
// container): every postinst starts its daemon from its init script. The wizard's package
// step runs for real — apt-get update, bookworm-backports for OpenSMTPD 7.x, the one-time
// trixie download of the filter and its hold, dovecot and rspamd from bookworm — with apt
// going through a proxy inside the mx that replays Debian's own answers recorded when the
// root was built. Then every send/receive/refuse assertion of the other lanes.
import {freshLane} from './fresh/lane.ts';

await freshLane({file: 'test/lab/fresh.test.ts', title: 'fresh Debian 12, packages installed by the wizard', codename: 'bookworm', aptFaults: true});
