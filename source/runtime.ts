// The runtime of a command: host profile, context, state, answers.
import {readFileSync} from 'node:fs';
import {AnswersError, checkCertFiles, loadAnswersFile, loadSavedAnswers, readPasswordFiles, type Answers} from './answers.ts';
import type {Options} from './options.ts';
import {realExec, type Exec} from './engine/exec.ts';
import {openState, type State} from './engine/state.ts';
import type {Ctx} from './engine/types.ts';
import {defaultIpv4, thisHost} from './platform/host.ts';
import {detectProfile, targetProfile, type Profile} from './platform/profile.ts';
import {reputationOptions} from './platform/reputation.ts';
import {withDkimRotation} from './rotate/dkim.ts';
import {DOVECOT_PATHS} from './mail/paths.ts';
import {parseHashes} from './platform/passwords.ts';

/** The system's resolvers from resolv.conf, when none were given. */
export function systemResolvers(root: string): string[] {
	try {
		const text = readFileSync(root === '/' ? '/etc/resolv.conf' : `${root}/etc/resolv.conf`, 'utf8');
		return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
	} catch {
		return [];
	}
}

/** The options a check repeats (the scheduled one), only those the operator gave. */
export function checkArgs(o: Pick<Options, 'resolvers' | 'dnsbls' | 'probe' | 'stateDir'> & {readonly selfTest?: boolean}): string[] {
	const out = o.resolvers.flatMap((r) => ['--resolver', r]);
	if (o.dnsbls) out.push(...(o.dnsbls.length ? o.dnsbls.flatMap((z) => ['--dnsbl', z]) : ['--dnsbl', 'none']));
	if (o.probe !== undefined) out.push('--probe', o.probe);
	if (o.stateDir !== '/var/lib/mailwizard') out.push('--state-dir', o.stateDir);
	if (o.selfTest === false) out.push('--no-self-test');
	return out;
}

export type Runtime = {
	readonly options: Options;
	readonly exec: Exec;
	readonly profile: Profile;
	readonly ctx: Ctx;
	readonly state: State;
	readonly out: (line: string) => void;
	readonly err: (line: string) => void;
};

export async function makeRuntime(options: Options, readOnly: boolean, exec: Exec = realExec()): Promise<Runtime> {
	const host = await detectProfile(options.root, exec);
	const profile = options.target ? targetProfile(options.target, host)! : host;
	const resolvers = options.resolvers.length ? options.resolvers : systemResolvers(options.root);
	const ctx: Ctx = {root: options.root, exec, profile, readOnly, resolvers, host: thisHost(), reputation: reputationOptions(options), checkArgs: checkArgs(options)};
	return {
		options,
		exec,
		profile,
		ctx,
		state: openState(options.root === '/' ? options.stateDir : `${options.root}${options.stateDir}`, readOnly),
		out: (l) => process.stdout.write(`${l}\n`),
		err: (l) => process.stderr.write(`${l}\n`),
	};
}

/** The same runtime, now allowed to write (state directory created on first use). */
export function writable(rt: Runtime): Runtime {
	const o = rt.options;
	return {...rt, ctx: {...rt.ctx, readOnly: false}, state: openState(o.root === '/' ? o.stateDir : `${o.root}${o.stateDir}`, false)};
}

/**
 * Answers from --answers, else the ones saved by an earlier run (without secrets). With
 * readPasswords (a real run, as root), password files are read here, at the run's edge.
 */
export function loadAnswers(rt: Runtime, readPasswords: boolean): Answers {
	// A file the wizard saved names users whose password was typed, not saved: such a user that
	// already exists keeps its password; only a new one needs a password source.
	const answers = rt.options.answers
		? newUsersHavePasswords(loadAnswersFile(rt.options.answers, {defaultIpv4, passwordOptional: true}), rt.options.root)
		: loadSavedAnswers(savedOrExplain(rt), {defaultIpv4});
	// A rotation's selectors come from the state: a re-run with the old answers file keeps them.
	const rotated = withDkimRotation(answers, rt.state.data().rotation?.dkim);
	if (!readPasswords) return rotated;
	checkCertFiles(rotated, rt.options.root);
	return readPasswordFiles(rotated);
}

/** Users without password_file or password_hash must already be users of this server (their hash is kept). */
function newUsersHavePasswords(a: Answers, root: string): Answers {
	let known: Map<string, string>;
	try {
		known = parseHashes(readFileSync(root === '/' ? DOVECOT_PATHS.users : `${root}${DOVECOT_PATHS.users}`, 'utf8'), ':');
	} catch (error) {
		// Not readable (a dry run as a normal user): who exists is not known here; the stage says it.
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return a;
		known = new Map();
	}
	a.users.forEach((u, i) => {
		if (!u.passwordFile && !u.passwordHash && !u.password && !known.has(u.name))
			throw new AnswersError(`users[${i}].password_file`, `${u.name} is not a user of this server yet: give password_file (a root-only file holding the password) or password_hash`);
	});
	return a;
}

function savedOrExplain(rt: Runtime): Readonly<Record<string, unknown>> {
	const saved = rt.state.data().answers;
	if (!saved) throw new AnswersError('--answers', 'no answers: give --answers FILE (or run the interactive wizard in a terminal)');
	return saved;
}
