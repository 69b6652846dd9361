// Saved progress (conf under --state-dir): which steps are done and when,
// the pending DNS wait, the answers without secrets. Never a password or a key.
import {readFileSync, mkdirSync, chmodSync, lstatSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {replaceFile} from './durable.ts';
import type {ExpectedRecord} from '../dns/types.ts';
import type {DkimRotation} from '../rotate/dkim.ts';
import type {SrsRotation} from '../rotate/srs.ts';

export type StepState = {readonly done: boolean; readonly at: string; readonly changed?: number};
export type WaitState = {readonly since: string; readonly records: readonly ExpectedRecord[]; readonly lastCheck?: {at: string; ok: number; total: number}};

export type StateData = {
	version: 1;
	answers?: Record<string, unknown>;
	steps: Record<string, StepState>;
	wait?: WaitState;
	/** The Dovecot dialect of the dovecot.conf mailwizard last wrote. */
	dovecotDialect?: string;
	finishedAt?: string;
	/** Key rotations (mailwizard rotate): their phase and selectors, read back into the answers. */
	rotation?: {dkim?: DkimRotation; srs?: SrsRotation};
};

export type State = {
	readonly file: string;
	readonly data: () => StateData;
	update(fn: (d: StateData) => void): void;
	reset(): void;
};

const EMPTY = (): StateData => ({version: 1, steps: {}});

/** A state directory that is not mailwizard's: the CLI exits 2 (usage) and changes nothing. */
export class StateDirError extends Error {
	override name = 'StateDirError';
}

/**
 * What mailwizard keeps in its state directory (state.json is written through a temp file, the
 * lock too; check-last.json is what the daily check last saw, for check --notify;
 * selftest-pending.json the self-test's messages not removed yet).
 */
const OURS = /^(state\.json(\..+)?|lock(\..+)?|check-last\.json(\..+)?|selftest-pending\.json(\..+)?)$/;

/**
 * Creates the state directory 0700, or takes an existing one only when it is mailwizard's:
 * a real directory (not a link), owned by this user, holding nothing but state.json and lock.
 * Anything else (--state-dir /tmp) is refused, never chmod'ed.
 */
export function prepareStateDir(dir: string): void {
	if (checkStateDir(dir)) {
		if ((lstatSync(dir).mode & 0o7777) !== 0o700) chmodSync(dir, 0o700);
		return;
	}
	mkdirSync(dir, {recursive: true, mode: 0o700});
	chmodSync(dir, 0o700); // the umask may have taken bits off; this directory is ours
}

/** True when the directory exists and is mailwizard's (see prepareStateDir); false when absent. Changes nothing. */
export function checkStateDir(dir: string): boolean {
	let s;
	try {
		s = lstatSync(dir);
	} catch {
		return false;
	}
	const why = `--state-dir ${dir}`;
	if (s.isSymbolicLink() || !s.isDirectory()) throw new StateDirError(`${why} is not a directory (a symbolic link or a file): give a directory only mailwizard uses`);
	const uid = process.geteuid?.() ?? 0;
	if (s.uid !== uid) throw new StateDirError(`${why} is owned by uid ${s.uid}, not by ${uid === 0 ? 'root' : `uid ${uid}`}: give a directory only mailwizard uses (it is created 0700 when absent)`);
	const others = readdirSync(dir).filter((n) => !OURS.test(n));
	if (others.length)
		throw new StateDirError(`${why} holds other files (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}): give a directory only mailwizard uses (it is created 0700 when absent)`);
	return true;
}

/** The saved state; absent is empty. A file that is not JSON is said so, never silently replaced. */
export function readStateFile(file: string): StateData {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY();
		throw error;
	}
	try {
		return {...EMPTY(), ...(JSON.parse(text) as StateData)};
	} catch (error) {
		throw new Error(`${file} is not valid JSON (${(error as Error).message}): move it away to start over (mailwizard then plans from the system as it is), or put back a copy`);
	}
}

function save(file: string, d: StateData): void {
	replaceFile(file, `${JSON.stringify(d, undefined, '\t')}\n`);
}

/**
 * Opens the state. Read-only (dry run, status) never creates the directory or file. Writable:
 * the directory is prepared now, state.json is written only by update() and reset(), each time
 * durably (durable.ts): a crash or a full disk leaves the previous state, never half of one.
 */
export function openState(dir: string, readOnly: boolean): State {
	const file = join(dir, 'state.json');
	if (readOnly) {
		let data: StateData = EMPTY();
		try {
			data = {...EMPTY(), ...(JSON.parse(readFileSync(file, 'utf8')) as StateData)};
		} catch {}
		return {
			file,
			data: () => data,
			update(fn) {
				fn(data); // kept in memory only
			},
			reset() {
				data = EMPTY();
			},
		};
	}
	prepareStateDir(dir);
	return {
		file,
		data: () => readStateFile(file),
		update(fn) {
			const d = readStateFile(file);
			fn(d);
			save(file, d);
		},
		reset() {
			save(file, EMPTY());
		},
	};
}
