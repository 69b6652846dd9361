import {readFile, stat} from 'node:fs/promises';
import type {Answers} from '../source/answers.ts';
import {onRoot} from '../source/engine/files.ts';
import {StepError, type Action, type Step} from '../source/engine/types.ts';
import {checkTls, type TlsInput} from '../source/platform/tls.ts';

async function read(root: string, path: string): Promise<{text?: string; error?: string; mode?: number}> {
	try {
		const text = await readFile(onRoot(root, path), 'utf8');
		const s = await stat(onRoot(root, path));
		return {text, mode: s.mode & 0o777};
	} catch (error) {
		return {error: (error as NodeJS.ErrnoException).code ?? String(error)};
	}
}

export const tls: Step<TlsInput & {pendingAcme?: boolean}> = {
	id: 'tls',
	title: 'TLS certificate: exists, matches its key, covers the host name, not expired',
	summary: 'checks the certificate and key that SMTP and IMAP will present',
	async facts(ctx, a) {
		// With ACME a dry run (or a run that stopped before the order) has no live files yet.
		if (a.tls.acme && ctx.readOnly && (await read(ctx.root, a.tls.cert)).error) return {certPath: a.tls.cert, keyPath: a.tls.key, pendingAcme: true};
		const c = await read(ctx.root, a.tls.cert);
		const k = await read(ctx.root, a.tls.key);
		return {certPath: a.tls.cert, keyPath: a.tls.key, cert: c.text, certError: c.error, key: k.text, keyError: k.error, keyMode: k.mode};
	},
	plan(a: Answers, f) {
		if (f.pendingAcme) return [{kind: 'notice', level: 'info', title: 'TLS certificate', lines: [`certbot's files ${a.tls.cert} and ${a.tls.key} are checked here once the ACME stage obtained them`]}];
		const v = checkTls(f, a.hostname);
		if (v.errors.length > 0) throw new StepError(v.errors.join('\n'), 'Nothing was changed. Fix the certificate paths in the answers (tls.cert, tls.key) or the files, then run mailwizard again.');
		const actions: Action[] = [];
		if (v.info.length) actions.push({kind: 'notice', level: 'info', title: 'TLS certificate', lines: v.info});
		if (v.warnings.length) actions.push({kind: 'notice', level: 'warn', title: 'TLS certificate', lines: v.warnings});
		if (f.keyMode !== undefined && (f.keyMode & 0o077) !== 0) {
			actions.push({kind: 'run', cmd: {argv: ['chmod', 'go-rwx', a.tls.key]}, why: `the private key is readable by others (mode 0${f.keyMode.toString(8)}); OpenSMTPD refuses such a key`});
		}
		return actions;
	},
};
