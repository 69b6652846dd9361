// The wizard's DNS check: every record, every authoritative server, all zones in parallel.
import {checkRecords} from '../dns/check.ts';
import type {CheckReport, ExpectedRecord} from '../dns/types.ts';

export function checkAllZones(records: readonly ExpectedRecord[], resolvers: readonly string[], signal?: AbortSignal): Promise<CheckReport> {
	return checkRecords(records, {resolvers, signal});
}
