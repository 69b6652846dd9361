import type {Answers} from '../source/answers.ts';
import {onRoot} from '../source/engine/files.ts';
import {StepError, type Action, type Step} from '../source/engine/types.ts';
import {MAX_CERT, UnsafeFileError, safeReadFile} from '../source/platform/safe-read.ts';
import {checkTls, type TlsInput} from '../source/platform/tls.ts';

/** certbot's live/ paths are symlinks: followed; a FIFO, a device or a huge file is refused. */
function read(root: string, path: string): {text?: string; error?: string; mode?: number} {
	try {
		const f = safeReadFile(onRoot(root, path), {maxBytes: MAX_CERT, followLinks: true});
		return {text: f.text, mode: f.mode & 0o777};
	} catch (error) {
		if (error instanceof UnsafeFileError) return {error: /^E[A-Z]+$/.test(error.code) ? error.code : error.reason};
		return {error: (error as NodeJS.ErrnoException).code ?? String(error)};
	}
}

export const tls: Step<TlsInput & {pendingAcme?: boolean}> = {
	id: 'tls',
	title: 'TLS certificate: exists, matches its key, covers the host name, not expired',
	summary: 'checks the certificate and key that SMTP and IMAP will present',
	async facts(ctx, a) {
		// With ACME a dry run (or a run that stopped before the order) has no live files yet.
		if (a.tls.acme && ctx.readOnly && read(ctx.root, a.tls.cert).error) return {certPath: a.tls.cert, keyPath: a.tls.key, pendingAcme: true};
		const c = read(ctx.root, a.tls.cert);
		const k = read(ctx.root, a.tls.key);
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
