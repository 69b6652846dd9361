// Daemon rows: each daemon a stage declares is running; each mail port accepts a connection.
import {connect} from 'node:net';
import {serviceRunning} from '../engine/services.ts';
import type {Ctx, Daemon} from '../engine/types.ts';
import type {Row} from './row.ts';

export async function daemonRows(ctx: Pick<Ctx, 'profile' | 'exec'>, daemons: readonly Daemon[]): Promise<Row[]> {
	return Promise.all(
		daemons.map(async (d): Promise<Row> => {
			const id = `daemon:${d.service}`;
			if (await serviceRunning(ctx, d.service, d.exe)) return {id, area: 'daemons', status: 'ok', detail: `${d.service} is running`};
			const start = ctx.profile.init === 'systemd' ? `systemctl start ${d.service}; journalctl -u ${d.service}` : `service ${d.service} start`;
			return {id, area: 'daemons', status: 'fail', detail: `${d.service} is not running`, fix: `${start} (and read its log for why it stopped)`, who: 'admin'};
		}),
	);
}

/** Resolves to the error code, or undefined when a connection was accepted. */
export function tcpOpen(host: string, port: number, timeoutMs = 3000): Promise<string | undefined> {
	return new Promise((resolve) => {
		const s = connect({host, port});
		const end = (v: string | undefined) => {
			s.destroy();
			resolve(v);
		};
		s.setTimeout(timeoutMs, () => end('no answer'));
		s.on('connect', () => end(undefined));
		s.on('error', (e: NodeJS.ErrnoException) => end(e.code ?? e.message));
	});
}

export const MAIL_PORTS = [
	{port: 25, service: 'opensmtpd'},
	{port: 465, service: 'opensmtpd'},
	{port: 587, service: 'opensmtpd'},
	{port: 993, service: 'dovecot'},
] as const;

export async function portRows(host: string, ports: readonly {readonly port: number; readonly service: string}[]): Promise<Row[]> {
	return Promise.all(
		ports.map(async ({port, service}): Promise<Row> => {
			const id = `port:${port}`;
			const error = await tcpOpen(host, port);
			if (!error) return {id, area: 'ports', status: 'ok', detail: `${host}:${port} accepts connections (${service})`};
			return {id, area: 'ports', status: 'fail', detail: `${host}:${port}: ${error}`, fix: `check that ${service} runs and listens on ${host}:${port}; then the firewall`, who: 'admin'};
		}),
	);
}
