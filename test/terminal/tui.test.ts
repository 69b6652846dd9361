// The built CLI in tmux at 80x24: the questions with send-keys, read back with
// capture-pane, through the review to the read-only plan preview. As root the
// wizard runs as nobody, so nothing can ever be applied to this machine.
import test, {type ExecutionContext} from 'ava';
import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {asUnprivileged, CLI, cliBuilt, hasTmux, openTemp, Tmux} from '../helpers/tmux.ts';
import {selfSigned} from '../helpers/tls.ts';
import {STEPS} from '../../steps/index.ts';

// The stage count comes from the registry: a new stage changes no test.
const N = STEPS.length;
/** A stage's heading in the preview, "[i/N] ", from the registry. */
const at = (id: string) => `\\[${STEPS.findIndex((s) => s.id === id) + 1}\\/${N}\\]`;

const ready = hasTmux() && cliBuilt();
/** test.serial where tmux and the build are there; elsewhere a skipped test that says why. */
function maybe(title: string, fn: (t: ExecutionContext) => void | Promise<void>): void {
	if (ready) test.serial(title, fn);
	else test.skip(`${title} (skipped: needs tmux and a build, npm run build)`, fn);
}

function chmodAll(dir: string): void {
	execFileSync('chmod', ['-R', 'a+rX', dir]);
}

maybe('from the first question through the review and the plan preview, in an 80x24 terminal', async (t) => {
	const dir = openTemp('mw-term-');
	const tls = selfSigned('mail.example.com', dir);
	chmodAll(dir);
	const tm = new Tmux('mwtest', asUnprivileged(['node', CLI, '--state-dir', join(dir, 'state')]));
	t.teardown(() => tm.kill());
	const welcome = await tm.until(/Enter start/);
	t.regex(welcome, /1\. Preflight/);
	t.regex(welcome, new RegExp(`${N}\\. ${STEPS[N - 1]!.title.split(':')[0]}`));
	await tm.keys('Enter');
	await tm.until(/Mail domain/);
	await tm.keys('example..com', 'Enter');
	t.regex(await tm.until(/✗/), /not a valid domain name/);
	await tm.keys('C-u', 'example.com', 'Enter');
	t.regex(await tm.until(/Host name of this server/), /> mail\.example\.com/);
	await tm.keys('Enter');
	await tm.until(/Public IPv4 address/);
	await tm.keys('C-u', '192.0.2.10', 'Enter');
	t.regex(await tm.until(/Enter again to use it/), /documentation range/, 'a lab address is a warning, not a refusal');
	await tm.keys('Enter');
	await tm.until(/Public IPv6 address/);
	await tm.keys('Enter');
	await tm.until(/TLS certificate/);
	await tm.keys('C-u', tls.cert);
	t.regex(await tm.until(/✓ covers/), /covers mail\.example\.com/);
	await tm.keys('Enter');
	// A self-signed certificate is a warning that says what others will do (issue 15.4): a second Enter keeps it.
	t.regex(await tm.until(/Enter again to use it/), /is self-signed: other mail servers/);
	await tm.keys('Enter');
	await tm.until(/TLS private key/);
	await tm.keys('C-u', tls.key);
	await tm.until(/is the key of this certificate/);
	await tm.keys('Enter');
	await tm.until(/Enter again to use it/); // the same self-signed warning on the key's question
	await tm.keys('Enter');
	await tm.until(/First mail user/);
	await tm.keys('alice', 'Enter');
	await tm.until(/Password for alice/);
	await tm.keys('short', 'Enter');
	t.regex(await tm.until(/too short/), /at least 8 characters/);
	await tm.keys('C-u', 'correct horse');
	t.notRegex(tm.screen(), /correct horse/, 'the password is masked');
	await tm.keys('Enter');
	await tm.until(/again/);
	await tm.keys('correct horse', 'Enter');
	await tm.until(/Another mail user/);
	await tm.keys('Enter');
	await tm.until(/DKIM selector/);
	await tm.keys('Enter');
	await tm.until(/DMARC policy/);
	await tm.keys('Enter');
	await tm.until(/DMARC reports to/);
	await tm.keys('Enter');
	const review = await tm.until(/Review your answers/);
	t.regex(review, /Mail domain +example\.com/);
	t.regex(review, /User 1 +alice@example\.com/);
	t.regex(review, /DMARC policy +reject/);
	t.notRegex(review, /correct horse/);
	for (const line of review.split('\n')) t.true(line.length <= 80);
	// Change one answer from the review.
	await tm.keys('Up', 'Up', 'Up', 'Enter');
	await tm.until(/Change an answer/);
	await tm.keys('C-u', 'sel2025', 'Enter');
	t.regex(await tm.until(/Review your answers/), /DKIM selector +sel2025/);
	await tm.keys('c');
	t.regex(await tm.until(/Applying needs root/), new RegExp(`node ${CLI.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --state-dir`));
	await tm.keys('p');
	const first = await tm.until(new RegExp(`\\[1/${N}\\] Preflight`), 20_000);
	t.regex(first, /preview, nothing runs/);
	// Walk every stage with Enter.
	for (let i = 2; i <= N; i++) {
		await tm.keys('Enter');
		await tm.until(new RegExp(`\\[${i}/${N}\\]`));
	}
	await tm.keys('Enter');
	const end = await tm.until(/EXIT=\d+/);
	t.regex(end, /Preview only: nothing was changed/);
	t.regex(end, /EXIT=2/);
});

