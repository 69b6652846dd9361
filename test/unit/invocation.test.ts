// The command messages tell the operator to run again is the one they started (issue 15.1):
// never `npx mailwizard` for a package that is not published.
import test from 'ava';
import {startCommand} from '../../source/invocation.ts';

const env = {PATH: '/usr/local/bin:/usr/bin:/bin'};

test('a clone run with node: the same node command, with its options', (t) => {
	const argv = ['/usr/bin/node', '/root/mailwizard/dist/mailwizard.js', '--state-dir', '/tmp/my state'];
	t.is(startCommand({}, argv, env), "node /root/mailwizard/dist/mailwizard.js --state-dir '/tmp/my state'");
	t.is(startCommand({sub: 'dns --zone'}, argv, env), 'node /root/mailwizard/dist/mailwizard.js dns --zone');
});

test('a relative script path becomes absolute (the operator may be elsewhere next time)', (t) => {
	t.is(startCommand({}, ['node', 'dist/mailwizard.js'], env), `node ${process.cwd()}/dist/mailwizard.js`);
});

test('the command that applies drops the preview-only options', (t) => {
	const argv = ['node', '/opt/mw/dist/mailwizard.js', '--dry-run', '--target', 'debian13', '--state-dir', '/s'];
	t.is(startCommand({apply: true}, argv, env), 'node /opt/mw/dist/mailwizard.js --state-dir /s');
	t.is(startCommand({apply: true}, ['node', '/opt/mw/dist/mailwizard.js', '--target=debian12'], env), 'node /opt/mw/dist/mailwizard.js');
});

test('a bin link on PATH (npm install -g): mailwizard', (t) => {
	t.is(startCommand({}, ['node', '/usr/local/bin/mailwizard'], env), 'mailwizard');
	t.is(startCommand({}, ['node', '/srv/bin/mailwizard'], env), 'node /srv/bin/mailwizard', 'not on PATH: the full path');
});

test('fetched by npx: npx mailwizard; never npx otherwise', (t) => {
	const npx = ['node', '/root/.npm/_npx/0a1b/node_modules/.bin/mailwizard'];
	t.is(startCommand({}, npx, {PATH: `/root/.npm/_npx/0a1b/node_modules/.bin:${env.PATH}`, npm_command: 'exec'}), 'npx mailwizard');
	t.notRegex(startCommand({}, ['node', '/root/mailwizard/dist/mailwizard.js'], env), /npx/);
});
