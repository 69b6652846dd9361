// Pebble, Let's Encrypt's test ACME server (Debian's `pebble`), on the lab's remote host.
//
//   https://mx.remote.test:14000/dir     the ACME directory (the wizard's tls.acme.directory)
//   https://mx.remote.test:15000/roots/0 the management API: the root that issues (fresh per start)
//
// Its own HTTPS uses a certificate from the lab CA (Lab.caCert is the wizard's tls.acme.ca_bundle);
// the certificates it issues chain to a root it generates at start (roots()), so a client that
// trusts that root and not the lab CA proves the certificate came from ACME. It resolves names
// through the lab DNS (-dnsserver) and validates http-01 against port 80 for real: no
// PEBBLE_VA_ALWAYS_VALID. Started by PID, stopped by PID (and with the lab: it lives in the
// remote host's network namespace, which Lab.down() empties).
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {alive, NET, run, type Lab} from './lab.ts';

export const PEBBLE_HOST = 'mx.remote.test';
export const PEBBLE_PORTS = {acme: 14000, management: 15000} as const;

export type PebbleOptions = {
	/** Validity of issued certificates in seconds (Pebble's certificateValidityPeriod). Default 90 days, as Let's Encrypt. */
	readonly validitySeconds?: number;
	readonly log?: (l: string) => void;
};

/**
 * The environment Pebble runs with: no random 0-15 s sleep before each validation (speed), no
 * nonce rejected on purpose (certbot would retry, but runs become non-deterministic), and no
 * authorization reused, so every order (renewals too) is validated over http-01 again.
 */
export const PEBBLE_ENV = {PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0'} as const;

/** Why Pebble cannot run here (the packages .ci/install-packages.sh installs), or undefined. */
export async function acmeUnavailable(): Promise<string | undefined> {
	for (const tool of ['pebble', 'certbot', 'nginx', 'curl']) {
		if ((await run(['sh', '-c', `command -v ${tool}`])).exitCode !== 0) return `${tool} is not installed (see .ci/install-packages.sh)`;
	}
	return undefined;
}

export class Pebble {
	readonly directory = `https://${PEBBLE_HOST}:${PEBBLE_PORTS.acme}/dir`;

	constructor(
		private readonly lab: Lab,
		readonly pid: number,
		readonly dir: string,
	) {}

	/** The PEM to trust for the directory's HTTPS (the wizard's ca_bundle): the lab CA. */
	get caBundle(): string {
		return this.lab.caCert;
	}

	/** Pebble's output so far (its log). */
	output(): string {
		return existsSync(join(this.dir, 'pebble.log')) ? readFileSync(join(this.dir, 'pebble.log'), 'utf8') : '';
	}

	/** The root its certificates chain to (PEM), from the management API, fetched on the remote host. */
	async roots(): Promise<string> {
		const r = await this.lab.exec('remote', ['curl', '-sS', '--fail', '--cacert', this.caBundle, `https://${PEBBLE_HOST}:${PEBBLE_PORTS.management}/roots/0`], {timeoutMs: 15_000});
		if (r.exitCode !== 0 || !r.stdout.includes('BEGIN CERTIFICATE')) throw new Error(`[acme] Pebble's root: ${r.stderr || r.stdout}`);
		return r.stdout;
	}

	/** Stops Pebble (its PID only) and waits until it is gone. */
	async stop(): Promise<void> {
		if (!alive(this.pid)) return;
		process.kill(this.pid, 'SIGTERM');
		for (let i = 0; i < 50 && alive(this.pid); i++) await new Promise((r) => setTimeout(r, 100));
		if (alive(this.pid)) process.kill(this.pid, 'SIGKILL');
	}
}

/** Pebble's HTTPS certificate (mx.remote.test and its address), signed by the lab CA. */
async function pebbleTlsCert(lab: Lab, dir: string): Promise<void> {
	const ca = join(lab.base, 'ca');
	writeFileSync(
		join(dir, 'leaf.ext'),
		`basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${PEBBLE_HOST},IP:${NET.remote}\n`,
	);
	const steps = [
		['openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', `/CN=${PEBBLE_HOST}`],
		['openssl', 'x509', '-req', '-in', 'req.csr', '-CA', join(ca, 'ca.pem'), '-CAkey', join(ca, 'ca.key'), '-CAcreateserial', '-out', 'cert.pem', '-days', '3', '-extfile', 'leaf.ext'],
	];
	for (const argv of steps) {
		const r = await run(argv, {cwd: dir});
		if (r.exitCode !== 0) throw new Error(`[acme] ${argv.slice(0, 2).join(' ')}: ${r.stderr}`);
	}
}

/** Starts Pebble on the remote host and waits until its directory answers over HTTPS. */
export async function startPebble(lab: Lab, opts: PebbleOptions = {}): Promise<Pebble> {
	const t0 = Date.now();
	const dir = join(lab.base, 'remote', 'pebble');
	mkdirSync(dir, {recursive: true, mode: 0o700});
	await pebbleTlsCert(lab, dir);
	const config = {
		pebble: {
			listenAddress: `${NET.remote}:${PEBBLE_PORTS.acme}`,
			managementListenAddress: `${NET.remote}:${PEBBLE_PORTS.management}`,
			certificate: join(dir, 'cert.pem'),
			privateKey: join(dir, 'key.pem'),
			// The ports it validates on: the real ones (http-01 on 80; tls-alpn-01 unused).
			httpPort: 80,
			tlsPort: 443,
			ocspResponderURL: '',
			externalAccountBindingRequired: false,
			certificateValidityPeriod: opts.validitySeconds ?? 90 * 86_400,
		},
	};
	writeFileSync(join(dir, 'pebble.json'), JSON.stringify(config, null, '\t'));
	const env = Object.entries(PEBBLE_ENV).map(([k, v]) => `${k}=${v}`);
	const pid = lab.spawnDaemon('remote', ['env', ...env, 'pebble', '-config', join(dir, 'pebble.json'), '-dnsserver', `${NET.dns}:53`], join(dir, 'pebble.log'));
	const pebble = new Pebble(lab, pid, dir);
	// It generates its root and intermediate keys first (~3 s).
	for (let i = 0; i < 150; i++) {
		if (!alive(pid)) break;
		const r = await lab.exec('remote', ['curl', '-sS', '--fail', '--cacert', lab.caCert, '-o', '/dev/null', pebble.directory], {timeoutMs: 5000});
		if (r.exitCode === 0) {
			opts.log?.(`pebble (pid ${pid}) up in ${Date.now() - t0} ms: ${pebble.directory}`);
			return pebble;
		}
		await new Promise((r) => setTimeout(r, 200));
	}
	await pebble.stop();
	throw new Error(`[acme] Pebble did not start:\n${pebble.output().slice(-3000)}`);
}