maybe('issue 15.7: the domain and Enter typed before the first frame are not lost: the first question holds them', async (t) => {
	const dir = openTemp('mw-term-');
	const tm = new Tmux('mwtest', asUnprivileged(['node', CLI, '--state-dir', join(dir, 'state')]));
	t.teardown(() => tm.kill());
	// At once, before node has drawn anything.
	execFileSync('tmux', ['send-keys', '-t', 'mwtest', '-l', 'typed-ahead.test']);
	execFileSync('tmux', ['send-keys', '-t', 'mwtest', 'Enter']);
	t.regex(await tm.until(/Mail domain/), /> typed-ahead\.test/);
	await tm.keys('Enter');
	t.regex(await tm.until(/Host name of this server/), /> mail\.typed-ahead\.test/);
	await tm.keys('C-c');
	await tm.until(/EXIT=130/);
});

maybe("issue 17: --answers FILE without --yes in a terminal fills the wizard in: the review shows the file's answers", async (t) => {
	const dir = openTemp('mw-term-');
	chmodAll(dir);
	const tm = new Tmux('mwtest', asUnprivileged(['node', CLI, '--answers', join(process.cwd(), 'examples/example.com.yaml'), '--state-dir', join(dir, 'state')]));
	t.teardown(() => tm.kill());
	await tm.until(/Enter start|Enter continue/);
	await tm.keys('Enter');
	const review = await tm.until(/Review your answers/);
	t.regex(review, /Mail domain +example\.com/);
	t.regex(review, /Host name +mail\.example\.com/);
	await tm.keys('q');
	await tm.until(/EXIT=\d+/);
});

maybe('Ctrl-C at a question exits 130 and says nothing was changed', async (t) => {
	const dir = openTemp('mw-term-');
	const tm = new Tmux('mwtest', asUnprivileged(['node', CLI, '--state-dir', join(dir, 'state')]));
	t.teardown(() => tm.kill());
	await tm.until(/Enter start/);
	await tm.keys('Enter');
	await tm.until(/Mail domain/);
	await tm.keys('C-c');
	const end = await tm.until(/EXIT=\d+/);
	t.regex(end, /Interrupted: nothing was changed/);
	t.regex(end, /EXIT=130/);
});

