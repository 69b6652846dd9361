// /etc/rspamd/local.d/dkim_signing.conf as the guide sets it, one key per domain.
export function dkimSigningConf(domains: ReadonlyArray<{domain: string; selector: string; path: string}>): string {
	const blocks = domains.map((d) => `  ${d.domain} {\n    path = "${d.path}";\n    selector = "${d.selector}";\n  }`).join('\n');
	return `# Managed by mailwizard.
# smtpd tells Rspamd the user name without the domain: allow the mismatch.
allow_username_mismatch = true;

domain {
${blocks}
}
`;
}

export function dkimKeyPath(domain: string, selector: string): string {
	return `/etc/rspamd/dkim/${domain}.${selector}.key`;
}
