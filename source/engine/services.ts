// Services: systemctl on systemd hosts, service(8) / init.d otherwise.
import type {Cmd, Ctx, ServiceOp, Step} from './types.ts';
import type {InitSystem} from '../platform/profile.ts';

/**
 * The binary of a daemon's main process, as the stage that manages it declares. Without
 * systemd, an init script's "status" is not to be trusted: opensmtpd's prints "not running
 * ... failed!" and still exits 0.
 */
export function exeOf(step: Pick<Step, 'daemons'>, service: string): string | undefined {
	return step.daemons?.find((d) => d.service === service)?.exe;
}

/** How long a start or restart waits for a daemon's `ready` port (a cold Rspamd takes ~15 s on a loaded machine). */
export const READY_SECONDS = 60;

/**
 * The wait for a daemon's `ready` port: true once 127.0.0.1:PORT accepts a connection, false after
 * `seconds`. Perl's IO::Socket::INET is in perl-base (on every Debian), so no client is installed for it.
 */
export function readyCmd(step: Pick<Step, 'daemons'>, service: string, seconds = READY_SECONDS): Cmd | undefined {
	const port = step.daemons?.find((d) => d.service === service)?.ready?.tcp;
	if (port === undefined) return undefined;
	const probe = `perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(PeerAddr => "127.0.0.1:${port}", Timeout => 1) ? 0 : 1)'`;
	return {argv: ['sh', '-c', `i=0; until ${probe}; do [ $i -ge ${seconds * 2} ] && exit 1; sleep 0.5; i=$((i+1)); done`], daemon: true};
}

/** Debian's unit/init script names; `exe` (see exeOf) makes a sysv restart wait for the old process. */
export function serviceCmd(init: InitSystem, name: string, op: ServiceOp, exe?: string): Cmd {
	if (init === 'systemd') {
		// daemon-reload first: a drop-in written in this step (opensmtpd's) takes effect now.
		if (op === 'start') return {argv: ['sh', '-c', `systemctl daemon-reload && systemctl enable --now ${name}`], daemon: true};
		if (op === 'restart') return {argv: ['sh', '-c', `systemctl daemon-reload && systemctl restart ${name}`], daemon: true};
		return {argv: ['systemctl', op, name], daemon: true};
	}
	if (op === 'restart') {
		// Init scripts (opensmtpd's among them) stop without waiting: a start right after
		// finds the old daemon still there and does nothing. Stop, wait until gone, start.
		// Its helpers may still hold the listening sockets a moment longer (Dovecot's login
		// processes: "Dovecot is already running?"): a failed start is tried once more after 2 s.
		const running = exe ? `alive ${exe}` : `service ${name} status >/dev/null 2>&1`;
		const start = `service ${name} start || { sleep 2; service ${name} start; }`;
		return {argv: ['sh', '-c', `${exe ? `${ALIVE_SH}; ` : ''}service ${name} stop; i=0; while ${running} && [ $i -lt 30 ]; do sleep 0.5; i=$((i+1)); done; ${start}`], daemon: true};
	}
	return {argv: ['service', name, op], daemon: true};
}

/**
 * sh: `alive EXE` is true while a process of this system (same mount namespace: not one in a
 * container) runs EXE, or ran it before an upgrade replaced it. A zombie has no exe: not alive.
 * One find over /proc (a readlink per process would fork hundreds of times).
 */
export const ALIVE_SH =
	'alive() { m=$(readlink /proc/self/ns/mnt); for e in $(find /proc/[0-9]*/exe -maxdepth 0 \\( -lname "$1" -o -lname "$1 (deleted)" \\) 2>/dev/null); do [ "$(readlink "${e%/exe}/ns/mnt")" = "$m" ] && return 0; done; return 1; }';

// (daemon: the plain spawn path; a dry run that only probes never loads execa, ~130 ms.)
export async function serviceRunning(ctx: Pick<Ctx, 'profile' | 'exec'>, name: string, exe?: string): Promise<boolean> {
	const cmd: Cmd =
		ctx.profile.init === 'systemd'
			? {argv: ['systemctl', 'is-active', '--quiet', name], daemon: true}
			: exe
				? {argv: ['sh', '-c', `${ALIVE_SH}; alive ${exe}`], daemon: true}
				: {argv: ['service', name, 'status'], daemon: true};
	try {
		const r = await ctx.exec.run(cmd);
		return r.exitCode === 0;
	} catch {
		return false;
	}
}

/**
 * The daemon's own last words after a failed start: its journal (systemd), else its lines in
 * the system log (rsyslog's mail.log and syslog). The daemon name in the log is its binary's.
 */
export function daemonLogCmd(init: InitSystem, name: string, exe?: string, lines = 8): Cmd {
	if (init === 'systemd') return {argv: ['journalctl', '-u', name, '-n', String(lines), '--no-pager', '-o', 'cat'], okCodes: [0, 1]};
	const tag = (exe ?? name)
		.split('/')
		.at(-1)!
		.replace(/[^A-Za-z0-9_.-]/g, '');
	return {argv: ['sh', '-c', `tail -q -n 400 /var/log/mail.log /var/log/syslog 2>/dev/null | grep -E ' ${tag}(\\[[0-9]+\\])?: ' | awk '!seen[$0]++' | tail -n ${lines}`], okCodes: [0, 1]};
}
