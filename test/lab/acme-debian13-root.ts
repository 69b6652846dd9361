// The Debian 13 root of the ACME lane (test/lab/acme-debian13.test.ts): the Debian 13 lanes'
// packages (TRIXIE_PACKAGES) plus what the ACME stage installs (certbot, nginx, cron, iproute2),
// cached apart from the shared Debian 13 root so that building it never replaces the root other
// lanes use. Rebuilt when one of those packages is missing from it.
//
//   npx tsx test/lab/acme-debian13-root.ts   (build or reuse; prints the path)
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {ensureRoot, readVersions, TRIXIE_PACKAGES, TRIXIE_SPEC, trixieRootPath} from './debian13/root.ts';

export const ACME_PACKAGES = ['certbot', 'nginx', 'cron', 'iproute2'] as const;
const BINARIES = ['usr/bin/certbot', 'usr/sbin/nginx', 'usr/sbin/cron', 'usr/bin/ss'];

export function acmeTrixieRootPath(): string {
	// TRIXIE_PACKAGES follows every stage's packages, the ACME stage's among them: the same root serves.
	return process.env.MAILWIZARD_ACME_TRIXIE_ROOT || trixieRootPath();
}

export type AcmeTrixieRoot = {readonly dir: string; readonly ms: number; readonly cold: boolean; readonly packages?: Record<string, string>};

export async function acmeTrixieRoot(): Promise<AcmeTrixieRoot | {readonly error: string}> {
	const t0 = Date.now();
	let cold = false;
	try {
		const dir = await ensureRoot(
			{
				...TRIXIE_SPEC(),
				target: acmeTrixieRootPath(),
				packages: [...new Set([...TRIXIE_PACKAGES, ...ACME_PACKAGES])],
				stale: (d) => {
					const missing = BINARIES.filter((b) => !existsSync(join(d, b)));
					return missing.length ? `without ${missing.join(', ')}` : undefined;
				},
			},
			{log: (l) => (l.startsWith('cold build') ? (cold = true) : undefined)},
		);
		return {dir, ms: Date.now() - t0, cold, packages: readVersions(dir)?.packages};
	} catch (e) {
		return {error: e instanceof Error ? e.message : String(e)};
	}
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
	acmeTrixieRoot().then((r) => console.log(JSON.stringify(r, null, 2)));
}
