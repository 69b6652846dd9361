import {readdir} from 'node:fs/promises';
import type {Answers} from '../source/answers.ts';
import {dpkgVersions, versionAtLeast} from '../source/engine/facts.ts';
import {onRoot, readText} from '../source/engine/files.ts';
import type {Action, Cmd, Ctx, PackageNeed, Step} from '../source/engine/types.ts';
import type {Profile} from '../source/platform/profile.ts';

// The packages come from the stages' declarations (Step.packages), in walk order.
export const TRIXIE_DIR = '/var/cache/mailwizard/trixie';
export const BACKPORTS_FILE = '/etc/apt/sources.list.d/mailwizard-bookworm-backports.sources';

/** A declared package, spelled out. */
export type Need = Exclude<PackageNeed, string> & {readonly label: string};

const need = (p: PackageNeed): Need => (typeof p === 'string' ? {name: p, label: p} : {...p, label: p.label ?? p.name});

/**
 * What the stages need on a Debian release, in walk order, each package once (a stage not used by
 * these answers: none; a package for another init system: none; without `init`, every one).
 */
export function needsOf(stages: readonly Pick<Step, 'packages' | 'usedWhen'>[], version: string, a?: Answers, init?: Profile['init']): Need[] {
	const out = new Map<string, Need>();
	for (const s of stages)
		if (!s.usedWhen || (a && s.usedWhen(a)))
			for (const p of s.packages?.[version] ?? []) if (!out.has(need(p).name) && (!init || !need(p).init || need(p).init === init)) out.set(need(p).name, need(p));
	return [...out.values()];
}

/** The packages fetched from trixie and held on some release: unheld where the release's own will do. */
function heldOnSomeRelease(stages: readonly Pick<Step, 'packages'>[]): Need[] {
	return stages
		.flatMap((s) =>
			Object.values(s.packages ?? {})
				.flat()
				.map(need),
		)
		.filter((n) => n.from === 'next');
}

