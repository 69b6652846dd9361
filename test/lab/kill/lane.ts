// Killed at every action (issue 20): the wizard is run once on a fresh mx to learn its
// actions; then, for each action boundary N, a fresh mx (Lab.resetMx: a new copy of the
// machine's root, every process of the old one stopped) runs the wizard until action N+1
// starts, kills it with SIGKILL, and runs it again. Every re-run must converge to the end
// state of the uninterrupted run: the same configuration files, the same users, one DKIM key
// (the one whose public half was printed, when it was), the daemons running, mail received
// and sent. Two more kills land in the middle of a long action (a daemon start).
// The boundary is the wizard's own output: the line it prints when an action starts.
// The boundaries are split in two halves, one per test file (test/lab/kill-1.test.ts, -2), so
// that two lab slots run them at once; the first half also cuts the power, the second kills
// mid daemon start. Needs root and `ip netns`; otherwise skipped with the reason in the title.
import test, {type ExecutionContext} from 'ava';
import {spawn} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {ANSWERS, answersText, DIST, STATE, WIZARD_TIMEOUT_MS} from '../assertions.ts';
import {Lab, LAB_DNSBL, LAB_LOCK_WAIT_MS, labUnavailable, NET, pidofHere, type ExecResult} from '../lab.ts';
import {CLOSE_FDS} from '../lab/proc.ts';

