// The registry: the guide's stages in walk order, one file each. It is the only list: the
// package stage, the services, "status", the step list and the tests read the stages from here.
import type {Step} from '../source/engine/types.ts';
import {preflight} from './01-preflight.ts';
import {packages} from './02-packages.ts';
import {vmail} from './03-vmail.ts';
import {dkim} from './04-dkim.ts';
import {acme} from './05-acme.ts';
import {tls} from './05-tls.ts';
import {dnsRecords} from './06-dns-records.ts';
import {dovecot} from './07-dovecot.ts';
import {rspamd} from './08-rspamd.ts';
import {opensmtpd} from './09-opensmtpd.ts';
import {spam} from './12-spam.ts';
import {bans} from './13-bans.ts';
import {dnsWait} from './10-dns-wait.ts';
import {schedule} from './15-schedule.ts';
import {finish} from './11-finish.ts';

// The DKIM key is made before the ACME stage waits for its names: the records printed at that
// wait (dns --zone) hold the DKIM record too, so a first setup publishes its DNS once.
export const STEPS: readonly Step<any>[] = [preflight, packages, vmail, dkim, acme, tls, dnsRecords, dovecot, rspamd, opensmtpd, spam, bans, dnsWait, schedule, finish];
