// Redis for Rspamd (Bayes, greylisting, rate limits): /etc/redis/redis.conf and
// Rspamd's /etc/rspamd/local.d/redis.conf. Redis never listens on the network.
// Two ways to keep other local users out (issue 18):
// - socket: no TCP port; a Unix socket with mode 770, owner redis:redis, and Rspamd's
//   user (_rspamd) in the redis group. No secret to manage.
// - password: TCP on loopback only, `requirepass`; the password sits in two files that
//   only redis / _rspamd can read (redis.conf 640 redis:redis, local.d/redis.conf 640 root:_rspamd).

export type RedisAccess = {readonly kind: 'socket'} | {readonly kind: 'password'; readonly password: string};

export const REDIS_PATHS = {
	conf: '/etc/redis/redis.conf',
	socket: '/run/redis/redis-server.sock',
	rspamdConf: '/etc/rspamd/local.d/redis.conf',
} as const;

export const REDIS_PORT = 6379;

/** A password Redis and Rspamd both take verbatim: no quote, space, backslash or `#`. */
export function isSafeRedisPassword(p: string): boolean {
	return /^[A-Za-z0-9_.:@%+=/-]{16,128}$/.test(p);
}

function checkAccess(a: RedisAccess): void {
	if (a.kind === 'password' && !isSafeRedisPassword(a.password)) {
		throw new Error('redis password: 16-128 characters of [A-Za-z0-9_.:@%+=/-]');
	}
}

function listening(a: RedisAccess): string {
	if (a.kind === 'socket') {
		return `# No TCP at all: only the Unix socket, for the redis group (Rspamd's user is in it).
port 0
unixsocket ${REDIS_PATHS.socket}
unixsocketperm 770`;
	}
	return `# Loopback only, and a password: other local users can connect but not read or write.
bind 127.0.0.1 -::1
port ${REDIS_PORT}
requirepass ${a.password}`;
}

/**
 * /etc/redis/redis.conf, whole. Debian's init script and systemd unit both read this file:
 * the init script wants `daemonize yes` and this pid file (the unit overrides daemonize).
 */
export function redisConf(a: RedisAccess): string {
	checkAccess(a);
	return `# Managed by mailwizard. Redis for Rspamd only. Changes here are replaced on the next run.
${listening(a)}
protected-mode yes
tcp-backlog 511
timeout 0
tcp-keepalive 300
daemonize yes
pidfile /run/redis/redis-server.pid
loglevel notice
logfile /var/log/redis/redis-server.log
databases 16
dir /var/lib/redis
dbfilename dump.rdb
save 3600 1 300 100 60 10000
stop-writes-on-bgsave-error yes
# Bayes tokens and greylisting triplets; greylisting keys expire on their own.
maxmemory 256mb
maxmemory-policy volatile-lru
appendonly no
`;
}

/** /etc/rspamd/local.d/redis.conf: the Redis every Rspamd module uses (Bayes, greylist, ratelimit). */
export function rspamdRedisConf(a: RedisAccess): string {
	checkAccess(a);
	if (a.kind === 'socket') {
		return `# Managed by mailwizard. Redis over its Unix socket (_rspamd is in the redis group).
servers = "${REDIS_PATHS.socket}";
`;
	}
	return `# Managed by mailwizard. Redis on loopback, with its password (this file is 640 root:_rspamd).
servers = "127.0.0.1:${REDIS_PORT}";
password = "${a.password}";
`;
}
