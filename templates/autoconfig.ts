// Thunderbird's autoconfig file (config-v1.1.xml), served at
// https://autoconfig.DOMAIN/mail/config-v1.1.xml: IMAP on 993 (TLS), SMTP submission on 465
// (TLS) and 587 (STARTTLS), the full address as user name. Pure.

export type AutoconfigVars = {
	/** The mail domain the file is for (the part after @ of the addresses). */
	readonly domain: string;
	/** The server's host name (the name on its certificate). */
	readonly hostname: string;
};

function xml(s: string): string {
	return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function server(kind: 'incomingServer' | 'outgoingServer', type: string, host: string, port: number, socket: string): string {
	return `    <${kind} type="${type}">
      <hostname>${host}</hostname>
      <port>${port}</port>
      <socketType>${socket}</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </${kind}>`;
}

export function autoconfigXml(v: AutoconfigVars): string {
	const d = xml(v.domain);
	const h = xml(v.hostname);
	return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Managed by mailwizard. -->
<clientConfig version="1.1">
  <emailProvider id="${d}">
    <domain>${d}</domain>
    <displayName>${d}</displayName>
    <displayShortName>${d}</displayShortName>
${server('incomingServer', 'imap', h, 993, 'SSL')}
${server('outgoingServer', 'smtp', h, 465, 'SSL')}
${server('outgoingServer', 'smtp', h, 587, 'STARTTLS')}
  </emailProvider>
</clientConfig>
`;
}
