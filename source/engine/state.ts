// Saved progress (conf under --state-dir): which steps are done and when,
// the pending DNS wait, the answers without secrets. Never a password or a key.
import {readFileSync, mkdirSync, chmodSync} from 'node:fs';
import {join} from 'node:path';
import Conf from 'conf';
import type {ExpectedRecord} from '../dns/types.ts';

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
};

export type State = {
	readonly file: string;
	readonly data: () => StateData;
	update(fn: (d: StateData) => void): void;
	reset(): void;
};

const EMPTY = (): StateData => ({version: 1, steps: {}});

/** Opens the state. Read-only (dry run, status) never creates the directory or file. */
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
	mkdirSync(dir, {recursive: true, mode: 0o700});
	chmodSync(dir, 0o700);
	const conf = new Conf<StateData>({cwd: dir, configName: 'state', projectName: 'mailwizard', defaults: EMPTY(), clearInvalidConfig: false});
	return {
		file,
		data: () => ({...EMPTY(), ...conf.store}),
		update(fn) {
			const d = {...EMPTY(), ...conf.store};
			fn(d);
			conf.store = d;
		},
		reset() {
			conf.clear();
		},
	};
}
