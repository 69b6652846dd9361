// The plain line reporter: one line per event, for logs, pipes and --yes runs.
import type {Event} from '../engine/types.ts';
import {describeAction} from '../engine/print.ts';
import type {InitSystem} from '../platform/profile.ts';
import {showCmd} from '../engine/exec.ts';
import {startCommand} from '../invocation.ts';

export type Writer = (line: string) => void;

export function plainReporter(write: Writer, init: InitSystem, verbose = false): (e: Event) => void {
	let stepChanges = 0;
	return (e) => {
		switch (e.type) {
			case 'step':
				stepChanges = 0;
				write(`[${e.index + 1}/${e.total}] ${e.title}`);
				break;
			case 'plan':
				stepChanges = e.actions.filter((a) => a.kind !== 'notice' && a.kind !== 'wait').length;
				if (stepChanges === 0 && !e.actions.some((a) => a.kind === 'wait')) write('  nothing to change');
				break;
			case 'action':
				if (e.status === 'start') {
					const a = e.action;
					const line = a.kind === 'run' ? `$ ${showCmd(a.cmd)}` : a.kind === 'file' ? `write ${a.path}` : a.kind === 'dir' ? `directory ${a.path}` : a.kind === 'service' ? `${a.op} ${a.name}` : '';
					if (line) write(`  ${line}`);
				}
				break;
			case 'output':
				if (verbose) write(`    | ${e.line}`);
				break;
			case 'notice':
				for (const l of describeAction(e.notice, init)) write(`  ${l.replace(/^# ?/, '')}`);
				break;
			case 'wait': {
				const r = e.report;
				const pub = r.checks.filter((c) => c.record.publishable);
				const ok = pub.filter((c) => c.state === 'ok').length;
				write(`  DNS: ${ok}/${pub.length} records on every authoritative server of ${r.zone} (${r.servers.join(', ') || 'no servers found'}), checked in ${r.durationMs} ms`);
				for (const c of pub) {
					if (c.state === 'ok') continue;
					const bad = c.results.filter((x) => x.state !== 'ok');
					write(`    ${c.state.padEnd(11)} ${c.record.type} ${c.record.name}: ${bad.map((b) => `${b.server} ${b.state}${b.detail ? ` (${b.detail})` : ''}`).join('; ') || 'no server answered'}`);
				}
				for (const p of r.problems) write(`    problem: ${p}`);
				if (!r.complete && e.nextPollIn > 0) write(`  next check in ${Math.round(e.nextPollIn / 1000)} s (Ctrl-C to stop; run mailwizard again later to continue)`);
				break;
			}
			case 'waiting':
				write(`  Waiting for ${e.pending} DNS record${e.pending === 1 ? '' : 's'}. Progress is saved: publish them ("${startCommand({sub: 'dns --zone'})}"), then run the same command again.`);
				break;
			case 'step-done':
				if (e.changed > 0) write(`  done (${e.changed} change${e.changed === 1 ? '' : 's'})`);
				break;
			case 'done':
				write(e.changed === 0 ? 'Nothing changed: the system already matches the answers.' : `Finished: ${e.changed} change${e.changed === 1 ? '' : 's'} applied.`);
				break;
			case 'error':
				write(`ERROR in step ${e.id}: ${e.message}`);
				if (e.command) write(`  command: ${e.command}${e.exitCode !== undefined ? ` (exit ${e.exitCode})` : ''}`);
				if (e.tail) for (const l of e.tail.split('\n')) write(`  | ${l}`);
				if (e.hint) write(`  ${e.hint}`);
				break;
		}
	};
}
