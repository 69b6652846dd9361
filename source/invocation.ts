// The command the operator started mailwizard with, to repeat in messages ("run … again"):
// never a command that does not exist on this machine (an unpublished `npx mailwizard`).
import {basename, delimiter, dirname, resolve} from 'node:path';

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** Options that make a run preview-only: dropped from the command that applies. */
const PREVIEW_ONLY = new Set(['--dry-run', '-n']);

/**
 * How to run mailwizard again, as the operator started it: `mailwizard` when a bin link on
 * PATH ran it, `npx mailwizard` when npx fetched it, else `node /abs/dist/mailwizard.js`;
 * then the options given (without the preview-only ones when `apply`), and `sub` (a subcommand) instead of them.
 */
export function startCommand(opts: {apply?: boolean; sub?: string} = {}, argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string {
	const script = resolve(argv[1] ?? 'mailwizard');
	const onPath = (env.PATH ?? '').split(delimiter).some((d) => d && resolve(d) === dirname(script));
	let program: string;
	if (script.includes('/_npx/') && env.npm_command === 'exec') program = 'npx mailwizard';
	else if (basename(script) === 'mailwizard' && onPath && !script.includes('/_npx/')) program = 'mailwizard';
	else program = `node ${quote(script)}`;
	if (opts.sub) return `${program} ${opts.sub}`;
	const rest: string[] = [];
	const args = argv.slice(2);
	for (let i = 0; i < args.length; i++) {
		const a = args[i]!;
		if (opts.apply && PREVIEW_ONLY.has(a)) continue;
		if (opts.apply && a === '--target') {
			i++;
			continue;
		}
		if (opts.apply && a.startsWith('--target=')) continue;
		rest.push(quote(a));
	}
	return [program, ...rest].join(' ');
}
