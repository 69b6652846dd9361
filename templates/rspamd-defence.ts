// Rspamd's inbound defence beyond DKIM: Bayes (learning in Redis) and greylisting.
// The verdict reaches OpenSMTPD through filter-rspamd: `reject` → 550 at the end of DATA,
// `soft reject` (greylisting) → 451, `add header` → the message is delivered with
// `X-Spam: yes` (filter-rspamd writes that header itself), which Sieve files into Junk.

export const RSPAMD_DEFENCE_PATHS = {
	bayes: '/etc/rspamd/local.d/classifier-bayes.conf',
	greylist: '/etc/rspamd/local.d/greylist.conf',
} as const;

/**
 * local.d/classifier-bayes.conf: Bayes in Redis (the global servers of local.d/redis.conf),
 * learning on its own from clear verdicts, and from the users through IMAPSieve (rspamc).
 */
export function bayesConf(): string {
	return `# Managed by mailwizard. Bayes in Redis (servers from local.d/redis.conf).
backend = "redis";
# Learn from clear verdicts (spam over the reject score, ham under a negative score)
# as well as from what users move into and out of Junk.
autolearn = true;
# One Bayes for the whole server (users of one server get much the same mail).
per_user = false;
`;
}

/**
 * local.d/greylist.conf. Rspamd greylists by itself once it has Redis, so the answer is
 * written either way: off by default (greylisting delays the first mail of every new sender).
 * Authenticated submissions and local senders are never greylisted (Rspamd's defaults).
 */
export function greylistConf(enabled: boolean): string {
	if (!enabled) {
		return `# Managed by mailwizard. Greylisting is off (answer greylisting: false).
enabled = false;
`;
	}
	return `# Managed by mailwizard. Greylisting is on (answer greylisting: true): a first message
# from an unknown sender whose score reaches the greylist threshold is answered 451 and
# accepted when the sender retries after 5 minutes.
enabled = true;
timeout = 5min;
check_local = false;
check_authed = false;
`;
}