export type PackageFacts = {
	/** What the stages need on this release (needsOf). */
	readonly wanted: readonly Need[];
	/** Packages mailwizard holds on an older release (fetched from the next one). */
	readonly pinned?: readonly Need[];
	readonly versions: Readonly<Record<string, string | undefined>>;
	/** A bookworm-backports source is configured. */
	readonly backports: boolean;
	/** The Debian mirror apt already uses for the main suite. */
	readonly mirror: string;
	/** mailwizard's own bookworm-backports source is present (left over after an upgrade to 13). */
	readonly ourBackports?: boolean;
	/** Packages on hold (apt-mark showhold). */
	readonly held?: readonly string[];
	/** dpkg was interrupted mid-install: `dpkg --configure -a` first. */
	readonly interrupted?: boolean;
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

/** apt downloads every package before it installs one: a failed download leaves nothing half-installed. */
const APT_HINT =
	'Nothing was left half-installed by this command. Check the network and the mirror in /etc/apt (apt-get update shows which source fails), then run mailwizard again: it goes on from here.';
/** Another apt (unattended-upgrades on a fresh server, a run killed meanwhile) holds dpkg's lock: wait for it, up to 5 minutes. */
const LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=300'];

// daemon: on a host without systemd, a package's postinst starts its daemon from an init
// script, and the daemon keeps whatever output it was given (see engine/exec.ts).
function apt(...args: string[]): Cmd {
	return {argv: ['apt-get', ...args, ...LOCK_WAIT], env: APT_ENV, daemon: true, failHint: APT_HINT};
}

/** dpkg was stopped mid-install (a killed run, a power cut): its journal in /var/lib/dpkg/updates is not empty. */
async function dpkgInterrupted(ctx: Ctx): Promise<boolean> {
	return (await readdir(onRoot(ctx.root, '/var/lib/dpkg/updates')).catch(() => [])).length > 0;
}

/** Finishes what an interrupted dpkg left (apt refuses to install anything until it is done). */
const resumeDpkg = (): Action => ({
	kind: 'run',
	cmd: {argv: ['dpkg', '--configure', '-a'], env: APT_ENV, daemon: true},
	why: 'an earlier install was interrupted (a killed run or a power cut): dpkg finishes configuring what it unpacked',
});

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

async function aptSources(ctx: Ctx): Promise<string[]> {
	const texts: string[] = [];
	const main = await readText(ctx.root, '/etc/apt/sources.list');
	if (main) texts.push(main);
	try {
		for (const f of await readdir(onRoot(ctx.root, '/etc/apt/sources.list.d'))) {
			if (/\.(list|sources)$/.test(f)) texts.push((await readText(ctx.root, `/etc/apt/sources.list.d/${f}`)) ?? '');
		}
	} catch {}
	return texts;
}

/** The packages on hold among these: dpkg's "hold" selection; dpkg-query reads it in milliseconds (apt-mark showhold: ~0.4 s). */
async function heldOf(ctx: Ctx, names: readonly string[]): Promise<string[]> {
	if (names.length === 0 || !(await ctx.exec.which('dpkg-query'))) return [];
	return (await ctx.exec.run({argv: ['dpkg-query', '-W', '-f', '${Package}\t${db:Status-Want}\n', ...names]})).stdout
		.split('\n')
		.filter((l) => l.endsWith('\thold'))
		.map((l) => l.split('\t')[0]!);
}

/** Debian 13 after 12: the backports source and the holds mailwizard added for 12 go away. */
function undoOlderRelease(f: PackageFacts, profile: Profile): Action[] {
	const actions: Action[] = [];
	if (f.wanted.length === 0 || f.wanted.some((n) => n.from)) return actions;
	if (f.ourBackports)
		actions.push({kind: 'run', cmd: {argv: ['rm', '-f', BACKPORTS_FILE]}, why: `Debian ${profile.version} needs no bookworm-backports: remove the source mailwizard added on Debian 12`});
	for (const n of (f.pinned ?? []).filter((p) => f.held?.includes(p.name)))
		actions.push({kind: 'run', cmd: {argv: ['apt-mark', 'unhold', n.name]}, why: `Debian ${profile.version}'s own ${n.name} is the fixed ${n.min}: let it follow updates again`});
	return actions;
}

function preseeds(a: Answers, needs: readonly Need[]): Action[] {
	return needs.flatMap((n): Action[] =>
		n.preseed
			? [{kind: 'run', cmd: {argv: ['debconf-set-selections'], stdin: n.preseed.selections(a)}, why: `answer the ${n.name} package question (${n.preseed.what}) ahead, so the install asks nothing`}]
			: [],
	);
}

/** Debian 12: why some packages come from bookworm-backports or from trixie. */
function otherPlaces(specials: readonly Need[]): Action[] {
	if (specials.length === 0) return [];
	const places = new Set(specials.map((n) => n.from)).size;
	const lines = specials.map((n) => (n.from === 'backports' ? `${n.label} ${n.min} from bookworm-backports: ${n.why}` : `${n.label} ${n.min} fetched once from Debian 13 (trixie) and held: ${n.why}`));
	if (specials.some((n) => n.from === 'next')) lines.push('Trixie is used only for that one download: it is not added to your apt sources, and nothing else comes from it.');
	return [{kind: 'notice', level: 'info', title: `Why packages come from ${places === 1 ? 'one other place' : 'two other places'} on Debian 12`, lines}];
}

/** Fetched once from trixie through a private apt list, installed, and held. */
function fromTrixie(needs: readonly Need[], mirror: string): Action[] {
	if (needs.length === 0) return [];
	const actions: Action[] = ['', '/lists', '/lists/partial', '/archives', '/archives/partial'].map((d) => ({
		kind: 'dir',
		path: `${TRIXIE_DIR}${d}`,
		mode: 0o755,
		why: 'a private apt list for the one-time trixie download',
	}));
	actions.push({
		kind: 'file',
		path: `${TRIXIE_DIR}/sources.list`,
		mode: 0o644,
		why: 'trixie, for this one download only (not in /etc/apt)',
		content: `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} trixie main\n`,
	});
	actions.push({kind: 'run', cmd: apt(...trixieOpts(), 'update'), why: "read trixie's package list into the private list"});
	for (const n of needs) {
		actions.push({kind: 'run', cmd: {...apt(...trixieOpts(), 'download', n.name), cwd: TRIXIE_DIR}, why: `download ${n.name} from trixie`});
		actions.push({
			kind: 'run',
			cmd: {argv: ['sh', '-c', `apt-get install -y --no-install-recommends ./${n.name}_*.deb ${LOCK_WAIT.join(' ')}`], env: APT_ENV, cwd: TRIXIE_DIR, daemon: true, failHint: APT_HINT},
			why: 'install it (its dependencies are already met)',
		});
		actions.push({kind: 'run', cmd: {argv: ['apt-mark', 'hold', n.name]}, why: `hold it, so that an upgrade never swaps it for one older than ${n.min}`});
	}
	return actions;
}

export const packages: Step<PackageFacts> = {
	id: 'packages',
	title: 'Packages: OpenSMTPD, Dovecot, Rspamd',
	summary: 'installs the mail server packages that work on this release',
	async facts(ctx, a, stages) {
		const wanted = needsOf(stages, ctx.profile.version, a, ctx.profile.init);
		const pinned = heldOnSomeRelease(stages);
		// A --target preview is of a fresh system of that release: this machine's packages say nothing about it.
		if (ctx.profile.source === 'target') return {wanted, pinned, versions: {}, backports: false, mirror: 'http://deb.debian.org/debian', held: []};
		const versions = await dpkgVersions(ctx, [...new Set([...wanted, ...pinned].map((n) => n.name))]);
		const s = parseSources(await aptSources(ctx), ctx.profile.codename);
		const ourBackports = (await readText(ctx.root, BACKPORTS_FILE)) !== undefined;
		const held = await heldOf(ctx, [...new Set(pinned.map((n) => n.name))]);
		return {wanted, pinned, versions, backports: s.backports, mirror: s.mirror ?? 'http://deb.debian.org/debian', ourBackports, held, interrupted: await dpkgInterrupted(ctx)};
	},
	plan(a: Answers, f, profile: Profile) {
		const v = f.versions;
		const undo = [...(f.interrupted ? [resumeDpkg()] : []), ...undoOlderRelease(f, profile)];
		const missing = f.wanted.filter((n) => !n.from && !v[n.name]);
		const newer = (from: Need['from']) => f.wanted.filter((n) => n.from === from && !versionAtLeast(v[n.name], n.min ?? '0'));
		const backports = newer('backports');
		const trixie = newer('next');
		if (missing.length + backports.length + trixie.length === 0) return undo;
		const actions: Action[] = [...undo, ...otherPlaces(f.wanted.filter((n) => n.from))];
		if (backports.length && !f.backports) {
			actions.push({
				kind: 'file',
				path: BACKPORTS_FILE,
				mode: 0o644,
				why: 'add bookworm-backports (packages are only taken from it when asked for with -t)',
				content: `# Added by mailwizard for ${backports.map((n) => `${n.label} ${n.min}+`).join(', ')}.\nTypes: deb\nURIs: ${f.mirror}\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
			});
		}
		if (!backports.length) actions.push(...preseeds(a, missing));
		if (backports.length || missing.length) actions.push({kind: 'run', cmd: apt('update'), why: 'refresh the package lists'});
		if (backports.length) {
			actions.push(...preseeds(a, backports), ...preseeds(a, missing));
			const what = backports.map((n) => `${n.label} ${n.min}`).join(', ');
			actions.push({kind: 'run', cmd: apt('install', '-y', '--no-install-recommends', '-t', 'bookworm-backports', ...backports.map((n) => n.name)), why: `${what} from bookworm-backports`});
		}
		if (missing.length)
			actions.push({kind: 'run', cmd: apt('install', '-y', '--no-install-recommends', ...missing.map((n) => n.name)), why: `${missing.map((n) => n.label).join(', ')} from Debian ${profile.version}`});
		actions.push(...fromTrixie(trixie, f.mirror));
		return actions;
	},
};
