// Disk rows: free space where mail is stored and queued.
import {statfs} from 'node:fs/promises';
import type {Row} from './row.ts';

export const MAIL_DIRS = ['/var/vmail', '/var/spool/smtpd'] as const;

/** warn under 10% or 1 GiB free, fail under 2% or 200 MiB. */
export function diskStatus(free: number, total: number): Row['status'] {
	const share = total ? free / total : 0;
	if (share < 0.02 || free < 200 * 2 ** 20) return 'fail';
	return share < 0.1 || free < 2 ** 30 ? 'warn' : 'ok';
}

export async function diskRows(root: string, dirs: readonly string[] = MAIL_DIRS): Promise<Row[]> {
	return Promise.all(
		dirs.map(async (dir): Promise<Row> => {
			const id = `disk:${dir}`;
			try {
				const s = await statfs(root === '/' ? dir : `${root}${dir}`);
				const free = s.bavail * s.bsize;
				const total = s.blocks * s.bsize;
				const status = diskStatus(free, total);
				const detail = `${(free / 2 ** 30).toFixed(1)} GiB free of ${(total / 2 ** 30).toFixed(1)} GiB (${total ? Math.round((100 * free) / total) : 0}%)`;
				return status === 'ok' ? {id, area: 'disk', status, detail} : {id, area: 'disk', status, detail, fix: `free space on the file system of ${dir}, or grow it`, who: 'admin'};
			} catch (error) {
				const code = (error as NodeJS.ErrnoException).code;
				return {id, area: 'disk', status: 'unknown', detail: `${dir}: ${code ?? (error as Error).message}`, fix: code === 'ENOENT' ? 'run the setup first' : undefined, who: 'admin'};
			}
		}),
	);
}
