// The bare Debian 12 of fresh.test.ts booted with systemd as PID 1 (systemd-nspawn in the
// lab's mx namespaces): a server as on a VM. The package step's postinsts start their
// units, the wizard drives systemctl (daemon-reload, enable --now, restart), OpenSMTPD
// gets its drop-in; then every send/receive/refuse assertion of the other lanes.
import {freshLane} from './fresh/lane.ts';

await freshLane({file: 'test/lab/systemd.test.ts', title: 'Debian 12 booted with systemd', codename: 'bookworm', boot: 'systemd'});
