// Read-only probes shared by steps.
import {readText} from './files.ts';
import type {Ctx} from './types.ts';

export type PasswdEntry = {name: string; uid: number; gid: number; home: string; shell: string};

export async function passwdEntry(ctx: Ctx, name: string): Promise<PasswdEntry | undefined> {
	for (const line of ((await readText(ctx.root, '/etc/passwd')) ?? '').split('\n')) {
		const f = line.split(':');
		if (f[0] === name && f.length >= 7) return {name, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]!};
	}
	return undefined;
}

export async function groupId(ctx: Ctx, name: string): Promise<number | undefined> {
	for (const line of ((await readText(ctx.root, '/etc/group')) ?? '').split('\n')) {
		const f = line.split(':');
		if (f[0] === name && f.length >= 3) return Number(f[2]);
	}
	return undefined;
}

export async function usedIds(ctx: Ctx): Promise<{uids: Set<number>; gids: Set<number>}> {
	const ids = (file: string) =>
		new Set(
			(file ?? '')
				.split('\n')
				.map((l) => Number(l.split(':')[2]))
				.filter((n) => Number.isInteger(n)),
		);
	return {uids: ids((await readText(ctx.root, '/etc/passwd')) ?? ''), gids: ids((await readText(ctx.root, '/etc/group')) ?? '')};
}

/** Installed package versions (dpkg), undefined when not installed. */
export async function dpkgVersions(ctx: Ctx, names: readonly string[]): Promise<Record<string, string | undefined>> {
	const out: Record<string, string | undefined> = Object.fromEntries(names.map((n) => [n, undefined]));
	if (!(await ctx.exec.which('dpkg-query'))) return out;
	const r = await ctx.exec.run({argv: ['dpkg-query', '-W', '-f', '${Package}\t${Version}\t${db:Status-Status}\n', ...names]});
	for (const line of r.stdout.split('\n')) {
		const [name, version, status] = line.split('\t');
		if (name && version && status === 'installed') out[name] = version;
	}
	return out;
}

/** dpkg --compare-versions, in JS, enough for the versions Debian ships (epoch:upstream-revision). */
export function versionAtLeast(version: string | undefined, min: string): boolean {
	if (!version) return false;
	const strip = (v: string) => v.replace(/^\d+:/, '');
	const parts = (v: string) =>
		strip(v)
			.split(/[^0-9]+/)
			.filter(Boolean)
			.map(Number);
	const a = parts(version);
	const b = parts(min);
	for (let i = 0; i < Math.max(a.length, b.length); i++) {
		const x = a[i] ?? 0;
		const y = b[i] ?? 0;
		if (x !== y) return x > y;
	}
	return true;
}
