import type {Step} from '../source/engine/types.ts';
import {readDkimKey, recordsFor, type DkimKey} from '../source/mail/dkim.ts';

export const dnsWait: Step<Pick<DkimKey, 'publicKeyDer' | 'also'>> = {
	id: 'dns-wait',
	title: 'Waiting for DNS: the records on every authoritative server',
	summary: 'checks every record on every authoritative server until all agree',
	waitsForDns: true,
	// The same records as dns-records, from the DKIM key on disk.
	async facts(ctx, a) {
		const key = await readDkimKey(ctx, a);
		return {publicKeyDer: key.publicKeyDer, also: key.also};
	},
	plan(a, f) {
		const records = recordsFor(a, f).filter((r) => r.publishable);
		return [{kind: 'wait', domain: a.domain, records, why: 'mail is only trusted once MX, SPF, DKIM and DMARC are visible'}];
	},
};
