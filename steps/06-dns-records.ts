import type {Answers} from '../source/answers.ts';
import {buildRecords} from '../source/dns/records.ts';
import type {ExpectedRecord} from '../source/dns/types.ts';
import type {Ctx, Step} from '../source/engine/types.ts';
import {readDkimKey} from './05-dkim.ts';

export type RecordFacts = {readonly publicKeyDer?: Buffer};

export function recordsFor(a: Answers, f: RecordFacts): ExpectedRecord[] {
	return buildRecords(a, {publicKeyDer: f.publicKeyDer});
}

/** The records are built from the DKIM key on disk (its public half). */
async function recordFacts(ctx: Ctx, a: Answers): Promise<RecordFacts> {
	return {publicKeyDer: (await readDkimKey(ctx, a)).publicKeyDer};
}

export const dnsRecords: Step<RecordFacts> = {
	id: 'dns-records',
	title: 'DNS records to publish (configuration goes on while they propagate)',
	summary: 'shows MX, SPF, DKIM, DMARC and the reverse DNS to ask your provider for',
	facts: recordFacts,
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

export const dnsWait: Step<RecordFacts> = {
	id: 'dns-wait',
	title: 'Waiting for the DNS records on every authoritative server',
	summary: 'checks every record on every authoritative server until all agree',
	facts: recordFacts,
	plan(a, f) {
		const records = recordsFor(a, f).filter((r) => r.publishable);
		return [{kind: 'wait', domain: a.domain, records, why: 'mail is only trusted once MX, SPF, DKIM and DMARC are visible'}];
	},
};
