// node scripts/media.mjs: screenshots of the real wizard (the built CLI in tmux at
// 80x24), captured with `tmux capture-pane -e` and written as SVG into media/, and a
// terminal recording (media/wizard.cast, asciicast v2) of the preview walk.
// As root the wizard runs as nobody here, so it can only ask, review and preview.
// As root with the lab available (test/lab/lab.ts), a real setup in the lab's mx adds the
// plan review of a real stage, the running screen, the DNS wait and the finish (lab-*.svg).
// MEDIA_LAB=0 skips the lab part.
import {execFileSync, spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';

const cli = resolve('dist/mailwizard.js');
// The stage count, from the registry as the built CLI prints it (the dry run's last "## N/N" heading).
// (It exits non-zero here: the example's certificate and password files do not exist; the plan is printed whole.)
const STAGES = Number(/^## (\d+)\/\1 /m.exec(spawnSync('node', [cli, '--dry-run', '--answers', 'examples/example.com.yaml'], {encoding: 'utf8'}).stdout)[1]);
if (!existsSync(cli)) execFileSync('npm', ['run', 'build'], {stdio: 'inherit'});
mkdirSync('media', {recursive: true});

const W = 80;
const H = 24;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const q = (a) => `'${a.replace(/'/g, `'\\''`)}'`;
const unprivileged = process.getuid?.() === 0 ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', 'HOME=/tmp'] : [];

class Session {
	/** argv: the wizard's arguments, or {argv} for a whole command line (the lab's mx). */
	constructor(args) {
		this.name = `mwmedia-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
		const argv = Array.isArray(args) ? [...unprivileged, 'node', cli, ...args] : args.argv;
		execFileSync('tmux', ['new-session', '-d', '-s', this.name, '-x', String(W), '-y', String(H), `${argv.map(q).join(' ')}; sleep 900`]);
	}
	async keys(...keys) {
		for (const k of keys) {
			const named = /^(Enter|Escape|Up|Down|PageUp|PageDown|NPage|C-[a-z])$/.test(k);
			execFileSync('tmux', ['send-keys', '-t', this.name, ...(named ? [k] : ['-l', k])]);
			await sleep(150);
		}
	}
	screen(escapes) {
		return execFileSync('tmux', ['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.name], {encoding: 'utf8'});
	}
	async until(re, ms = 20000) {
		const end = Date.now() + ms;
		while (!re.test(this.screen(false))) {
			if (Date.now() > end) throw new Error(`never saw ${re}:\n${this.screen(false)}`);
			await sleep(50);
		}
		await sleep(250); // let the frame settle (spinners, countdowns)
	}
	kill() {
		try {
			execFileSync('tmux', ['kill-session', '-t', this.name], {stdio: 'ignore'});
		} catch {}
	}
}

// ---- ANSI (as tmux prints it) to SVG ----
const PALETTE = ['#1d1f21', '#cc6666', '#8fb573', '#e0b050', '#81a2be', '#b294bb', '#5fb3b3', '#c5c8c6', '#808080', '#ff7b72', '#a5d6a7', '#f0c674', '#9ecbff', '#d2a8ff', '#8be9fd', '#ffffff'];
const FG = '#d8dee9';
const BG = '#1d1f21';

function color256(n) {
	if (n < 16) return PALETTE[n];
	if (n >= 232) {
		const v = 8 + (n - 232) * 10;
		return `rgb(${v},${v},${v})`;
	}
	const i = n - 16;
	const c = (x) => (x === 0 ? 0 : 55 + x * 40);
	return `rgb(${c(Math.floor(i / 36))},${c(Math.floor(i / 6) % 6)},${c(i % 6)})`;
}

function parseLine(line) {
	const cells = [];
	let st = {fg: undefined, bg: undefined, bold: false, dim: false, inverse: false};
	const re = /\u001B\[([0-9;]*)m|([^\u001B]+)/g;
	let m;
	while ((m = re.exec(line))) {
		if (m[2] !== undefined) {
			for (const ch of m[2]) cells.push({ch, ...st});
			continue;
		}
		const codes = m[1] === '' ? [0] : m[1].split(';').map(Number);
		for (let i = 0; i < codes.length; i++) {
			const c = codes[i];
			if (c === 0) st = {fg: undefined, bg: undefined, bold: false, dim: false, inverse: false};
			else if (c === 1) st = {...st, bold: true};
			else if (c === 2) st = {...st, dim: true};
			else if (c === 22) st = {...st, bold: false, dim: false};
			else if (c === 7) st = {...st, inverse: true};
			else if (c === 27) st = {...st, inverse: false};
			else if (c >= 30 && c <= 37) st = {...st, fg: PALETTE[c - 30]};
			else if (c >= 90 && c <= 97) st = {...st, fg: PALETTE[c - 90 + 8]};
			else if (c === 39) st = {...st, fg: undefined};
			else if (c >= 40 && c <= 47) st = {...st, bg: PALETTE[c - 40]};
			else if (c === 49) st = {...st, bg: undefined};
			else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
				st = {...st, [c === 38 ? 'fg' : 'bg']: color256(codes[i + 2])};
				i += 2;
			}
		}
	}
	return cells;
}

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function toSvg(screen, title) {
	const cw = 8.4;
	const lh = 18;
	const pad = 14;
	const top = 30;
	const lines = screen.replace(/\n$/, '').split('\n').slice(0, H);
	const width = Math.ceil(W * cw + pad * 2);
	const height = top + H * lh + pad;
	const out = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14">`,
		`<title>${esc(title)}</title>`,
		`<rect width="100%" height="100%" rx="8" fill="${BG}"/>`,
		`<circle cx="18" cy="15" r="5" fill="#ff5f56"/><circle cx="36" cy="15" r="5" fill="#ffbd2e"/><circle cx="54" cy="15" r="5" fill="#27c93f"/>`,
		`<text x="${width / 2}" y="19" fill="#808080" font-size="12" text-anchor="middle">${esc(title)}</text>`,
	];
	lines.forEach((line, row) => {
		const cells = parseLine(line);
		const y = top + row * lh;
		// Backgrounds first, then runs of text with the same style.
		cells.forEach((c, col) => {
			const bg = c.inverse ? (c.fg ?? FG) : c.bg;
			if (bg) out.push(`<rect x="${(pad + col * cw).toFixed(1)}" y="${y}" width="${cw.toFixed(1)}" height="${lh}" fill="${bg}"/>`);
		});
		let col = 0;
		while (col < cells.length) {
			const c = cells[col];
			let end = col;
			const key = (x) => `${x.fg}|${x.bold}|${x.dim}|${x.inverse}`;
			while (end < cells.length && key(cells[end]) === key(c)) end++;
			const text = cells
				.slice(col, end)
				.map((x) => x.ch)
				.join('');
			if (text.trim()) {
				const fill = c.inverse ? BG : (c.fg ?? FG);
				out.push(
					`<text x="${(pad + col * cw).toFixed(1)}" y="${y + 14}" fill="${fill}"${c.bold ? ' font-weight="bold"' : ''}${c.dim ? ' opacity="0.6"' : ''} xml:space="preserve" textLength="${((end - col) * cw).toFixed(1)}" lengthAdjust="spacingAndGlyphs">${esc(text)}</text>`,
				);
			}
			col = end;
		}
	});
	out.push('</svg>');
	return `${out.join('\n')}\n`;
}

/** Enter, and a second Enter when the answer is a warning the operator confirms ("Enter again to use it"). */
async function enterKeeping(s, next) {
	await s.keys('Enter');
	await s.until(new RegExp(`${next.source}|Enter again to use it`));
	if (!next.test(s.screen(false))) {
		await s.keys('Enter');
		await s.until(next);
	}
}

/** The remaining questions keep their defaults (selector, policy, reports, more options, where to save): Enter until the review. */
async function enterUntilReview(s) {
	for (let i = 0; i < 20 && !/Review your answers/.test(s.screen(false)); i++) {
		await s.keys('Enter');
		await sleep(400);
	}
	await s.until(/Review your answers/);
}

function shot(s, file, title) {
	writeFileSync(join('media', file), toSvg(s.screen(true), title));
	console.log(`media/${file}`);
}

// ---- a terminal recording: asciicast v2 from capture-pane snapshots ----
// Every 80 ms the pane (with colours) is read; each new screen is one frame that redraws it
// whole. Long pauses are cut to 1.5 s (and the header's idle_time_limit says so).
class Recorder {
	constructor(session, title) {
		this.session = session;
		this.title = title;
		this.frames = [];
		this.last = '';
		this.t0 = Date.now();
		this.clock = 0;
		this.prev = this.t0;
		this.timer = setInterval(() => this.snap(), 80);
		this.snap();
	}
	snap() {
		let screen;
		try {
			screen = this.session.screen(true);
		} catch {
			return;
		}
		if (screen === this.last) return;
		this.last = screen;
		if (this.frames.length === 0 && !screen.trim()) return; // not the blank pane before the first frame
		const now = Date.now();
		this.clock += Math.min(1500, now - this.prev);
		this.prev = now;
		const lines = screen.replace(/\n$/, '').split('\n').slice(0, H);
		const text = `\u001B[?25l\u001B[H${lines.map((l) => `\u001B[2K${l}\u001B[0m`).join('\r\n')}\u001B[J`;
		this.frames.push([Number((this.clock / 1000).toFixed(3)), 'o', text]);
	}
	save(file) {
		clearInterval(this.timer);
		this.snap();
		const header = {version: 2, width: W, height: H, timestamp: Math.floor(this.t0 / 1000), idle_time_limit: 1.5, title: this.title, env: {TERM: 'xterm-256color', SHELL: '/bin/sh'}};
		writeFileSync(join('media', file), [JSON.stringify(header), ...this.frames.map((f) => JSON.stringify(f))].join('\n') + '\n');
		console.log(`media/${file} (${this.frames.length} frames, ${(this.clock / 1000).toFixed(1)} s)`);
	}
}

// ---- the runs ----
const dir = mkdtempSync(join(tmpdir(), 'mw-media-'));
chmodSync(dir, 0o755);
execFileSync(
	'openssl',
	[
		'req',
		'-x509',
		'-newkey',
		'rsa:2048',
		'-nodes',
		'-keyout',
		join(dir, 'privkey.pem'),
		'-out',
		join(dir, 'fullchain.pem'),
		'-days',
		'90',
		'-subj',
		'/CN=mail.example.com',
		'-addext',
		'subjectAltName=DNS:mail.example.com',
	],
	{stdio: 'ignore'},
);
execFileSync('chmod', ['-R', 'a+rX', dir]);

const sessions = [];
try {
	// 1. A first run: welcome, a question with an inline error, the TLS check, the review, a plan preview.
	const s = new Session(['--state-dir', join(dir, 'state')]);
	sessions.push(s);
	const rec = new Recorder(s, 'mailwizard: the questions, the review and a preview of every stage (nothing runs)');
	await s.until(/Enter start/);
	shot(s, 'welcome.svg', 'mailwizard: the stages');
	await s.keys('Enter');
	await s.until(/Mail domain/);
	await s.keys('example..com', 'Enter');
	await s.until(/✗/);
	shot(s, 'question-error.svg', 'mailwizard: an answer checked inline');
	await s.keys('C-u', 'example.com', 'Enter');
	await s.until(/Host name/);
	await s.keys('Enter');
	await s.until(/IPv4/);
	await s.keys('C-u', '203.0.113.10', 'Enter');
	await s.until(/Enter again/);
	await s.keys('Enter');
	await s.until(/IPv6/);
	await s.keys('Enter');
	await s.until(/TLS certificate/);
	await s.keys('C-u', join(dir, 'fullchain.pem'));
	await s.until(/covers/);
	shot(s, 'question-tls.svg', 'mailwizard: the certificate checked as typed');
	await enterKeeping(s, /TLS private key/);
	await s.keys('C-u', join(dir, 'privkey.pem'));
	await s.until(/is the key of this certificate/);
	await enterKeeping(s, /First mail user/);
	await s.keys('alice', 'Enter');
	await s.until(/Password/);
	await s.keys('correct horse battery', 'Enter');
	await s.until(/again/);
	await s.keys('correct horse battery', 'Enter');
	await s.until(/Another mail user/);
	await s.keys('bob', 'Enter');
	await s.until(/Password for bob/);
	await s.keys('staple staple staple', 'Enter');
	await s.until(/again/);
	await s.keys('staple staple staple', 'Enter');
	await s.until(/Another mail user \(3\)/);
	await enterUntilReview(s);
	shot(s, 'review.svg', 'mailwizard: the answers, editable before anything runs');
	await s.keys('c');
	await s.until(/Applying needs root|\[1\//);
	if (/Applying needs root/.test(s.screen(false))) await s.keys('p');
	await s.until(new RegExp(`\\[1/${STAGES}\\]`), 30000);
	for (let i = 2; i <= STAGES; i++) {
		await s.keys('Enter');
		await s.until(new RegExp(`\\[${i}/${STAGES}\\]`));
		if (i === 7) shot(s, 'plan-review.svg', "mailwizard: a stage's commands and file diff before it runs");
		await sleep(600); // a moment on each stage in the recording
	}
	await s.keys('Enter');
	await s.until(/Preview only/);
	await sleep(1000);
	rec.save('wizard.cast');

	// 2. A resumed run: saved progress stopped at the DNS wait.
	const state = join(dir, 'resumed');
	mkdirSync(state, {recursive: true});
	const at = (m) => new Date(Date.now() - m * 60_000).toISOString();
	const done = (m) => ({done: true, inputHash: 'x', at: at(m)});
	writeFileSync(
		join(state, 'state.json'),
		JSON.stringify({
			version: 1,
			answers: {
				domain: 'example.com',
				hostname: 'mail.example.com',
				ipv4: '203.0.113.10',
				tls: {cert: join(dir, 'fullchain.pem'), key: join(dir, 'privkey.pem')},
				users: [{name: 'alice'}],
				aliases: {postmaster: ['alice'], abuse: ['alice']},
				dkim: {selector: 'mail'},
				dmarc: {policy: 'reject'},
				extraDomains: [],
				removeMta: false,
			},
			steps: {preflight: done(30), packages: done(28), vmail: done(20), tls: done(20), dkim: done(19), 'dns-records': done(19), dovecot: done(18), rspamd: done(18), opensmtpd: done(17)},
			wait: {since: at(17), records: [], lastCheck: {at: at(5), ok: 3, total: 5}},
		}),
	);
	execFileSync('chmod', ['-R', 'a+rX', state]);
	const r = new Session(['--state-dir', state]);
	sessions.push(r);
	await r.until(/Enter continue/);
	shot(r, 'resume.svg', 'mailwizard: a resumed run says where it stopped');
} finally {
	for (const s of sessions) s.kill();
	rmSync(dir, {recursive: true, force: true});
}

// ---- 3. A real setup in the lab's mx (root only): a real stage's plan, running, the DNS wait, the finish ----
async function labMedia() {
	const {tsImport} = await import('tsx/esm/api');
	const {Lab, NET, MX_TLS, PYTHON, LAB_DNSBL, labUnavailable} = await tsImport('../test/lab/lab.ts', import.meta.url);
	const why = await labUnavailable();
	if (why) return console.log(`lab screenshots skipped: ${why}`);
	const lab = await Lab.up({log: (l) => console.log(`[lab] ${l}`)});
	const node = process.execPath.startsWith('/usr/') ? process.execPath : '/usr/bin/node';
	const state = '/var/lib/mailwizard';
	const password = `media-${Math.random().toString(36).slice(2)}`;
	// The pane enters the mx (its mount, network and UTS namespaces) with descriptors above 2 closed.
	const inMx = (argv) => ({
		argv: [
			PYTHON,
			'-S',
			'-c',
			'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])',
			...lab.enter('mx'),
			'env',
			'-i',
			'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
			'HOME=/root',
			'TERM=xterm-256color',
			'LANG=C.UTF-8',
			...argv,
		],
	});
	// The lab's own port-25 target and blocklist (the defaults are public hosts).
	const wizard = inMx([node, cli, '--resolver', NET.dns, '--probe', `${NET.remote}:25`, '--dnsbl', LAB_DNSBL, '--poll', '1', '--state-dir', state]);
	const mine = [];
	try {
		const s = new Session(wizard);
		mine.push(s);
		await s.until(/Enter start/);
		await s.keys('Enter');
		await s.until(/Mail domain/);
		await s.keys('example.test', 'Enter');
		await s.until(/Host name of this server/);
		await s.keys('Enter');
		await s.until(/Public IPv4/);
		await s.keys('C-u', NET.mx);
		await enterKeeping(s, /Public IPv6/);
		await enterKeeping(s, /TLS certificate/);
		await s.keys('C-u', MX_TLS.cert);
		await s.until(/covers/);
		await enterKeeping(s, /TLS private key/);
		await s.keys('C-u', MX_TLS.key);
		await s.until(/is the key of this certificate/);
		await enterKeeping(s, /First mail user/);
		await s.keys('alice', 'Enter');
		await s.until(/Password for alice/);
		await s.keys(password, 'Enter');
		await s.until(/again/);
		await s.keys(password, 'Enter');
		await s.until(/Another mail user/);
		await enterUntilReview(s);
		await s.keys('c');
		// Each stage that changes something shows its plan first: Enter runs it. The running
		// screen is caught while a command runs (a spinner with the command and its time).
		// The running screen: the best moment caught while a command runs (a spinner), scored by
		// how much is on screen: a service (re)start after several finished lines is best.
		let running;
		const SPIN = /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] (.*)$/m;
		const end = Date.now() + 5 * 60_000;
		for (;;) {
			const screen = s.screen(false);
			const plan = new RegExp(`\\[(\\d+)/${STAGES}\\] ([^\\n]*)\\n[^\\n]*to review before they run`).exec(screen);
			if (plan && /r\/Enter run/.test(screen)) {
				// The stage is found by its title (its number moves when stages are added).
				if (/dovecot/i.test(plan[2])) shot(s, 'lab-plan-review.svg', 'mailwizard as root: the Dovecot stage, its file and service changes before they run');
				await s.keys('Enter');
				const until = Date.now() + 5000;
				while (Date.now() < until) {
					const now = s.screen(true);
					const plain = s.screen(false);
					const spin = SPIN.exec(plain);
					if (spin) {
						const score = (plain.match(/✓ /g) ?? []).length + (/^(start|restart|reload) /.test(spin[1]) ? 10 : 0);
						if (!running || score > running.score) running = {screen: now, score};
					}
					if (/to review before they run|Next check in/.test(plain) && !spin) break;
					await sleep(10);
				}
				continue;
			}
			if (/Next check in \d+ s/.test(screen)) break;
			if (Date.now() > end) throw new Error(`the lab run never reached the DNS wait:\n${screen}`);
			await sleep(100);
		}
		if (running) {
			writeFileSync(join('media', 'lab-running.svg'), toSvg(running.screen, 'mailwizard as root: each command as it runs, finished ones above'));
			console.log('media/lab-running.svg');
		} else console.log('lab-running.svg not taken: no command was caught running (every one was too quick)');
		await sleep(1500);
		shot(s, 'lab-dns-wait.svg', 'mailwizard as root: the DNS wait, each record on each authoritative server');
		await s.keys('q');
		await s.until(/Waiting for \d+ DNS records?\./);
		// Publish the records (the same answers in a file: see the note in test/lab/tui.test.ts).
		await lab.writeFile('mx', '/root/alice.pass', `${password}\n`, 0o600);
		await lab.writeFile(
			'mx',
			'/root/mailwizard.yaml',
			`domain: example.test\nhostname: mail.example.test\nipv4: ${NET.mx}\ntls: {cert: ${MX_TLS.cert}, key: ${MX_TLS.key}}\nusers:\n  - {name: alice, password_file: /root/alice.pass}\ndmarc: {policy: reject, rua: postmaster@example.test}\n`,
			0o600,
		);
		const zone = await lab.exec('mx', [node, cli, 'dns', '--zone', '--answers', '/root/mailwizard.yaml', '--state-dir', state, '--resolver', NET.dns], {env: {NO_COLOR: '1'}});
		if (zone.exitCode !== 0) throw new Error(`dns --zone: ${zone.stderr}`);
		await lab.appendZone(zone.stdout);
		const r = new Session(wizard);
		mine.push(r);
		await r.until(/Enter continue/);
		await r.until(/DNS now: /); // the saved records, checked again after the first frame
		shot(r, 'lab-resume.svg', 'mailwizard as root: the next run says where it stopped');
		await r.keys('Enter');
		await r.until(/Review your answers/);
		await r.keys('c');
		// The stages after the DNS wait (spam, bans, the daily check) each show their plan first.
		const until = Date.now() + 180_000;
		while (!/Finished:/.test(r.screen(false))) {
			if (Date.now() > until) throw new Error(`the resumed run never finished:\n${r.screen(false)}`);
			if (/r\/Enter run/.test(r.screen(false))) await r.keys('Enter');
			await sleep(700);
		}
		await sleep(500);
		shot(r, 'lab-finish.svg', 'mailwizard as root: done, with the mail client settings');
	} finally {
		for (const x of mine) x.kill();
		await lab.saveRspamdCache().catch(() => {});
		await lab.down();
	}
}

if (process.getuid?.() === 0 && process.env.MEDIA_LAB !== '0') await labMedia();
