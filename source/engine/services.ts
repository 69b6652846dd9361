// Services: systemctl on systemd hosts, service(8) / init.d otherwise.
import type {Cmd, Ctx, ServiceOp} from './types.ts';
import type {InitSystem} from '../platform/profile.ts';

/** Debian's unit/init script names. */
export function serviceCmd(init: InitSystem, name: string, op: ServiceOp): Cmd {
	if (init === 'systemd') {
		// daemon-reload first: a drop-in written in this step (opensmtpd's) takes effect now.
		if (op === 'start') return {argv: ['sh', '-c', `systemctl daemon-reload && systemctl enable --now ${name}`], daemon: true};
		if (op === 'restart') return {argv: ['sh', '-c', `systemctl daemon-reload && systemctl restart ${name}`], daemon: true};
		return {argv: ['systemctl', op, name], daemon: true};
	}
	if (op === 'restart') {
		// Init scripts (opensmtpd's among them) stop without waiting: a start right after
		// finds the old daemon still there and does nothing. Stop, wait until gone, start.
		return {argv: ['sh', '-c', `service ${name} stop; i=0; while service ${name} status >/dev/null 2>&1 && [ $i -lt 30 ]; do sleep 0.5; i=$((i+1)); done; service ${name} start`], daemon: true};
	}
	return {argv: ['service', name, op], daemon: true};
}

export async function serviceRunning(ctx: Ctx, name: string): Promise<boolean> {
	const cmd: Cmd = ctx.profile.init === 'systemd' ? {argv: ['systemctl', 'is-active', '--quiet', name]} : {argv: ['service', name, 'status'], daemon: true};
	try {
		const r = await ctx.exec.run(cmd);
		return r.exitCode === 0;
	} catch {
		return false;
	}
}
