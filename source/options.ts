// The command line's words: the options, their parsing, the help and the version.
// Kept light: --help and --version load nothing else; the rest is imported on demand.
import {readFileSync} from 'node:fs';
import {parseArgs, type ParseArgsConfig} from 'node:util';
import {UsageError} from './exit.ts';
import {TARGETS} from './platform/targets.ts';

declare const __MAILWIZARD_VERSION__: string | undefined;

export function version(): string {
	if (typeof __MAILWIZARD_VERSION__ === 'string') return __MAILWIZARD_VERSION__;
	try {
		return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string}).version;
	} catch {
		return 'dev';
	}
}

export const HELP = `mailwizard — turn a fresh Debian 12/13 server into a working mail server
(OpenSMTPD + Dovecot + Rspamd, DKIM, SPF, DMARC), step by step, resumable.

Usage:
  mailwizard [options]                 the interactive wizard (resumes saved progress)
  mailwizard --dry-run [options]       print every command and file diff; change nothing
  mailwizard --answers FILE --yes      unattended: answers from FILE, no questions
  mailwizard --answers FILE            in a terminal: the wizard, filled in from FILE
  mailwizard dns [--zone|--json]       the DNS records to publish
  mailwizard status [--json]           which steps are done, pending, waiting
  mailwizard check [--json] [--no-self-test]
                                       the server's doctor: daemons, ports, certificates, DNS,
                                       PTR, blocklists, queue, disk, a signed test message
  mailwizard reset                     forget saved progress (changes nothing else)
  mailwizard rotate dkim [--selector NAME] [--finish [--now]]
                                       rotate the DKIM key: new selector, signed with once
                                       its record is served; --finish retires the old one
  mailwizard rotate srs [--finish [--now]]
                                       rotate the SRS key: the old one stays as backup key
                                       (bounces accepted); --finish drops it after 30 days
  mailwizard renew [--force]           renew the ACME certificate now (--force: even when not due)

Day two (root; each changes the saved answers and converges only what it affects;
--dry-run shows the plan, --yes skips the confirmation):
  mailwizard user add NAME [--password-file FILE]     a new mail user (password typed twice
                                                      without echo, or from a root-only file)
  mailwizard user passwd NAME [--password-file FILE]  a new password
  mailwizard user remove NAME [--purge]               the mailbox stays unless --purge
                                                      (confirmed by typing NAME, or --purge --yes)
  mailwizard user list [--json]
  mailwizard alias add LOCAL TARGET...                TARGET: a user name or a full address
  mailwizard alias remove LOCAL
  mailwizard alias list [--json]
  mailwizard domain add DOMAIN                        prints its records and waits (exit 75)
  mailwizard domain remove DOMAIN

Options:
  --answers FILE       answers in YAML or JSON (see README: "Answers file")
  --yes, -y            do not ask for confirmation (needs --answers or saved answers)
  --dry-run, -n        print the plan as a reviewable script; needs no root; writes nothing
  --target NAME        with --dry-run: plan for ${Object.keys(TARGETS).join(' or ')} instead of this machine
  --state-dir DIR      where progress is saved (default /var/lib/mailwizard)
  --resolver IP[:PORT] DNS server used to find the zone's authoritative servers
                       (repeatable; default: the system's resolvers)
  --no-wait            do not wait for DNS: save progress and exit 75 if records are missing
  --poll SECONDS       seconds between DNS checks while waiting (default 30)
  --zone               with dns: a zone-file fragment
  --dnsbl ZONE         a blocklist to ask, before and after a run and by check
                       (repeatable; "none" for none; default: Spamhaus ZEN,
                       SpamCop, Barracuda)
  --probe HOST[:PORT]  outbound port 25 test, before and after a run and by check
                       ("none" to skip; default gmail-smtp-in.l.google.com:25)
  --force              with renew: renew even when the certificate is not due
  --json               machine-readable output (dns, status, check)
  --password-file FILE with user add/passwd: the password, one line, in a root-only file
  --purge              with user remove: delete the mailbox too
    --json               machine-readable output (dns, status, check, user/alias list)
  --selector NAME      with rotate dkim: the new selector (default mwYYYYMM)
  --finish             with rotate: end the overlap, retire the old key
  --now                with rotate --finish: before the minimum overlap (7 days for
                       dkim, 30 for srs)
  --notify             with check: mail postmaster when a check changed state
  --no-self-test       with check: skip the self-test (a signed message to postmaster,
                       judged by Rspamd, then removed); with the wizard: the daily
                       check skips it too
  --verbose            show the output of every command
  --help, -h, help     this help
  --version, -V, version  the version

Exit codes: 0 done · 1 a step failed (progress kept) · 2 bad usage or input (nothing
changed) · 75 waiting for DNS records (run the same command again later) · 130 interrupted.
check: 0 all ok · 1 a row fails · 3 only warnings or unknowns.
Secrets are never taken from the command line or the environment: passwords come from
root-only files (password_file) or are typed into the wizard.`;

