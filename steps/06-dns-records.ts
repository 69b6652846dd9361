import type {Step} from '../source/engine/types.ts';
import {readDkimKey, recordsFor, type DkimKey} from '../source/mail/dkim.ts';

export const dnsRecords: Step<Pick<DkimKey, 'publicKeyDer' | 'also'>> = {
	id: 'dns-records',
	title: 'DNS records to publish (configuration goes on while they propagate)',
	summary: 'shows MX, SPF, DKIM, DMARC and the reverse DNS to ask your provider for',
	// The records are built from the DKIM key on disk (its public half).
	async facts(ctx, a) {
		const key = await readDkimKey(ctx, a);
		return {publicKeyDer: key.publicKeyDer, also: key.also};
	},
	plan(a, f) {
		const records = recordsFor(a, f);
		return [
			{
				kind: 'notice',
				level: 'records',
				title: `Publish these records in the DNS zone of ${a.domain} now (run "mailwizard dns --zone" for a zone-file fragment)`,
				lines: [],
				records,
			},
		];
	},
};
