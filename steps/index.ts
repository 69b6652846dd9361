// The guide's stages in walk order.
import type {Step} from '../source/engine/types.ts';
import {preflight} from './01-preflight.ts';
import {packages} from './02-packages.ts';
import {vmail} from './03-vmail.ts';
import {tls} from './04-tls.ts';
import {dkim} from './05-dkim.ts';
import {dnsRecords, dnsWait} from './06-dns-records.ts';
import {dovecot} from './07-dovecot.ts';
import {rspamd} from './08-rspamd.ts';
import {opensmtpd} from './09-opensmtpd.ts';
import {finish} from './11-finish.ts';

export const STEPS: readonly Step<any>[] = [preflight, packages, vmail, tls, dkim, dnsRecords, dovecot, rspamd, opensmtpd, dnsWait, finish];
