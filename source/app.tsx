// The interactive wizard (a TTY, no --answers, no --yes): renders source/ui/App.tsx.
// The first frame reads only the saved state; host probes wait until apply or preview.
import {restoreCiEnv} from './ui/terminal-env.ts';
import {render} from 'ink';
import {EXIT, UsageError, type ExitCode} from './exit.ts';
import {stateDirOf, type Options} from './options.ts';
import {makeRuntime, systemResolvers} from './runtime.ts';
import {openState} from './engine/state.ts';
import {defaultIpv4, defaultIpv6} from './platform/host.ts';
import {STEPS} from '../steps/index.ts';
import {App, type Deps} from './ui/App.tsx';
import {toAnswers} from './ui/form.ts';
import {homedir} from 'node:os';

/** prefill: answers (file form) from --answers, shown instead of the saved ones. */
export async function runTui(o: Options, prefill?: Readonly<Record<string, unknown>>): Promise<ExitCode> {
	restoreCiEnv();
	const saved = openState(stateDirOf(o), true);
	const isRoot = process.getuid?.() === 0;
	// --dry-run in a terminal (when the command routes it here): answer, review, preview; never apply.
	const canApply = !o.dryRun && o.root === '/' && isRoot;
	// Ctrl-C arrives as a key in raw mode: App aborts the AbortSignal given to apply(),
	// which ends the running command (execa's cancelSignal) and saves progress.
	let signalHandler: (() => void) | undefined;
	const onSignal = () => signalHandler?.();
	const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
	for (const s of signals) process.on(s, onSignal);
	let code: ExitCode = EXIT.failed;
	try {
		code = await new Promise<ExitCode>((resolve) => {
			const deps: Deps = {
				steps: STEPS,
				data: prefill ? {...saved.data(), answers: prefill} : saved.data(),
				stateFile: saved.file,
				// The answers are saved at the end, by default in the operator's home directory.
				env: {root: o.root, defaultIpv4, defaultIpv6, saveDir: process.env.HOME || homedir()},
				canApply,
				dryRun: o.dryRun,
				answers: (form) => toAnswers(form, isRoot),
				async start(answers, confirm, signal) {
					if (!canApply) throw new UsageError('the wizard changes the system and must run as root (sudo)');
					const {startRun} = await import('./run/start.ts');
					return startRun(await makeRuntime(o, false), answers, {signal, confirm, wait: o.noWait ? 'once' : 'poll'});
				},
				// A resumed run that stopped at the DNS wait: ask again now, after the first frame.
				recheck: saved.data().wait?.records.length
					? async (signal) => {
							const {checkRecords} = await import('./dns/check.ts');
							const records = saved.data().wait!.records;
							const report = await checkRecords(records, {resolvers: o.resolvers.length ? o.resolvers : systemResolvers(o.root), signal});
							const checks = report.checks.filter((c) => c.record.publishable);
							return {ok: checks.filter((c) => c.state === 'ok').length, total: checks.length};
						}
					: undefined,
				async preview(answers) {
					const {planAll} = await import('./commands/plan.ts');
					const rt = await makeRuntime(o, true);
					const {plans} = await planAll(rt, answers);
					return {plans, init: rt.profile.init};
				},
				async save(answers, path) {
					const {saveAnswers} = await import('./run/save.ts');
					return saveAnswers(o.root, answers, path);
				},
				onSignal(handler) {
					signalHandler = handler;
					return () => {
						if (signalHandler === handler) signalHandler = undefined;
					};
				},
				exit: resolve,
			};
			render(<App deps={deps} />, {exitOnCtrlC: false, patchConsole: false});
		});
	} finally {
		for (const s of signals) process.off(s, onSignal);
	}
	return code;
}
