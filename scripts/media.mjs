// node scripts/media.mjs: screenshots of the real wizard (the built CLI in tmux at
// 80x24), captured with `tmux capture-pane -e` and written as SVG into media/.
// As root the wizard runs as nobody, so it can only ask, review and preview.
import {execFileSync} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';

const cli = resolve('dist/mailwizard.js');
if (!existsSync(cli)) execFileSync('npm', ['run', 'build'], {stdio: 'inherit'});
mkdirSync('media', {recursive: true});

const W = 80;
const H = 24;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const q = (a) => `'${a.replace(/'/g, `'\\''`)}'`;
const unprivileged = process.getuid?.() === 0 ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', 'HOME=/tmp'] : [];

class Session {
	constructor(args) {
		this.name = `mwmedia-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
		execFileSync('tmux', ['new-session', '-d', '-s', this.name, '-x', String(W), '-y', String(H), `${[...unprivileged, 'node', cli, ...args].map(q).join(' ')}; sleep 600`]);
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
			const bg = c.inverse ? c.fg ?? FG : c.bg;
			if (bg) out.push(`<rect x="${(pad + col * cw).toFixed(1)}" y="${y}" width="${cw.toFixed(1)}" height="${lh}" fill="${bg}"/>`);
		});
		let col = 0;
		while (col < cells.length) {
			const c = cells[col];
			let end = col;
			const key = (x) => `${x.fg}|${x.bold}|${x.dim}|${x.inverse}`;
			while (end < cells.length && key(cells[end]) === key(c)) end++;
			const text = cells.slice(col, end).map((x) => x.ch).join('');
			if (text.trim()) {
				const fill = c.inverse ? BG : c.fg ?? FG;
				out.push(`<text x="${(pad + col * cw).toFixed(1)}" y="${y + 14}" fill="${fill}"${c.bold ? ' font-weight="bold"' : ''}${c.dim ? ' opacity="0.6"' : ''} xml:space="preserve" textLength="${((end - col) * cw).toFixed(1)}" lengthAdjust="spacingAndGlyphs">${esc(text)}</text>`);
			}
			col = end;
		}
	});
	out.push('</svg>');
	return `${out.join('\n')}\n`;
}

function shot(s, file, title) {
	writeFileSync(join('media', file), toSvg(s.screen(true), title));
	console.log(`media/${file}`);
}

// ---- the runs ----
const dir = mkdtempSync(join(tmpdir(), 'mw-media-'));
chmodSync(dir, 0o755);
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'privkey.pem'), '-out', join(dir, 'fullchain.pem'), '-days', '90', '-subj', '/CN=mail.example.com', '-addext', 'subjectAltName=DNS:mail.example.com'], {stdio: 'ignore'});
execFileSync('chmod', ['-R', 'a+rX', dir]);

const sessions = [];
try {
	// 1. A first run: welcome, a question with an inline error, the TLS check, the review, a plan preview.
	const s = new Session(['--state-dir', join(dir, 'state')]);
	sessions.push(s);
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
	await s.keys('Enter');
	await s.until(/TLS private key/);
	await s.keys('C-u', join(dir, 'privkey.pem'), 'Enter');
	await s.until(/First mail user/);
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
	await s.keys('Enter', 'Enter', 'Enter', 'Enter');
	await s.until(/Review your answers/);
	shot(s, 'review.svg', 'mailwizard: the answers, editable before anything runs');
	await s.keys('c');
	await s.until(/Applying needs root|\[1\//);
	if (/Applying needs root/.test(s.screen(false))) await s.keys('p');
	await s.until(/\[1\/11\]/, 30000);
	for (let i = 2; i <= 7; i++) {
		await s.keys('Enter');
		await s.until(new RegExp(`\\[${i}/11\\]`));
	}
	shot(s, 'plan-review.svg', 'mailwizard: a stage\'s commands and file diff before it runs');

	// 2. A resumed run: saved progress stopped at the DNS wait.
	const state = join(dir, 'resumed');
	mkdirSync(state, {recursive: true});
	const at = (m) => new Date(Date.now() - m * 60_000).toISOString();
	const done = (m) => ({done: true, inputHash: 'x', at: at(m)});
	writeFileSync(
		join(state, 'state.json'),
		JSON.stringify({
			version: 1,
			answers: {domain: 'example.com', hostname: 'mail.example.com', ipv4: '203.0.113.10', tls: {cert: join(dir, 'fullchain.pem'), key: join(dir, 'privkey.pem')}, users: [{name: 'alice'}], aliases: {postmaster: ['alice'], abuse: ['alice']}, dkim: {selector: 'mail'}, dmarc: {policy: 'reject'}, extraDomains: [], removeMta: false},
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