export type Options = {
	readonly command: 'wizard' | 'dns' | 'status' | 'check' | 'reset' | 'rotate' | 'renew' | 'user' | 'alias' | 'domain';
	/** user, alias, domain: add, passwd, remove or list. */
	readonly sub?: string;
	/** The words after the subcommand (NAME, LOCAL TARGET..., DOMAIN). */
	readonly args: readonly string[];
	/** user add/passwd: the new password in a root-only file. */
	readonly passwordFile?: string;
	/** user remove: delete the mailbox too. */
	readonly purge: boolean;
	/** rotate: which key, and the phase asked for. */
	readonly rotate?: {readonly what: 'dkim' | 'srs'; readonly selector?: string; readonly finish: boolean; readonly now: boolean};
	/** renew: even when the certificate is not due. */
	readonly force: boolean;
	readonly answers?: string;
	readonly yes: boolean;
	readonly dryRun: boolean;
	readonly target?: string;
	readonly stateDir: string;
	readonly resolvers: readonly string[];
	readonly noWait: boolean;
	readonly pollSeconds: number;
	readonly zone: boolean;
	readonly json: boolean;
	readonly verbose: boolean;
	readonly root: string;
	/** check: blocklists to ask (default: a few well-known ones; "none" for none). */
	readonly dnsbls?: readonly string[];
	/** check: HOST[:PORT] for the outbound port 25 probe, or "none". */
	readonly probe?: string;
	/** check: mail postmaster when a row changed state since the last --notify run. */
	readonly notify: boolean;
	/** check: send the self-test message (false: --no-self-test; the wizard passes it on to the daily check). */
	readonly selfTest: boolean;
};

/** Every option the command line takes (node:util parseArgs). */
const SPEC = {
	answers: {type: 'string'},
	yes: {type: 'boolean', short: 'y', default: false},
	'dry-run': {type: 'boolean', short: 'n', default: false},
	target: {type: 'string'},
	'state-dir': {type: 'string', default: '/var/lib/mailwizard'},
	resolver: {type: 'string', multiple: true, default: []},
	'no-wait': {type: 'boolean', default: false},
	poll: {type: 'string', default: '30'},
	dnsbl: {type: 'string', multiple: true, default: []},
	probe: {type: 'string'},
	zone: {type: 'boolean', default: false},
	selector: {type: 'string'},
	finish: {type: 'boolean', default: false},
	now: {type: 'boolean', default: false},
	force: {type: 'boolean', default: false},
	json: {type: 'boolean', default: false},
	notify: {type: 'boolean', default: false},
	'no-self-test': {type: 'boolean', default: false},
	'password-file': {type: 'string'},
	purge: {type: 'boolean', default: false},
	verbose: {type: 'boolean', default: false},
	help: {type: 'boolean', short: 'h', default: false},
	version: {type: 'boolean', short: 'V', default: false},
	// For tests: every path the engine reads lives under this directory. Read-only: never applies (see below).
	root: {type: 'string', default: '/'},
} satisfies NonNullable<ParseArgsConfig['options']>;

