// The runtime of a command: host profile, context, state, answers.
import {readFileSync} from 'node:fs';
import {AnswersError, loadAnswersFile, validateAnswers, type Answers} from './answers.ts';
import type {Options} from './options.ts';
import {realExec, type Exec} from './engine/exec.ts';
import {openState, type State} from './engine/state.ts';
import type {Ctx} from './engine/types.ts';
import {defaultIpv4} from './platform/host.ts';
import {detectProfile, targetProfile, type Profile} from './platform/profile.ts';
import {reputationOptions} from './platform/reputation.ts';

/** The system's resolvers from resolv.conf, when none were given. */
export function systemResolvers(root: string): string[] {
	try {
		const text = readFileSync(root === '/' ? '/etc/resolv.conf' : `${root}/etc/resolv.conf`, 'utf8');
		return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
	} catch {
		return [];
	}
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
	const ctx: Ctx = {root: options.root, exec, profile, readOnly, resolvers, reputation: reputationOptions(options)};
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

/** Answers from --answers, else the ones saved by an earlier run (without secrets). */
export function loadAnswers(rt: Runtime, readPasswords: boolean): Answers {
	if (rt.options.answers) return loadAnswersFile(rt.options.answers, {readPasswords, defaultIpv4});
	const saved = rt.state.data().answers;
	if (!saved) throw new AnswersError('--answers', 'no answers: give --answers FILE (or run the interactive wizard in a terminal)');
	const s = saved as Record<string, any>;
	// Saved answers are already normalized; map them back to the file's keys.
	return validateAnswers(
		{
			domain: s.domain,
			hostname: s.hostname,
			ipv4: s.ipv4,
			ipv6: s.ipv6,
			tls: s.tls,
			users: (s.users as any[]).map((u) => ({name: u.name, password_file: u.passwordFile, password_hash: u.passwordHash, smtpd_hash: u.smtpdHash})),
			aliases: s.aliases,
			catch_all: s.catchAll,
			dkim: s.dkim,
			dmarc: s.dmarc,
			extra_domains: s.extraDomains,
			mta_sts: s.mtaSts,
			tlsrpt: s.tlsrpt,
			remove_mta: s.removeMta,
		},
		{readPasswords, defaultIpv4, passwordOptional: true},
	);
}
