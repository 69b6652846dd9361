// The dry run: the plan printed as a script an operator can review. Secrets masked.
import {createTwoFilesPatch} from 'diff';
import {formatTable} from '../dns/format.ts';
import {mask, showCmd} from './exec.ts';
import {isGenerated} from './files.ts';
import type {Resolved, StepPlan} from './plan.ts';
import {exeOf, READY_SECONDS, serviceCmd} from './services.ts';
import type {Step} from './types.ts';
import type {InitSystem} from '../platform/profile.ts';
import type {SecretEntries} from './types.ts';

export function modeStr(mode: number): string {
	return `0${mode.toString(8).padStart(3, '0')}`;
}

const SEPARATOR: Record<Exclude<SecretEntries, 'whole'>, RegExp> = {colon: /:/, word: /\s/, quote: /"/};

/**
 * The entries of a file that holds secrets, by name (user names, table keys): a line without
 * its separator is named by its number, so no part of a hash or key is ever a name. Comments
 * and blank lines are no entries (a commented-out hash is never shown either).
 */
export function secretEntries(text: string, kind: Exclude<SecretEntries, 'whole'>): Map<string, string> {
	const out = new Map<string, string>();
	text.split('\n').forEach((line, i) => {
		if (!line.trim() || line.trimStart().startsWith('#')) return;
		const at = line.search(SEPARATOR[kind]);
		out.set(at > 0 && line.slice(0, at).trim() ? line.slice(0, at).trim() : `line ${i + 1}`, line);
	});
	return out;
}

/** What changes in a file that holds secrets: entry names only, never a hash or key, old or new. */
export function secretSummary(kind: SecretEntries, oldText: string | undefined, newText: string): string {
	if (kind === 'whole') return oldText === undefined ? '(a secret: its content is never shown)\n' : '(a secret: its content changes; neither the old nor the new one is shown)\n';
	const before = secretEntries(oldText ?? '', kind);
	const after = secretEntries(newText, kind);
	const lines: string[] = [];
	for (const [name, line] of after) {
		if (!before.has(name)) lines.push(`+ ${name} (added)`);
		else if (before.get(name) !== line) lines.push(`~ ${name} (changed)`);
	}
	for (const name of before.keys()) if (!after.has(name)) lines.push(`- ${name} (removed)`);
	const head = '(holds secrets: never shown line by line, old or new; the entries that change:)';
	return `${[head, ...(lines.length ? lines : ['(none: only comments or layout change)'])].join('\n')}\n`;
}

export function fileDiff(a: Resolved & {kind: 'file'}): string {
	if (isGenerated(a.content)) return `(generated at apply time: ${a.content.generate}; never shown)\n`;
	if (a.metaOnly) return '(content unchanged)\n';
	if (a.unreadable) return '(the file exists but this user cannot read it: the difference is computed when mailwizard runs as root)\n';
	const kind = a.sensitive ?? (a.secrets ? 'whole' : undefined);
	if (kind) return secretSummary(kind, a.old, a.content);
	const newText = mask(a.content, a.secrets);
	if (a.old === undefined) {
		return newText
			.split('\n')
			.map((l, i, all) => (i === all.length - 1 && l === '' ? '' : `+${l}\n`))
			.join('');
	}
	const oldText = mask(a.old, a.secrets);
	const patch = createTwoFilesPatch(a.path, a.path, oldText, newText, 'on disk', 'planned', {context: 3});
	return patch.split('\n').slice(2).join('\n');
}

export function describeAction(a: Resolved, init: InitSystem, step: Pick<Step, 'daemons'> = {}): string[] {
	switch (a.kind) {
		case 'run':
			return [`$ ${showCmd(a.cmd)}`, `  # ${a.why}`];
		case 'dir':
			return [`$ install -d -m ${modeStr(a.mode)}${a.owner ? ` -o ${a.owner}` : ''}${a.group ? ` -g ${a.group}` : ''} ${a.path}`, `  # ${a.why}`];
		case 'service': {
			const port = a.op === 'stop' ? undefined : step.daemons?.find((d) => d.service === a.name)?.ready?.tcp;
			const ready = port === undefined ? [] : [`#   then waits up to ${READY_SECONDS} s until ${a.name} answers on 127.0.0.1:${port}`];
			return [`$ ${showCmd(serviceCmd(init, a.name, a.op, exeOf(step, a.name)))}`, `  # ${a.why}`, ...ready, ...(a.verify ?? []).map((v) => `$ ${showCmd(v)}   # check`)];
		}
		case 'file': {
			const who = a.owner || a.group ? ` ${a.owner ?? 'root'}:${a.group ?? 'root'}` : '';
			const head = `${a.old === undefined && !a.unreadable ? 'create' : a.metaOnly ? 'set mode/owner of' : 'update'} ${a.path} (${modeStr(a.mode)}${who})`;
			const lines = [`# ${head}: ${a.why}`];
			if (a.validate) lines.push(`#   checked before it replaces the file: ${a.validate.join(' ')}`);
			for (const v of a.verify ?? []) lines.push(`#   checked after: ${showCmd(v)}`);
			for (const c of a.onChange ?? []) lines.push(`$ ${showCmd(c)}   # after the file changes`);
			lines.push(
				...fileDiff(a)
					.replace(/\n$/, '')
					.split('\n')
					.map((l) => `  ${l}`),
			);
			return lines;
		}
		case 'notice':
			return [
				`# ${a.level === 'warn' ? 'WARNING: ' : ''}${a.title}`,
				...a.lines.map((l) => `#   ${l}`),
				...(a.records
					? formatTable(a.records)
							.split('\n')
							.map((l) => `#   ${l}`)
					: []),
			];
		case 'wait':
			return [`# wait until every authoritative server of ${a.domain} publishes ${a.records.length} records (${a.why})`, ...a.records.map((r) => `#   ${r.type.padEnd(5)} ${r.name}.`)];
	}
}

/** The whole dry run as text. */
export function printPlan(plans: readonly StepPlan[], init: InitSystem): string {
	const out: string[] = [];
	plans.forEach((p, i) => {
		out.push(`## ${i + 1}/${plans.length} ${p.step.title}${p.changes === 0 ? ' — nothing to change' : ` — ${p.changes} change${p.changes === 1 ? '' : 's'}`}`);
		for (const a of p.actions) out.push(...describeAction(a, init, p.step));
		out.push('');
	});
	const total = plans.reduce((n, p) => n + p.changes, 0);
	out.push(total === 0 ? 'Nothing to change: the system already matches the answers.' : `${total} change${total === 1 ? '' : 's'} planned. Nothing was changed (dry run).`);
	return `${out.join('\n')}\n`;
}
