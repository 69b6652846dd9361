// After a step (or a day-two change) failed: the files it wrote go back, the tables read from
// them are reloaded, and every daemon it restarted on the new files is restarted on the old
// ones and checked, so the server keeps running as it was; the hint says whether it does.
import {showCmd, type Cmd} from './exec.ts';
import {restore} from './files.ts';
import {serviceCmd, serviceRunning} from './services.ts';
import type {Ctx} from './types.ts';

/** A daemon a step started or restarted: how to bring it back and how to tell it is back. */
export type Touched = {readonly name: string; readonly exe?: string; readonly checks: readonly Cmd[]};

/** Where a failing step left the system: the files it replaced and the services it touched. */
export type Undo = {readonly written: Array<{path: string; backup?: string; onChange?: readonly Cmd[]}>; readonly touched: Touched[]; waited: boolean};

/** How putting back went: the daemons running again on the old files, those that are not, or why the files could not be put back. */
export type PutBack = {readonly back: readonly string[]; readonly down: readonly string[]; readonly failed?: string};

function unique(touched: readonly Touched[]): Touched[] {
	const seen = new Map<string, Touched>();
	for (const t of touched) seen.set(t.name, {...t, exe: t.exe ?? seen.get(t.name)?.exe, checks: [...(seen.get(t.name)?.checks ?? []), ...t.checks]});
	return [...seen.values()];
}

/** Restarts a daemon (on the restored files) and runs its checks: true when it is running and answers. */
async function restartOn(ctx: Ctx, t: Touched): Promise<boolean> {
	for (const cmd of [serviceCmd(ctx.profile.init, t.name, 'restart', t.exe), ...t.checks]) {
		const r = await ctx.exec.run(cmd).catch(() => undefined);
		if (!r || !(cmd.okCodes ?? [0]).includes(r.exitCode)) return false;
	}
	return serviceRunning(ctx, t.name, t.exe);
}

/** Puts back the files written (newest first), reloads what read them, restarts the daemons on them; undefined when nothing was written. */
export async function putBack(ctx: Ctx, undo: Undo): Promise<PutBack | undefined> {
	if (!undo.written.length) return undefined;
	try {
		await restore(ctx.root, undo.written);
	} catch (error) {
		return {back: [], down: [], failed: (error as Error).message};
	}
	// A table reloaded from a new file is reloaded from the restored one.
	for (const cmd of undo.written.flatMap((w) => w.onChange ?? [])) await ctx.exec.run(cmd).catch(() => undefined);
	const back: string[] = [];
	const down: string[] = [];
	for (const t of unique(undo.touched)) ((await restartOn(ctx, t)) ? back : down).push(t.name);
	return {back, down};
}

/** What the operator is told after putting back: where the backups are and whether each daemon runs again. */
export function restoredHint(ctx: Pick<Ctx, 'profile'>, change: boolean, p: PutBack, stamp: string): string {
	const backups = `/var/backups/mailwizard/${stamp}`;
	const then = change ? 'The change was not saved: fix the cause and run the command again.' : 'Progress is kept: fix the cause and run mailwizard again.';
	const what = change ? 'this change' : 'this step';
	if (p.failed) return `Putting back the files ${what} wrote failed too (${p.failed}): the previous files are under ${backups}. Copy them back, then ${then.split(': ')[1]}`;
	const running = p.back.length ? ` and ${p.back.join(', ')} ${p.back.length > 1 ? 'are' : 'is'} running again on them` : '';
	const notRunning = p.down.length
		? ` ${p.down.join(', ')} did not start again on the previous files either (${p.down.map((n) => showCmd(serviceCmd(ctx.profile.init, n, 'start'))).join(', ')} once the cause is fixed).`
		: '';
	return `The files ${what} wrote were restored${running} (backups under ${backups}).${notRunning} ${then}`;
}
