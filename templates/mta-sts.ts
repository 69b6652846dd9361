// The MTA-STS policy (RFC 8461 section 3.2) and the id of its _mta-sts TXT record. Pure.
import {createHash} from 'node:crypto';

export type MtaStsMode = 'testing' | 'enforce' | 'none';

export type MtaStsVars = {
	readonly mode: MtaStsMode;
	/** The MX host names senders may deliver to (patterns such as *.example.com allowed). */
	readonly mx: readonly string[];
	/** Seconds a sender caches the policy; RFC 8461 allows up to 31557600. */
	readonly maxAge: number;
};

/** A week once enforced, a day while testing (a wrong policy is corrected quickly). */
export function defaultMaxAge(mode: MtaStsMode): number {
	return mode === 'enforce' ? 604_800 : 86_400;
}

/** The policy file, CRLF line ends (the RFC's ABNF), served as text/plain. */
export function mtaStsPolicyText(v: MtaStsVars): string {
	if (v.mode !== 'none' && v.mx.length === 0) throw new Error('mtaStsPolicyText: a policy in testing or enforce mode needs an mx');
	if (!Number.isInteger(v.maxAge) || v.maxAge < 0 || v.maxAge > 31_557_600) throw new Error(`mtaStsPolicyText: max_age ${v.maxAge} is not in 0..31557600`);
	return ['version: STSv1', `mode: ${v.mode}`, ...v.mx.map((m) => `mx: ${m}`), `max_age: ${v.maxAge}`, ''].join('\r\n');
}

/**
 * The id of the TXT record (`v=STSv1; id=...`): derived from the policy's content, so it
 * changes exactly when the policy does and a re-run of the same answers keeps it. 20 hex
 * digits of its SHA-256 (within [A-Za-z0-9]{1,32}).
 */
export function mtaStsPolicyId(policy: string): string {
	return createHash('sha256').update(policy).digest('hex').slice(0, 20);
}