maybe('NO_COLOR: no colour escapes; CI=1 exported in the shell: the wizard still draws every frame', async (t) => {
	const dir = openTemp('mw-term-');
	// Ink alone would take CI=1 as "no terminal" and draw nothing until it exits.
	const tm = new Tmux('mwtest', asUnprivileged(['node', CLI, '--state-dir', join(dir, 'state')]), {width: 80, height: 24}, {NO_COLOR: '1', CI: '1', CI_JOB_ID: '7'});
	t.teardown(() => tm.kill());
	await tm.until(/Enter start/);
	t.notRegex(tm.screen(true), /\u001B\[(3[0-7]|9[0-7])m/);
	await tm.keys('q');
	await tm.until(/EXIT=0/);
});

maybe('--dry-run in a terminal asks the questions and previews every stage without applying', async (t) => {
	const dir = openTemp('mw-term-dry-');
	chmodAll(dir);
	// As root too: a dry run never applies, so this runs the wizard as the real user.
	const tm = new Tmux('mwtestdry', ['node', CLI, '--dry-run', '--state-dir', join(dir, 'state')]);
	t.teardown(() => tm.kill());
	const welcome = await tm.until(/Enter start/);
	t.regex(welcome, /Dry run: answer, then preview each stage's plan; nothing is changed\./);
	await tm.keys('Enter');
	await tm.until(/Mail domain/);
	await tm.keys('q');
	await tm.keys('C-c');
	await tm.until(/nothing was changed|Interrupted/i);
	t.false(existsSync(join(dir, 'state')), 'no state written');
});

/** The questions answered with their defaults (example.com, alice), up to the review screen. */
async function answerAll(tm: Tmux, tls: {cert: string; key: string}): Promise<void> {
	await tm.until(/Enter start/);
	await tm.keys('Enter');
	await tm.until(/Mail domain/);
	await tm.keys('example.com', 'Enter');
	await tm.until(/Host name of this server/);
	await tm.keys('Enter');
	await tm.until(/Public IPv4 address/);
	await tm.keys('C-u', '192.0.2.10', 'Enter');
	await tm.until(/Enter again to use it/);
	await tm.keys('Enter');
	await tm.until(/Public IPv6 address/);
	await tm.keys('Enter');
	await tm.until(/TLS certificate/);
	await tm.keys('C-u', tls.cert);
	await tm.until(/✓ covers/);
	await tm.keys('Enter');
	await tm.until(/is self-signed[\s\S]*Enter again to use it/);
	await tm.keys('Enter');
	await tm.until(/TLS private key/);
	await tm.keys('C-u', tls.key);
	await tm.until(/is the key of/);
	await tm.keys('Enter');
	await tm.until(/Enter again to use it/);
	await tm.keys('Enter');
	await tm.until(/First mail user/);
	await tm.keys('alice', 'Enter');
	await tm.until(/Password for alice/);
	await tm.keys('correct horse', 'Enter');
	await tm.until(/again/);
	await tm.keys('correct horse', 'Enter');
	for (const q of [/Another mail user/, /DKIM selector/, /DMARC policy/, /DMARC reports to/]) {
		await tm.until(q);
		await tm.keys('Enter');
	}
	await tm.until(/Review your answers/);
}

/** Every line of the previewed stage's box, scrolled through with PgDn, by its index. */
async function boxContent(tm: Tmux, width: number): Promise<string[]> {
	const got: string[] = [];
	for (;;) {
		const s = tm.screen();
		const m = /lines (\d+)–(\d+) of (\d+)/.exec(s);
		if (!m) throw new Error(`no scroll position:\n${s}`);
		const inner = s.split('\n').filter((l) => l.startsWith('│ ') && l.endsWith(' │'));
		inner.forEach((l, i) => (got[Number(m[1]) - 1 + i] = l.slice(2, width - 2)));
		for (const l of s.split('\n')) if (l.length > width) throw new Error(`a line wider than ${width}: ${l}`);
		if (m[2] === m[3]) return got;
		const before = m[0];
		await tm.keys('NPage');
		await tm.until(new RegExp(`lines (?!${before.slice(6).replace(/[–]/g, '.')})`));
	}
}

for (const [width, height] of [
	[60, 20],
	[80, 24],
	[120, 40],
] as const) {
	maybe(`at ${width}x${height} the DNS stage shows every record value whole (wrapped, never cut) (issue 15.2)`, async (t) => {
		const dir = openTemp('mw-term-');
		const tls = selfSigned('mail.example.com', dir);
		chmodAll(dir);
		const tm = new Tmux('mwtest', asUnprivileged(['node', CLI, '--dry-run', '--state-dir', join(dir, 'state')]), {width, height});
		t.teardown(() => tm.kill());
		const welcome = await tm.until(/Enter start/);
		t.regex(welcome, /^mailwizard — /m, 'the title is on screen');
		await answerAll(tm, tls);
		// No line of an earlier, taller screen (the self-signed warning) is left above (issue 15.2).
		t.regex(tm.screen(), /^Review your answers/);
		await tm.keys('c');
		const packages = await tm.until(new RegExp(`${at('packages')} Packages|${at('preflight')}`), 20_000);
		t.truthy(packages);
		for (let i = 0; i < N && !new RegExp(`${at('dns-records')} DNS records`).test(tm.screen()); i++) {
			t.regex(tm.screen(), /^\[\d+\/\d+\] /, 'the stage heading is the first line');
			if (new RegExp(`${at('packages')} Packages`).test(tm.screen())) t.regex(tm.screen(), /Nothing to change/, 'no empty box "lines 0–0 of 0"');
			await tm.keys('Enter');
			await new Promise((r) => setTimeout(r, 200));
		}
		await tm.until(new RegExp(`${at('dns-records')} DNS records`));
		const joined = (await boxContent(tm, width)).join('');
		t.true(joined.includes('v=DKIM1; k=rsa; t=s; h=sha256; p=<public key, generated at apply time>'), joined);
		t.true(joined.includes('v=DMARC1; p=reject; sp=reject; pct=100; aspf=s; adkim=s; fo=1; rua=mailto:postmaster@example.com'), joined);
		t.true(joined.includes('10 mail.example.com.'));
		t.true(joined.includes('v=spf1 mx -all'));
	});
}
