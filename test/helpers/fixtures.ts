import {mkdtempSync, mkdirSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {validateAnswers, type Answers} from '../../source/answers.ts';
import type {ExpectedRecord} from '../../source/dns/types.ts';
import type {Host} from '../../source/platform/host.ts';
import type {Profile} from '../../source/platform/profile.ts';

export const RAW = {
	domain: 'example.test',
	hostname: 'mail.example.test',
	ipv4: '192.0.2.10',
	tls: {cert: '/etc/ssl/certs/mail.pem', key: '/etc/ssl/private/mail.key'},
	users: [
		{name: 'alice', password_hash: '{CRYPT}$y$j9T$abc$def'},
		{name: 'bob', password_hash: '{CRYPT}$y$j9T$ghi$jkl'},
	],
	dmarc: {policy: 'reject', rua: 'postmaster@example.test'},
};

export function answers(over: Record<string, unknown> = {}): Answers {
	return validateAnswers({...RAW, ...over});
}

export const DEBIAN12: Profile = {
	id: 'debian',
	version: '12',
	codename: 'bookworm',
	supported: true,
	dovecot: '2.3',
	dovecotVersion: '2.3.19.1',
	init: 'sysv',
	node: process.versions.node,
	source: 'target',
};
/** The machine the stages see in unit tests (ctx.host): 2 GiB, called "mail", loopback only. */
export const HOST: Host = {memBytes: 2 * 1024 ** 3, hostname: 'mail', interfaces: {lo: [{address: '127.0.0.1'}, {address: '::1'}]}};
export const DEBIAN13: Profile = {...DEBIAN12, version: '13', codename: 'trixie', dovecot: '2.4', dovecotVersion: '2.4.1'};

/** A scratch root with the files the steps read (passwd, group, os-release). */
export function scratchRoot(): string {
	const root = mkdtempSync(join(tmpdir(), 'mw-root-'));
	mkdirSync(join(root, 'etc'), {recursive: true});
	writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n_rspamd:x:107:110::/var/lib/rspamd:/usr/sbin/nologin\n');
	writeFileSync(join(root, 'etc/group'), 'root:x:0:\ndovecot:x:0:\nopensmtpd:x:0:\n_rspamd:x:0:\n');
	writeFileSync(join(root, 'etc/os-release'), 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n');
	return root;
}

/** A publishable record of example.com, for screens and reports in tests. */
export const record = (kind: ExpectedRecord['kind'], type: ExpectedRecord['type'], host: string, value: string, strings?: string[]): ExpectedRecord => ({
	kind,
	type,
	host,
	name: host === '@' ? 'example.com' : `${host}.example.com`,
	zone: 'example.com',
	ttl: 3600,
	value,
	strings,
	publishable: true,
});
