import {readdir} from 'node:fs/promises';
import type {Answers} from '../source/answers.ts';
import {dpkgVersions, versionAtLeast} from '../source/engine/facts.ts';
import {onRoot, readText} from '../source/engine/files.ts';
import type {Action, Cmd, Step} from '../source/engine/types.ts';
import type {Profile} from '../source/platform/profile.ts';

export const PACKAGES = ['opensmtpd', 'opensmtpd-filter-rspamd', 'dovecot-core', 'dovecot-imapd', 'dovecot-lmtpd', 'rspamd', 'ca-certificates'] as const;
/** Debian 12: smtpd 6.8 fails every TLS handshake with OpenSSL 3; filter 0.1.7 never signs. */
export const MIN = {opensmtpd: '7.4', filter: '0.1.8'} as const;
export const TRIXIE_DIR = '/var/cache/mailwizard/trixie';
export const BACKPORTS_FILE = '/etc/apt/sources.list.d/mailwizard-bookworm-backports.sources';

export type PackageFacts = {
	readonly versions: Readonly<Record<string, string | undefined>>;
	/** A bookworm-backports source is configured. */
	readonly backports: boolean;
	/** The Debian mirror apt already uses for the main suite. */
	readonly mirror: string;
	/** mailwizard's own bookworm-backports source is present (left over after an upgrade to 13). */
	readonly ourBackports?: boolean;
	/** Packages on hold (apt-mark showhold). */
	readonly held?: readonly string[];
};

/** Reads one-line and deb822 apt sources: the mirror serving `codename`, and whether backports is there. */
export function parseSources(texts: readonly string[], codename: string): {mirror?: string; backports: boolean} {
	let mirror: string | undefined;
	let backports = false;
	const consider = (uri: string, suites: string[]) => {
		if (suites.includes(`${codename}-backports`)) backports = true;
		if (!mirror && suites.includes(codename) && !/security/.test(uri) && /\/debian\/?$/.test(uri)) mirror = uri.replace(/\/$/, '');
	};
	for (const text of texts) {
		for (const line of text.split('\n')) {
			const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
			if (m) consider(m[1]!, [m[2]!]);
		}
		for (const stanza of text.split(/\n\s*\n/)) {
			const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
			if (!field('Types').includes('deb') || /^Enabled:\s*no/im.test(stanza)) continue;
			for (const uri of field('URIs')) consider(uri, field('Suites'));
		}
	}
	return {mirror, backports};
}

const APT_ENV = {DEBIAN_FRONTEND: 'noninteractive'} as const;

// daemon: on a host without systemd, a package's postinst starts its daemon from an init
// script, and the daemon keeps whatever output it was given (see engine/exec.ts).
function apt(...args: string[]): Cmd {
	return {argv: ['apt-get', ...args], env: APT_ENV, daemon: true};
}

function trixieOpts(): string[] {
	return [
		'-o',
		`Dir::Etc::SourceList=${TRIXIE_DIR}/sources.list`,
		'-o',
		'Dir::Etc::SourceParts=/nonexistent',
		'-o',
		`Dir::State::Lists=${TRIXIE_DIR}/lists`,
		'-o',
		`Dir::Cache::Archives=${TRIXIE_DIR}/archives`,
		'-o',
		'APT::Sandbox::User=root',
	];
}