export function parseOptions(argv: readonly string[]): Options | 'help' | 'version' {
	let parsed;
	try {
		parsed = parseArgs({
			args: [...argv],
			allowPositionals: true,
			strict: true,
			options: SPEC,
		});
	} catch (error) {
		// Node's own wording for an unknown option ends on an unbalanced quote: ours is whole.
		const unknown = /^Unknown option '([^']*)'/.exec((error as Error).message);
		throw new UsageError(`${unknown ? `Unknown option '${unknown[1]}'.` : (error as Error).message}\nRun "mailwizard --help" for the options.`);
	}
	const v = parsed.values;
	if (v.help) return 'help';
	if (v.version) return 'version';
	const [command = 'wizard', ...extra] = parsed.positionals;
	// "mailwizard help" and "mailwizard version" as words, as many CLIs accept them.
	if ((command === 'help' || command === 'version') && !extra.length) return command;
	if (!['wizard', 'dns', 'status', 'check', 'reset', 'rotate', 'renew', ...Object.keys(SUBCOMMANDS)].includes(command))
		throw new UsageError(`unknown command "${command}" (commands: dns, status, check, reset, rotate, renew, user, alias, domain, help, version)`);
	const {rotate, sub, args} = commandWords(command, extra, v);
	commandFlags(command, v);
	if (v.json && command === 'wizard')
		throw new UsageError(`--json is for dns, status and check: ${v['dry-run'] ? 'a dry run prints its plan as a reviewable script' : 'the wizard prints its progress as text'}; leave out --json`);
	if (v.target && !TARGETS[v.target]) throw new UsageError(`--target must be one of ${Object.keys(TARGETS).join(', ')}`);
	if (v.target && !v['dry-run'] && command === 'wizard') throw new UsageError('--target only previews a plan: use it with --dry-run');
	// --root moves the files, not the commands (apt, useradd, services would still run on this host):
	// it only previews, and is never a way around the root check.
	if (v.root !== '/' && ((command === 'wizard' && !v['dry-run']) || command === 'reset'))
		throw new UsageError('--root (for tests) only reads: use it with --dry-run, dns, status or check; a real run needs root and works on /');
	const poll = Number(v.poll);
	if (!Number.isFinite(poll) || poll < 0.1 || poll > 3600) throw new UsageError('--poll takes seconds between 0.1 and 3600');
	for (const r of v.resolver ?? []) if (!/^(\d{1,3}(\.\d{1,3}){3}(:\d+)?|\[[0-9a-f:]+\](:\d+)?|[0-9a-f:]+)$/i.test(r)) throw new UsageError(`--resolver "${r}" is not IP or IP:PORT`);
	return {
		command: command as Options['command'],
		sub,
		args,
		passwordFile: v['password-file'],
		purge: Boolean(v.purge),
		answers: v.answers,
		yes: Boolean(v.yes),
		dryRun: Boolean(v['dry-run']),
		target: v.target,
		stateDir: v['state-dir']!,
		resolvers: v.resolver ?? [],
		noWait: Boolean(v['no-wait']),
		pollSeconds: poll,
		zone: Boolean(v.zone),
		force: Boolean(v.force),
		notify: Boolean(v.notify),
		selfTest: !v['no-self-test'],
		json: Boolean(v.json),
		verbose: Boolean(v.verbose),
		root: v.root!,
		dnsbls: v.dnsbl?.length ? v.dnsbl.filter((z) => z !== 'none') : undefined,
		probe: v.probe,
		rotate,
	};
}

/** Flags that belong to one command only. */
function commandFlags(command: string, v: {force?: boolean; notify?: boolean; 'no-self-test'?: boolean}): void {
	if (v.force && command !== 'renew') throw new UsageError('--force is for renew');
	if (v.notify && command !== 'check') throw new UsageError('--notify is for check');
	if (v['no-self-test'] && command !== 'check' && command !== 'wizard') throw new UsageError('--no-self-test is for check (and the wizard, for its daily check)');
}

