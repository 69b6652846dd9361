// The nginx site mailwizard owns: port 80 serves the ACME http-01 challenges (and sends
// everything else to https), port 443 serves the MTA-STS policy and the client autoconfig
// file, each name in its own server block with only its one file. Pure.
import {ACME_PATHS} from './acme.ts';

export const NGINX_PATHS = {
	/** Debian's layout: the site in sites-available, enabled by a symlink in sites-enabled. */
	site: '/etc/nginx/sites-available/mailwizard',
	enabled: '/etc/nginx/sites-enabled/mailwizard',
	/** The files served on 443, one directory per name (www/NAME/...). */
	www: '/var/www/mailwizard',
} as const;

/** Where the policy of DOMAIN is served from (https://mta-sts.DOMAIN/.well-known/mta-sts.txt). */
export function mtaStsFile(domain: string): string {
	return `${NGINX_PATHS.www}/mta-sts.${domain}/.well-known/mta-sts.txt`;
}

/** Where the autoconfig file of DOMAIN is served from (https://autoconfig.DOMAIN/mail/config-v1.1.xml). */
export function autoconfigFile(domain: string): string {
	return `${NGINX_PATHS.www}/autoconfig.${domain}/mail/config-v1.1.xml`;
}

export type NginxVars = {
	/** Every name of the certificate (the host name, mta-sts.*, autoconfig.*): port 80 answers for them. */
	readonly names: readonly string[];
	/** Domains whose MTA-STS policy is served. */
	readonly mtaSts: readonly string[];
	/** Domains whose autoconfig file is served. */
	readonly autoconfig: readonly string[];
	/** The certificate, once it exists: until then only port 80 (for the first order) is configured. */
	readonly tls?: {readonly cert: string; readonly key: string};
	/** Listen on IPv6 too (the server has a public IPv6 address). */
	readonly ipv6: boolean;
};

const HEADER = `# Managed by mailwizard. Changes here are replaced on the next run:
# change the answers instead.
`;

function listen(port: string, ipv6: boolean): string {
	return ipv6 ? `\tlisten ${port};\n\tlisten [::]:${port};\n` : `\tlisten ${port};\n`;
}

function port80(v: NginxVars): string {
	const rest = v.tls ? '\t\treturn 301 https://$host$request_uri;' : '\t\treturn 404;';
	return `server {
${listen('80', v.ipv6)}	server_name ${v.names.join(' ')};
	# certbot (webroot mode) answers the http-01 challenges from here.
	location ^~ /.well-known/acme-challenge/ {
		root ${ACME_PATHS.webroot};
		default_type text/plain;
		try_files $uri =404;
	}
	location / {
${rest}
	}
}
`;
}

/** One 443 server: NAME serves the single file at URI_PATH from its own directory, with TYPE. */
function port443(v: NginxVars, tls: NonNullable<NginxVars['tls']>, name: string, uriPath: string, type: string): string {
	return `server {
${listen('443 ssl', v.ipv6)}	server_name ${name};
	ssl_certificate ${tls.cert};
	ssl_certificate_key ${tls.key};
	ssl_protocols TLSv1.2 TLSv1.3;
	root ${NGINX_PATHS.www}/${name};
	location = ${uriPath} {
		types { }
		default_type "${type}";
		try_files $uri =404;
	}
	location / {
		return 404;
	}
}
`;
}

export function nginxSite(v: NginxVars): string {
	if (v.names.length === 0) throw new Error('nginxSite: no names');
	const parts = [HEADER, port80(v)];
	if (v.tls) {
		for (const d of v.mtaSts) parts.push(port443(v, v.tls, `mta-sts.${d}`, '/.well-known/mta-sts.txt', 'text/plain; charset=utf-8'));
		for (const d of v.autoconfig) parts.push(port443(v, v.tls, `autoconfig.${d}`, '/mail/config-v1.1.xml', 'application/xml; charset=utf-8'));
	}
	return parts.join('\n');
}
