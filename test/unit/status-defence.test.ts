// status shows issue 18's defences once the spam stage ran (as root): Redis, the Sieve script, the jails.
import test from 'ava';
import {defenceRows} from '../../source/doctor/defence.ts';
import {fakeExec} from '../../source/engine/exec.ts';
import {DEBIAN12, answers, scratchRoot} from '../helpers/fixtures.ts';

test('the defence rows: Redis, a missing Sieve script fails, the jails', async (t) => {
	const exec = fakeExec([
		{match: (a) => a[0] === 'redis-cli', result: {exitCode: 0, stdout: 'PONG\n', stderr: ''}},
		{match: (a) => a[0] === 'fail2ban-client', result: {exitCode: 0, stdout: 'Currently banned:\t0\n', stderr: ''}},
	]);
	const rows = await defenceRows({exec, root: scratchRoot(), profile: DEBIAN12}, answers());
	t.deepEqual(
		rows.map((r) => [r.id, r.status]),
		[
			['redis', 'ok'],
			['sieve', 'fail'],
			['jail:mailwizard-dovecot', 'ok'],
			['jail:mailwizard-opensmtpd', 'ok'],
		],
	);
	t.regex(rows[1]!.detail, /no Sieve script/);
});
