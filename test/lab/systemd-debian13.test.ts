// The bare Debian 13 of fresh-debian13.test.ts booted with systemd as PID 1 (systemd-nspawn):
// Dovecot 2.4, OpenSMTPD 7.6 and Rspamd 3.12 installed and started as units by the wizard.
import {freshLane} from './fresh/lane.ts';

await freshLane({file: 'test/lab/systemd-debian13.test.ts', title: 'Debian 13 booted with systemd', codename: 'trixie', boot: 'systemd'});
