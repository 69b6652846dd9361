// /etc/rspamd/local.d/dkim_signing.conf as the guide sets it, one key per domain.
export function dkimSigningConf(domains: ReadonlyArray<{domain: string; selector: string; path: string}>): string {
	const blocks = domains.map((d) => `  ${d.domain} {\n    path = "${d.path}";\n    selector = "${d.selector}";\n  }`).join('\n');
	return `# Managed by mailwizard.
# Only mail from an authenticated user is signed: smtpd's sendas table has already
# checked that the user owns the envelope sender, and masquerade made the From header
# match it. Mail from private or local addresses without a login is not signed.
sign_authenticated = true;
sign_local = false;
sign_inbound = false;
# Rspamd's own user check compares domains only (alice@a may sign for bob@a) and refuses
# a bare login ("alice") and the extra domains: who sends as whom is smtpd's job.
allow_username_mismatch = true;

domain {
${blocks}
}
`;
}

export function dkimKeyPath(domain: string, selector: string): string {
	return `/etc/rspamd/dkim/${domain}.${selector}.key`;
}
