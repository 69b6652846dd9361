// A small SMTP submission client for the self-test: EHLO, STARTTLS, EHLO again, AUTH PLAIN,
// MAIL FROM, RCPT TO, DATA, QUIT, each reply read whole (multi-line replies too), the whole
// dialogue bounded in time. A refusal is said with the step and the server's own reply.
import {connect as tcp, type Socket} from 'node:net';
import {connect as tlsConnect, type TLSSocket} from 'node:tls';

export type Submission = {
	readonly host: string;
	readonly port: number;
	/** The name sent with EHLO, and the TLS server name. */
	readonly helo: string;
	readonly servername: string;
	readonly login: string;
	readonly password: string;
	readonly from: string;
	readonly to: string;
	/** The message with CRLF line ends (dot-stuffed here). */
	readonly message: string;
	readonly timeoutMs: number;
	/** Tests against a fake server with a self-signed certificate; the self-test talks to its own address. */
	readonly rejectUnauthorized?: boolean;
};

export class SmtpError extends Error {
	override name = 'SmtpError';
	constructor(
		readonly step: string,
		readonly reply: string,
	) {
		super(`${step}: ${reply}`);
	}
}

/** Reads whole replies ("250-..." lines up to "250 ...") from a socket, one at a time. */
class Replies {
	private buf = '';
	private waiting: ((v: string) => void) | undefined;
	private failed: Error | undefined;
	private fail: ((e: Error) => void) | undefined;
	private readonly onData = (d: Buffer) => {
		this.buf += d.toString('latin1');
		this.deliver();
	};
	private readonly onError = (e: Error) => this.abort(e);
	private readonly onClose = () => this.abort(new Error('the server closed the connection'));
	private socket: Socket | TLSSocket;
	constructor(socket: Socket | TLSSocket) {
		this.socket = socket;
		this.attach(socket);
	}
	/** Stops reading the plain socket before TLS takes it over. */
	detach(): void {
		for (const [event, f] of [
			['data', this.onData],
			['error', this.onError],
			['close', this.onClose],
		] as const)
			this.socket.off(event, f);
	}
	/** Reads from socket from now on (after STARTTLS: the TLS socket; the plain one is let go). */
	attach(socket: Socket | TLSSocket): void {
		for (const [event, f] of [
			['data', this.onData],
			['error', this.onError],
			['close', this.onClose],
		] as const) {
			this.socket.off(event, f);
			socket.on(event, f);
		}
		this.socket = socket;
		this.buf = '';
	}
	private abort(e: Error): void {
		this.failed ??= e;
		this.fail?.(e);
	}
	private deliver(): void {
		const lines = this.buf.split('\r\n');
		const end = lines.findIndex((l, i) => i < lines.length - 1 && /^\d{3}(?: |$)/.test(l));
		if (end < 0 || !this.waiting) return;
		const reply = lines.slice(0, end + 1).join('\n');
		this.buf = lines.slice(end + 1).join('\r\n');
		const w = this.waiting;
		this.waiting = undefined;
		w(reply);
	}
	next(): Promise<string> {
		return new Promise((resolve, reject) => {
			if (this.failed) return reject(this.failed);
			this.waiting = resolve;
			this.fail = reject;
			this.deliver();
		});
	}
	async command(step: string, line: string | undefined, want: string): Promise<string> {
		if (line !== undefined) this.socket.write(`${line}\r\n`);
		const reply = await this.next().catch((e: Error) => {
			throw new SmtpError(step, e.message);
		});
		if (!reply.startsWith(want)) throw new SmtpError(step, reply.split('\n').pop()!);
		return reply;
	}
}

/** Lines starting with a dot get another (RFC 5321 4.5.2); the message ends with CRLF. */
export function dotStuffed(message: string): string {
	const text = message.endsWith('\r\n') ? message : `${message}\r\n`;
	return text.replace(/^\./gm, '..');
}

async function dialogue(r: Replies, plain: Socket, s: Submission): Promise<TLSSocket> {
	await r.command('greeting', undefined, '220');
	await r.command('EHLO', `EHLO ${s.helo}`, '250');
	await r.command('STARTTLS', 'STARTTLS', '220');
	r.detach();
	const secure = tlsConnect({socket: plain, servername: s.servername, rejectUnauthorized: s.rejectUnauthorized ?? false});
	await new Promise<void>((resolve, reject) => {
		secure.once('secureConnect', resolve);
		secure.once('error', (e) => reject(new SmtpError('TLS', e.message)));
	});
	r.attach(secure);
	await r.command('EHLO after STARTTLS', `EHLO ${s.helo}`, '250');
	await r.command('AUTH', `AUTH PLAIN ${Buffer.from(`\0${s.login}\0${s.password}`).toString('base64')}`, '235');
	await r.command('MAIL FROM', `MAIL FROM:<${s.from}>`, '250');
	await r.command('RCPT TO', `RCPT TO:<${s.to}>`, '250');
	await r.command('DATA', 'DATA', '354');
	secure.write(dotStuffed(s.message));
	await r.command('end of DATA', '.', '250');
	// Accepted: a polite QUIT, its answer not awaited for long (the message is the server's now).
	await Promise.race([r.command('QUIT', 'QUIT', '221').catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000))]);
	return secure;
}

/** Submits one message; resolves when the server accepted it (250 after DATA), else throws SmtpError. */
export function submit(s: Submission): Promise<void> {
	return new Promise((resolve, reject) => {
		const plain = tcp({host: s.host, port: s.port});
		let secure: TLSSocket | undefined;
		const timer = setTimeout(() => finish(new SmtpError('timeout', `no answer within ${s.timeoutMs / 1000} s`)), s.timeoutMs);
		function finish(error?: Error) {
			clearTimeout(timer);
			secure?.destroy();
			plain.destroy();
			if (error) reject(error);
			else resolve();
		}
		plain.once('error', (e: NodeJS.ErrnoException) => finish(new SmtpError('connect', e.code ?? e.message)));
		plain.once('connect', () => {
			// From here errors reach the replies (then the TLS socket): none is left unheard.
			plain.removeAllListeners('error');
			plain.on('error', () => {});
			const r = new Replies(plain);
			dialogue(r, plain, s).then(
				(t) => {
					secure = t;
					finish();
				},
				(e: Error) => finish(e instanceof SmtpError ? e : new SmtpError('SMTP', e.message)),
			);
		});
	});
}