export const packages: Step<PackageFacts> = {
	id: 'packages',
	title: 'Packages: OpenSMTPD, Dovecot, Rspamd',
	summary: 'installs the mail server packages that work on this release',
	inputs: (a) => ({hostname: a.hostname}),
	async facts(ctx) {
		const versions = await dpkgVersions(ctx, PACKAGES);
		const texts: string[] = [];
		const main = await readText(ctx.root, '/etc/apt/sources.list');
		if (main) texts.push(main);
		try {
			for (const f of await readdir(onRoot(ctx.root, '/etc/apt/sources.list.d'))) {
				if (/\.(list|sources)$/.test(f)) texts.push((await readText(ctx.root, `/etc/apt/sources.list.d/${f}`)) ?? '');
			}
		} catch {}
		const s = parseSources(texts, ctx.profile.codename);
		const ourBackports = (await readText(ctx.root, BACKPORTS_FILE)) !== undefined;
		// apt-mark hold is dpkg's "hold" selection; dpkg-query reads it in milliseconds (apt-mark showhold: ~0.4 s).
		const held = (await ctx.exec.which('dpkg-query'))
			? (await ctx.exec.run({argv: ['dpkg-query', '-W', '-f', '${Package}\t${db:Status-Want}\n', 'opensmtpd-filter-rspamd']})).stdout
					.split('\n')
					.filter((l) => l.endsWith('\thold'))
					.map((l) => l.split('\t')[0]!)
			: [];
		return {versions, backports: s.backports, mirror: s.mirror ?? 'http://deb.debian.org/debian', ourBackports, held};
	},
	plan(a: Answers, f, profile: Profile) {
		const v = f.versions;
		const actions: Action[] = [];
		const preseed: Action = {
			kind: 'run',
			cmd: {argv: ['debconf-set-selections'], stdin: `opensmtpd opensmtpd/mailname string ${a.hostname}\n`},
			why: 'answer the opensmtpd package question (its mail name) ahead, so the install asks nothing',
		};
		if (profile.version === '13') {
			// A server upgraded from 12: what mailwizard added for 12 goes away on 13.
			if (f.ourBackports) actions.push({kind: 'run', cmd: {argv: ['rm', '-f', BACKPORTS_FILE]}, why: 'Debian 13 needs no bookworm-backports: remove the source mailwizard added on Debian 12'});
			if (f.held?.includes('opensmtpd-filter-rspamd'))
				actions.push({kind: 'run', cmd: {argv: ['apt-mark', 'unhold', 'opensmtpd-filter-rspamd']}, why: "Debian 13's own opensmtpd-filter-rspamd is the fixed 0.1.8: let it follow updates again"});
			const missing = PACKAGES.filter((p) => !v[p]);
			if (missing.length === 0) return actions;
			if (missing.includes('opensmtpd')) actions.push(preseed);
			actions.push({kind: 'run', cmd: apt('update'), why: 'refresh the package lists'});
			actions.push({
				kind: 'run',
				cmd: apt('install', '-y', '--no-install-recommends', ...missing),
				why: 'Debian 13 ships every package this setup needs (OpenSMTPD 7.6, filter-rspamd 0.1.8, Dovecot 2.4, Rspamd 3.12)',
			});
			return actions;
		}
		// Debian 12
		const needSmtpd = !versionAtLeast(v.opensmtpd, MIN.opensmtpd);
		const needFilter = !versionAtLeast(v['opensmtpd-filter-rspamd'], MIN.filter);
		const others = (['dovecot-core', 'dovecot-imapd', 'dovecot-lmtpd', 'rspamd', 'ca-certificates'] as const).filter((p) => !v[p]);
		if (!needSmtpd && !needFilter && others.length === 0) return [];
		actions.push({
			kind: 'notice',
			level: 'info',
			title: 'Why packages come from two other places on Debian 12',
			lines: [
				`OpenSMTPD ${MIN.opensmtpd} from bookworm-backports: Debian 12's own 6.8 fails every TLS handshake with OpenSSL 3.`,
				`opensmtpd-filter-rspamd ${MIN.filter} fetched once from Debian 13 (trixie) and held: 0.1.7 never passes the user to Rspamd, so mail would leave unsigned.`,
				'Trixie is used only for that one download: it is not added to your apt sources, and nothing else comes from it.',
			],
		});
		if (needSmtpd && !f.backports) {
			actions.push({
				kind: 'file',
				path: BACKPORTS_FILE,
				mode: 0o644,
				why: 'add bookworm-backports (packages are only taken from it when asked for with -t)',
				content: `# Added by mailwizard for OpenSMTPD ${MIN.opensmtpd}+.\nTypes: deb\nURIs: ${f.mirror}\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
			});
		}
		if (needSmtpd || others.length > 0) actions.push({kind: 'run', cmd: apt('update'), why: 'refresh the package lists'});
		if (needSmtpd) {
			actions.push(preseed);
			actions.push({kind: 'run', cmd: apt('install', '-y', '--no-install-recommends', '-t', 'bookworm-backports', 'opensmtpd'), why: `OpenSMTPD ${MIN.opensmtpd} from bookworm-backports`});
		}
		if (others.length > 0) actions.push({kind: 'run', cmd: apt('install', '-y', '--no-install-recommends', ...others), why: 'Dovecot (IMAP, LMTP) and Rspamd from Debian 12'});
		if (needFilter) {
			for (const d of ['', '/lists', '/lists/partial', '/archives', '/archives/partial']) {
				actions.push({kind: 'dir', path: `${TRIXIE_DIR}${d}`, mode: 0o755, why: 'a private apt list for the one-time trixie download'});
			}
			actions.push({
				kind: 'file',
				path: `${TRIXIE_DIR}/sources.list`,
				mode: 0o644,
				why: 'trixie, for this one download only (not in /etc/apt)',
				content: `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${f.mirror} trixie main\n`,
			});
			actions.push({kind: 'run', cmd: apt(...trixieOpts(), 'update'), why: "read trixie's package list into the private list"});
			actions.push({kind: 'run', cmd: {...apt(...trixieOpts(), 'download', 'opensmtpd-filter-rspamd'), cwd: TRIXIE_DIR}, why: 'download opensmtpd-filter-rspamd from trixie'});
			actions.push({
				kind: 'run',
				cmd: {argv: ['sh', '-c', 'apt-get install -y --no-install-recommends ./opensmtpd-filter-rspamd_*.deb'], env: APT_ENV, cwd: TRIXIE_DIR, daemon: true},
				why: 'install it (its only dependency, libc6 >= 2.34, is already met)',
			});
			actions.push({kind: 'run', cmd: {argv: ['apt-mark', 'hold', 'opensmtpd-filter-rspamd']}, why: 'hold it, so that an upgrade never swaps it for the broken 0.1.7'});
		}
		return actions;
	},
};
