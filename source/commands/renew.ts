// mailwizard renew [--force]: renew the ACME certificate now, through the same path as the
// system's scheduled renewal (certbot renew; the deploy hook in the renewal file reloads the
// daemons only when a certificate was issued). Without --force only when it is due.
import {certInfo, expiryLine} from '../acme/certificate.ts';
import {EXIT, type ExitCode} from '../exit.ts';
import {stateDirOf, type Options} from '../options.ts';
import {lock} from '../run/lock.ts';
import {loadAnswers, makeRuntime, type Runtime} from '../runtime.ts';
import {certbotEnv, certbotRenewArgv} from '../../templates/acme.ts';

export async function renew(o: Options): Promise<ExitCode> {
	const rt = await makeRuntime(o, false);
	// One mailwizard at a time: a run in its ACME stage may be ordering this certificate now.
	const release = lock(stateDirOf(o));
	try {
		return await renewLocked(o, rt);
	} finally {
		release();
	}
}

async function renewLocked(o: Options, rt: Runtime): Promise<ExitCode> {
	const a = loadAnswers(rt, false);
	if (!a.tls.acme) {
		rt.err(`${a.hostname} uses its own certificate files (tls.cert, tls.key): renew them yourself, then run mailwizard again. "renew" is for tls.acme.`);
		return EXIT.usage;
	}
	const before = await certInfo(rt.ctx.root, a.tls.cert);
	if (!before) {
		rt.err(`There is no certificate at ${a.tls.cert} yet: run mailwizard (the ACME stage orders it) first.`);
		return EXIT.failed;
	}
	const cmd = {argv: certbotRenewArgv(a.hostname, o.force), env: certbotEnv(a.tls.acme.caBundle)};
	const r = await rt.exec.run(cmd, (line) => (o.verbose ? rt.out(line) : undefined));
	if (r.exitCode !== 0) {
		rt.err(`certbot renew failed (exit ${r.exitCode}); the current certificate is kept:\n${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-12).join('\n')}`);
		return EXIT.failed;
	}
	const after = await certInfo(rt.ctx.root, a.tls.cert);
	const renewed = after && after.serial !== before.serial;
	rt.out(renewed ? `Renewed: ${expiryLine(after)}. The deploy hook restarted opensmtpd and reloaded dovecot and nginx.` : `Not due yet (use --force to renew anyway): ${expiryLine(before)}.`);
	return EXIT.ok;
}
