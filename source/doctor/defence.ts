// The inbound defence's rows (issue 18): Redis answers Rspamd on its socket, the global Sieve
// script is compiled (Dovecot runs it before every delivery), fail2ban's jails are loaded, and
// nftables lets their bans in.
import {stat} from 'node:fs/promises';
import type {Answers} from '../answers.ts';
import {onRoot} from '../engine/files.ts';
import type {Ctx} from '../engine/types.ts';
import {REDIS_PATHS} from '../../templates/redis.ts';
import {SIEVE_PATHS} from '../../templates/sieve.ts';
import {JAILS} from '../../templates/fail2ban.ts';
import type {Row} from './row.ts';

const AGAIN = 'run mailwizard again (its spam stage writes and compiles it)';

async function run(ctx: Pick<Ctx, 'exec'>, argv: string[]): Promise<{code: number; out: string}> {
	try {
		const r = await ctx.exec.run({argv, daemon: true});
		return {code: r.exitCode, out: `${r.stdout}${r.stderr}`};
	} catch (error) {
		return {code: -1, out: error instanceof Error ? error.message : String(error)};
	}
}

export async function redisRow(ctx: Pick<Ctx, 'exec' | 'profile'>): Promise<Row> {
	const id = 'redis';
	const r = await run(ctx, ['redis-cli', '-s', REDIS_PATHS.socket, 'ping']);
	if (r.code === 0 && /PONG/.test(r.out)) return {id, area: 'daemons', status: 'ok', detail: `Redis answers on ${REDIS_PATHS.socket} (Bayes, greylisting)`};
	return {
		id,
		area: 'daemons',
		status: 'fail',
		detail: `Redis does not answer on ${REDIS_PATHS.socket}: Rspamd cannot learn or greylist (${r.out.trim().split('\n')[0]?.slice(0, 120) ?? ''})`,
		fix: ctx.profile.init === 'systemd' ? 'systemctl restart redis-server; journalctl -u redis-server' : 'service redis-server restart; see /var/log/redis/redis-server.log',
		who: 'admin',
	};
}

export async function sieveRow(ctx: Pick<Ctx, 'root'>): Promise<Row> {
	const id = 'sieve';
	const src = await stat(onRoot(ctx.root, SIEVE_PATHS.spamToJunk)).catch(() => undefined);
	const bin = await stat(onRoot(ctx.root, SIEVE_PATHS.spamToJunk.replace(/\.sieve$/, '.svbin'))).catch(() => undefined);
	if (!src) return {id, area: 'daemons', status: 'fail', detail: `no Sieve script ${SIEVE_PATHS.spamToJunk}: spam is not filed into Junk`, fix: AGAIN, who: 'admin'};
	if (!bin || bin.mtimeMs < src.mtimeMs)
		return {id, area: 'daemons', status: 'warn', detail: `${SIEVE_PATHS.spamToJunk} is not compiled: Dovecot compiles it at each delivery`, fix: `sievec ${SIEVE_PATHS.spamToJunk}`, who: 'admin'};
	return {id, area: 'daemons', status: 'ok', detail: `the Sieve script ${SIEVE_PATHS.spamToJunk} is compiled (spam goes into Junk)`};
}

export async function jailRows(ctx: Pick<Ctx, 'exec'>, a: Answers): Promise<Row[]> {
	if (a.bans === false) return [];
	return Promise.all(
		JAILS.map(async (jail): Promise<Row> => {
			const id = `jail:${jail}`;
			const r = await run(ctx, ['fail2ban-client', 'status', jail]);
			if (r.code !== 0)
				return {
					id,
					area: 'daemons',
					status: 'fail',
					detail: `fail2ban's jail ${jail} is not running: guessers are not banned`,
					fix: 'fail2ban-client -t (what is wrong), then service fail2ban restart',
					who: 'admin',
				};
			const banned = /Currently banned:\s*(\d+)/.exec(r.out)?.[1] ?? '?';
			return {id, area: 'daemons', status: 'ok', detail: `fail2ban's jail ${jail} is running (${banned} banned now; fail2ban-client status ${jail})`};
		}),
	);
}

/**
 * Whether fail2ban's ban actions can work at all: they add nftables rules, which needs
 * CAP_NET_ADMIN. A container without it (LXC, systemd-nspawn, Docker by default) runs the
 * jails, finds the guessers, and every ban fails in fail2ban.log ("Operation not permitted").
 */
export async function firewallRow(ctx: Pick<Ctx, 'exec'>, a: Answers): Promise<Row[]> {
	if (a.bans === false) return [];
	const id = 'nftables';
	const r = await run(ctx, ['nft', 'list', 'tables']);
	if (r.code === 0) return [{id, area: 'daemons', status: 'ok', detail: "nftables accepts fail2ban's bans (nft list tables answers)"}];
	const why = r.out.trim().split('\n').pop()?.slice(0, 120) ?? '';
	const denied = /Operation not permitted|EPERM/i.test(r.out);
	return [
		{
			id,
			area: 'daemons',
			status: 'fail',
			detail: denied ? `fail2ban cannot ban here: nftables refuses this host (${why}); a container without CAP_NET_ADMIN` : `fail2ban cannot ban: nft list tables fails (${why})`,
			fix: denied ? 'give the container CAP_NET_ADMIN (LXC: lxc.cap.keep, nspawn: --capability=CAP_NET_ADMIN), or ban at the host, or answer bans: false' : 'apt-get install nftables; nft list tables',
			who: denied ? 'provider' : 'admin',
		},
	];
}

/** Every defence row of these answers. */
export async function defenceRows(ctx: Pick<Ctx, 'exec' | 'root' | 'profile'>, a: Answers): Promise<Row[]> {
	return [await redisRow(ctx), await sieveRow(ctx), ...(await jailRows(ctx, a)), ...(await firewallRow(ctx, a))];
}