/** The day-two commands: each subcommand with how many words it takes (min, max). */
const SUBCOMMANDS: Readonly<Record<string, Readonly<Record<string, readonly [number, number, string]>>>> = {
	user: {add: [1, 1, 'NAME'], passwd: [1, 1, 'NAME'], remove: [1, 1, 'NAME'], list: [0, 0, '']},
	alias: {add: [2, Infinity, 'LOCAL TARGET...'], remove: [1, 1, 'LOCAL'], list: [0, 0, '']},
	domain: {add: [1, 1, 'DOMAIN'], remove: [1, 1, 'DOMAIN']},
};

type Flags = {readonly json?: boolean; readonly 'password-file'?: string; readonly purge?: boolean; readonly 'dry-run'?: boolean};

/** The subcommand and its words; the options that belong to one subcommand only are refused elsewhere. */
function subcommand(command: string, extra: readonly string[], v: Flags): [string | undefined, string[]] {
	const subs = SUBCOMMANDS[command];
	if (v['password-file'] !== undefined && !(command === 'user' && ['add', 'passwd'].includes(extra[0] ?? ''))) throw new UsageError('--password-file is for user add and user passwd');
	if (v.purge && !(command === 'user' && extra[0] === 'remove')) throw new UsageError('--purge is for user remove');
	if (!subs) {
		if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
		return [undefined, []];
	}
	const [sub, ...args] = extra;
	const usage = Object.entries(subs).map(([s, [, , w]]) => `mailwizard ${command} ${s}${w ? ` ${w}` : ''}`);
	const arity = sub === undefined ? undefined : subs[sub];
	if (!arity) throw new UsageError(`${sub === undefined ? `"${command}" needs a subcommand` : `unknown subcommand "${command} ${sub}"`}: ${usage.join(' · ')}`);
	if (args.length < arity[0] || args.length > arity[1]) throw new UsageError(`usage: mailwizard ${command} ${sub} ${arity[2]}`.trimEnd());
	if (v.json && sub !== 'list') throw new UsageError(`--json is for ${command} list`);
	if (v['dry-run'] && sub === 'list') throw new UsageError(`${command} list changes nothing: leave out --dry-run`);
	return [sub, args];
}

/** The words after the command: rotate's, or a day-two subcommand's. */
function commandWords(command: string, extra: readonly string[], v: Flags & {selector?: string; finish?: boolean; now?: boolean}) {
	const rotate = command === 'rotate' ? rotateOptions(extra, v) : undefined;
	if (rotate && extra.length > 1) throw new UsageError(`unexpected argument "${extra[1]}"`);
	if (!rotate && (v.selector !== undefined || v.finish || v.now)) throw new UsageError('--selector, --finish and --now are for "mailwizard rotate"');
	const [sub, args] = rotate ? [undefined, []] : subcommand(command, extra, v);
	return {rotate, sub, args};
}

/** rotate dkim|srs [--selector NAME] [--finish [--now]] */
function rotateOptions(extra: readonly string[], v: {selector?: string; finish?: boolean; now?: boolean}): NonNullable<Options['rotate']> {
	const what = extra[0];
	if (what !== 'dkim' && what !== 'srs') throw new UsageError('rotate what? "mailwizard rotate dkim" or "mailwizard rotate srs"');
	if (v.now && !v.finish) throw new UsageError('--now only goes with --finish');
	if (v.selector !== undefined && (what !== 'dkim' || v.finish)) throw new UsageError('--selector only goes with "rotate dkim" (without --finish)');
	const selector = v.selector?.trim().toLowerCase();
	if (selector !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(selector))
		throw new UsageError(`--selector "${selector.slice(0, 70)}" is not a valid selector (letters, digits, hyphens; at most 63)`);
	return {what, selector, finish: Boolean(v.finish), now: Boolean(v.now)};
}

/** The state directory as this run sees it (under --root in tests). */
export function stateDirOf(o: Pick<Options, 'root' | 'stateDir'>): string {
	return o.root === '/' ? o.stateDir : `${o.root}${o.stateDir}`;
}
