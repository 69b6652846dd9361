// mailwizard user add|passwd|remove|list: the mail users, through the saved answers and the engine.
import {rmSync, existsSync} from 'node:fs';
import {join} from 'node:path';
import {userAdd, userPasswd, userRemove} from '../answers/edit.ts';
import {EXIT, UsageError, type ExitCode} from '../exit.ts';
import {VMAIL_HOME} from '../mail/paths.ts';
import type {Options} from '../options.ts';
import {makeRuntime, type Runtime} from '../runtime.ts';
import {converge, savedForm, STAGES} from './change.ts';
import {confirmOnTerminal} from './confirm.ts';
import {newPassword} from './secret.ts';
import {defaultIpv4} from '../platform/host.ts';
import {validateAnswers} from '../answers.ts';

const terminal = (): boolean => Boolean(process.stdin.isTTY && process.stdout.isTTY);

/** Where a user's mail is kept (the Dovecot mail_home). */
export function mailboxOf(name: string): string {
	return `${VMAIL_HOME}/${name.trim().toLowerCase()}`;
}

export async function user(o: Options): Promise<ExitCode> {
	const name = o.args[0]!;
	const ask = () => newPassword(name.trim().toLowerCase(), {file: o.passwordFile, terminal: terminal()});
	switch (o.sub) {
		case 'add':
			return converge(o, {
				edit: (f) => userAdd(f, name),
				stages: STAGES.mailbox,
				password: {user: name.trim().toLowerCase(), ask},
			});
		case 'passwd':
			return converge(o, {edit: (f) => userPasswd(f, name), stages: STAGES.mailbox, password: {user: name.trim().toLowerCase(), ask}});
		case 'remove':
			return remove(o, name);
		default:
			return list(o);
	}
}

/** The mailbox stays unless --purge: then it is deleted after the change converged, once confirmed. */
async function remove(o: Options, name: string): Promise<ExitCode> {
	const box = (rt: Runtime) => join(rt.options.root, mailboxOf(name));
	if (o.purge && !o.yes && !terminal()) throw new UsageError(`--purge deletes ${mailboxOf(name)} and all its mail: without a terminal to confirm on, give --purge --yes`);
	let purge = false;
	return converge(o, {
		edit: (f) => userRemove(f, name),
		stages: STAGES.mailbox,
		precheck: async () => {
			if (!o.purge || o.yes) return void (purge = o.purge);
			purge = await confirmOnTerminal(`Delete ${mailboxOf(name)} and all the mail in it? Type the user name to confirm: `, new RegExp(`^${name.trim().toLowerCase().replace(/[.+]/g, '\\$&')}$`));
			if (!purge) process.stdout.write(`Not deleting the mailbox: ${mailboxOf(name)} stays.\n`);
		},
		after: async (rt) => {
			if (purge && existsSync(box(rt))) {
				rmSync(box(rt), {recursive: true, force: true});
				process.stdout.write(`Deleted ${mailboxOf(name)}.\n`);
			} else if (existsSync(box(rt))) process.stdout.write(`The mailbox stays in ${mailboxOf(name)} (delete it with: mailwizard user remove ${name} --purge).\n`);
		},
	});
}

async function list(o: Options): Promise<ExitCode> {
	const rt = await makeRuntime(o, true);
	const a = validateAnswers(savedForm(rt), {defaultIpv4, passwordOptional: true});
	const users = a.users.map((u) => ({name: u.name, addresses: [a.domain, ...a.extraDomains].map((d) => `${u.name}@${d}`), mailbox: mailboxOf(u.name)}));
	if (o.json) process.stdout.write(`${JSON.stringify({users}, null, 2)}\n`);
	else for (const u of users) process.stdout.write(`${u.name}\t${u.addresses.join(', ')}\t${u.mailbox}\n`);
	return EXIT.ok;
}
