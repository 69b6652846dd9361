// Records mailwizard asks the operator to publish, and what the live checks saw.

export type RecordKind = 'mx' | 'spf' | 'dkim' | 'dmarc' | 'a' | 'aaaa' | 'ptr' | 'mta-sts' | 'mta-sts-host' | 'autoconfig-host' | 'tlsrpt';

export type ExpectedRecord = {
	readonly kind: RecordKind;
	readonly type: 'MX' | 'TXT' | 'A' | 'AAAA' | 'PTR' | 'CNAME';
	/** Fully qualified name, lower case, without the trailing dot. */
	readonly name: string;
	/** Name relative to the zone ("@" for the apex, "mail._domainkey"). */
	readonly host: string;
	/** The zone the record belongs in (the mail domain, or a reverse zone for PTR). */
	readonly zone: string;
	readonly ttl: number;
	/**
	 * The value. MX: "10 mail.example.com." ; TXT: the whole string, unsplit;
	 * A/AAAA: the address; PTR: the target FQDN with trailing dot.
	 */
	readonly value: string;
	/** TXT only: the value split into <=255-byte character-strings. */
	readonly strings?: readonly string[];
	/** False for records the operator asks someone else for (PTR: the address's provider). */
	readonly publishable: boolean;
	/** Who publishes it, when not the operator's zone. */
	readonly note?: string;
	/**
	 * Set when the value is not final yet (the DKIM key is generated at apply time):
	 * says why. The value then holds a placeholder; do not publish it as it is.
	 */
	readonly pending?: string;
};

export type RecordState = 'ok' | 'missing' | 'wrong' | 'unreachable';

export type ServerResult = {
	/** "ns1.example.com (192.0.2.53)" */
	readonly server: string;
	readonly state: RecordState;
	/** What was found when wrong, or the error when unreachable. */
	readonly detail?: string;
	readonly ttl?: number;
};

export type RecordCheck = {
	readonly record: ExpectedRecord;
	readonly results: readonly ServerResult[];
	/** ok only when every server answered ok. */
	readonly state: RecordState;
};

export type CheckReport = {
	readonly zone: string;
	readonly servers: readonly string[];
	readonly checks: readonly RecordCheck[];
	/** Every publishable record is ok on every server. */
	readonly complete: boolean;
	/** How long a resolver may cache a "no such record" answer (SOA minimum), seconds. */
	readonly negativeTtl?: number;
	/** Zone-level problems: servers disagree on the serial, lame delegation, ... */
	readonly problems: readonly string[];
	readonly durationMs: number;
};

export type CheckOptions = {
	/** "IP" or "IP:PORT" ("[v6]:PORT"); used to find the zone apex and its NS addresses. */
	readonly resolvers: readonly string[];
	/** Time to wait for one UDP answer, ms (default 1500). */
	readonly timeoutMs?: number;
	/** Attempts per query, the first included (default 2); a timed-out query is sent again. */
	readonly retries?: number;
	/** Port used to ask the authoritative servers (53 unless testing). */
	readonly authPort?: number;
	/** Stops the check promptly (pending queries are abandoned; the check rejects with the abort reason). */
	readonly signal?: AbortSignal;
};