const unavailable = await labUnavailable();
const NODE = process.execPath.startsWith('/usr/') ? process.execPath : '/usr/bin/node';
const WIZARD = [NODE, DIST, '--answers', ANSWERS, '--yes', '--no-wait', '--resolver', NET.dns, '--probe', 'none', '--dnsbl', LAB_DNSBL, '--state-dir', STATE];
const ENV = {NO_COLOR: '1', TERM: 'dumb', LC_ALL: 'C', PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root'};
const PASSWORDS = {alice: `alice-${randomBytes(9).toString('base64url')}`, bob: `bob-${randomBytes(9).toString('base64url')}`};
/** The line the plain output prints when an action starts (src/report/plain.ts). */
const ACTION = /^ {2}(\$ |write \/|directory \/|(start|restart|reload|stop) [\w.-]+$)/;
/** Files whose content is the same on every run (no random salt or key inside). */
const SAME = [
	'/etc/smtpd.conf',
	'/etc/smtpd/domains',
	'/etc/smtpd/recipients',
	'/etc/smtpd/virtuals',
	'/etc/smtpd/sendas',
	'/etc/aliases',
	'/etc/mailname',
	'/etc/dovecot/dovecot.conf',
	'/etc/rspamd/local.d/dkim_signing.conf',
];
const DKIM_DIR = '/etc/rspamd/dkim';

type EndState = {files: Record<string, string>; users: string; logins: string; dkimKeys: string[]; stepsDone: string[]; waiting: boolean};

let lab: Lab | undefined;
const L = () => lab!;

async function prepare(l: Lab): Promise<void> {
	await l.writeFile('mx', '/root/alice.pass', `${PASSWORDS.alice}\n`, 0o600);
	await l.writeFile('mx', '/root/bob.pass', `${PASSWORDS.bob}\n`, 0o600);
	await l.writeFile('mx', ANSWERS, answersText('test/lab/kill.test.ts'), 0o600);
}

/**
 * Runs the wizard in the mx; with killAt, SIGKILLs it when that many actions have started
 * (after delayMs) — or, with powerCut, every process of the mx at once.
 */
function runWizard(killAt?: number, delayMs = 0, powerCut = false): Promise<ExecResult & {actions: string[]; killed: boolean}> {
	return new Promise((resolve) => {
		const child = spawn(CLOSE_FDS[0]!, [...CLOSE_FDS.slice(1), ...L().enter('mx'), 'env', '-i', ...Object.entries(ENV).map(([k, v]) => `${k}=${v}`), ...WIZARD], {stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		let pending = '';
		let killed = false;
		const actions: string[] = [];
		const timer = setTimeout(() => child.kill('SIGKILL'), WIZARD_TIMEOUT_MS);
		child.stdout!.on('data', (c: Buffer) => {
			stdout += c.toString();
			pending += c.toString();
			const lines = pending.split('\n');
			pending = lines.pop()!;
			for (const line of lines) {
				if (!ACTION.test(line)) continue;
				actions.push(line.trim());
				if (killAt !== undefined && actions.length === killAt && !killed) {
					killed = true;
					setTimeout(() => (powerCut ? void L().powerCut() : child.kill('SIGKILL')), delayMs);
				}
			}
		});
		child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({exitCode: code ?? (signal === 'SIGKILL' ? 137 : 1), stdout, stderr, actions, killed});
		});
	});
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

async function endState(): Promise<EndState> {
	const l = L();
	const files: Record<string, string> = {};
	for (const f of SAME) files[f] = existsSync(l.hostPath('mx', f)) ? sha(await l.readFile('mx', f)) : '(missing)';
	const names = async (f: string) =>
		existsSync(l.hostPath('mx', f))
			? (await l.readFile('mx', f))
					.split('\n')
					.filter(Boolean)
					.map((x) => x.split(/[:\s]/)[0])
					.sort()
					.join(' ')
			: '(missing)';
	const dkimDir = l.hostPath('mx', DKIM_DIR);
	const state = JSON.parse(existsSync(l.hostPath('mx', `${STATE}/state.json`)) ? await l.readFile('mx', `${STATE}/state.json`) : '{"steps":{}}') as {
		steps: Record<string, {done?: boolean}>;
		wait?: unknown;
	};
	return {
		files,
		users: await names('/etc/dovecot/users'),
		logins: await names('/etc/smtpd/passwds'),
		dkimKeys: existsSync(dkimDir) ? readdirSync(dkimDir).filter((f) => statSync(join(dkimDir, f)).isFile()) : [],
		stepsDone: Object.entries(state.steps)
			.filter(([, s]) => s.done)
			.map(([id]) => id)
			.sort(),
		waiting: state.wait !== undefined,
	};
}

/** The base64 of the DKIM public key in the key file, as a DNS record carries it. */
async function dkimPublic(): Promise<string> {
	const r = await L().exec('mx', ['sh', '-c', `openssl pkey -in ${DKIM_DIR}/example.test.mail.key -pubout -outform DER | base64 -w0`]);
	return r.stdout.trim();
}

/** The p= value of the DKIM record in the wizard's output, if it printed one. */
function printedDkim(stdout: string): string | undefined {
	const m = /v=DKIM1;[^"\n]*?p=([A-Za-z0-9+/=]{40,})/.exec(stdout.replace(/"\s*"/g, ''));
	return m?.[1];
}

async function mailFlows(t: ExecutionContext, label: string): Promise<void> {
	const token = randomBytes(6).toString('hex');
	const s = await L().client<{rcpts: [number, string][]; data?: [number, string]}>('session', {
		source: NET.remote,
		helo: 'mx.remote.test',
		from: 'carol@remote.test',
		rcpts: ['alice@example.test'],
		subject: `kill ${token}`,
		token,
	});
	t.is(s.data?.[0], 250, `${label}: received on 25: ${JSON.stringify(s)}`);
	const i = await L().client<{messages?: unknown[]}>('imap', {user: 'alice@example.test', password: PASSWORDS.alice, token, wait: 15});
	t.is(i.messages?.length, 1, `${label}: read over IMAPS: ${JSON.stringify(i)}`);
	const out = await L().client<{ok: boolean}>('submit', {
		port: 587,
		mode: 'starttls',
		user: 'bob@example.test',
		password: PASSWORDS.bob,
		from: 'bob@example.test',
		to: ['carol@remote.test'],
		subject: `kill out ${token}`,
		token: `out-${token}`,
	});
	t.true(out.ok, `${label}: submitted on 587: ${JSON.stringify(out)}`);
	t.truthy(await L().waitSink((m) => m.data.includes(`out-${token}`), 20_000), `${label}: sent to remote.test`);
}

/** Half `part` of the boundaries (1: the first half and the power cut; 2: the rest and the kills mid daemon start). */
export function killLane(part: 1 | 2): void {
	if (unavailable) test.skip(`lab (killed at every action, part ${part}) skipped: ${unavailable}`, () => {});
	else lane(part);
}

function lane(part: 1 | 2): void {
	let reference: EndState | undefined;
	let refActions: string[] = [];
	let actionCount = 0;
	const times: number[] = [];

	test.before(async (t) => {
		t.timeout(LAB_LOCK_WAIT_MS + 3 * 60_000);
		lab = await Lab.up({log: (l) => t.log(`[lab] ${l}`)});
		await prepare(lab);
	});
	test.after.always(async () => {
		await lab?.down();
	});

	test.serial('the uninterrupted run: its actions and its end state (exit 75 at the DNS wait)', async (t) => {
		t.timeout(WIZARD_TIMEOUT_MS + 60_000);
		const r = await runWizard();
		t.is(r.exitCode, 75, r.stdout.slice(-3000) + r.stderr);
		refActions = r.actions;
		actionCount = r.actions.length;
		t.true(actionCount >= 15, `the run has its actions (${actionCount})`);
		reference = await endState();
		// Rspamd's compiled rules for every fresh mx after this one (resetMx restores them): on a
		// machine where no lane ran before, each boundary would compile them twice (~25 s of CPU).
		await L().saveRspamdCache();
		t.is(reference.dkimKeys.length, 1);
		t.is(printedDkim(r.stdout), await dkimPublic(), 'the printed DKIM record is the key on disk');
		t.log(`${actionCount} actions:\n${r.actions.join('\n')}`);
	});

	/** Kill at action `at` (after delayMs), re-run, compare with the reference. */
	async function killAndConverge(t: ExecutionContext, at: number, delayMs: number, label: string): Promise<void> {
		const t0 = Date.now();
		await L().resetMx();
		await prepare(L());
		const killed = await runWizard(at, delayMs);
		t.true(killed.killed || killed.exitCode === 75, `${label}: killed (or it finished first)`);
		const again = await runWizard();
		t.is(again.exitCode, 75, `${label}: the re-run reaches the DNS wait:\n${again.stdout.slice(-2500)}${again.stderr}`);
		const end = await endState();
		t.deepEqual(end, reference, `${label}: the same end state as the uninterrupted run`);
		const printed = printedDkim(killed.stdout) ?? printedDkim(again.stdout);
		t.is(printed, await dkimPublic(), `${label}: one DKIM key, the one whose public half was printed`);
		for (const d of ['smtpd', 'dovecot', 'rspamd']) t.is((await L().exec('mx', ['sh', '-c', pidofHere(d)])).exitCode, 0, `${label}: ${d} runs`);
		await mailFlows(t, label);
		times.push(Date.now() - t0);
	}

	test.serial(`killed with SIGKILL after each action (${part === 1 ? 'first' : 'second'} half), every re-run converges to the same working server`, async (t) => {
		t.timeout(40 * 60_000);
		if (!reference) return t.fail('no reference run');
		const half = Math.ceil((actionCount - 1) / 2);
		const [from, to] = part === 1 ? [1, half] : [half + 1, actionCount - 1];
		for (let n = from; n <= to; n++) await killAndConverge(t, n + 1, 0, `killed after action ${n}/${actionCount}`);
		t.log(`boundaries ${from}..${to} of ${actionCount - 1}; slowest convergence ${Math.max(...times)} ms, mean ${Math.round(times.reduce((a, b) => a + b, 0) / times.length)} ms`);
	});

	if (part === 1) powerCut();
	else
		midStart(
			() => reference,
			() => refActions,
			killAndConverge,
		);
}

function powerCut(): void {
	test.serial('a power cut in the middle of a run that adds a user: after the boot mail flows on the old or the new configuration, and the re-run converges', async (t) => {
		t.timeout(10 * 60_000);
		await L().resetMx();
		await prepare(L());
		t.is((await runWizard()).exitCode, 75, 'the server is set up');
		await mailFlows(t, 'before the change');
		const carol = `carol-${randomBytes(9).toString('base64url')}`;
		await L().writeFile('mx', '/root/carol.pass', `${carol}\n`, 0o600);
		await L().writeFile(
			'mx',
			ANSWERS,
			answersText('test/lab/kill.test.ts').replace('    password_file: /root/bob.pass\n', '    password_file: /root/bob.pass\n  - name: carol\n    password_file: /root/carol.pass\n'),
			0o600,
		);
		const change = await runWizard(3, 0, true);
		t.true(change.killed, `the power went out at the third action of the change: ${change.actions.join(' | ')}`);
		t.log(`power cut at: ${change.actions.slice(0, 3).join(' | ')}`);
		const booted = await L().boot(['rspamd', 'dovecot', 'opensmtpd']);
		t.log(booted.stdout.trim());
		// As after a real boot, the daemons take a moment to listen (senders retry).
		const listening = await L().sh('mx', 'for i in $(seq 1 40); do ss -Hltn | grep -q ":25 " && exit 0; sleep 0.25; done; exit 1');
		if (listening.exitCode !== 0) t.log(`nothing listens on 25 after the boot; mx log:\n${(await L().mxLog()).split('\n').slice(-30).join('\n')}`);
		await mailFlows(t, 'after the boot, before any re-run');
		const again = await runWizard();
		t.is(again.exitCode, 75, `the re-run converges:\n${again.stdout.slice(-2000)}${again.stderr}`);
		const token = randomBytes(6).toString('hex');
		await L().client('session', {source: NET.remote, helo: 'mx.remote.test', from: 'dan@remote.test', rcpts: ['carol@example.test'], subject: `for carol ${token}`, token});
		const i = await L().client<{messages?: unknown[]}>('imap', {user: 'carol@example.test', password: carol, token, wait: 15});
		t.is(i.messages?.length, 1, `the new user receives mail: ${JSON.stringify(i)}`);
		await mailFlows(t, 'after the re-run');
	});
}

type Converge = (t: ExecutionContext, at: number, delayMs: number, label: string) => Promise<void>;

function midStart(reference: () => EndState | undefined, refActions: () => string[], killAndConverge: Converge): void {
	test.serial('killed in the middle of a daemon start (Rspamd, OpenSMTPD), the re-run converges', async (t) => {
		t.timeout(10 * 60_000);
		if (!reference()) return t.fail('no reference run');
		for (const name of ['rspamd', 'opensmtpd']) {
			const at = refActions().findIndex((a) => new RegExp(`^((re)?start ${name}$|\\$ (service ${name} (re)?start|systemctl (re)?start ${name}))`).test(a));
			t.true(at >= 0, `the run starts ${name}: ${refActions().join(' | ')}`);
			if (at >= 0) await killAndConverge(t, at + 1, 300, `killed 300 ms into "${refActions()[at]}"`);
		}
	});
}
