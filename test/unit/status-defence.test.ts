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
			['nftables', 'ok'],
		],
	);
	t.regex(rows[1]!.detail, /no Sieve script/);
});

test('a container without CAP_NET_ADMIN: the jails run, but the nftables row fails and says who can fix it', async (t) => {
	const exec = fakeExec([
		{match: (a) => a[0] === 'nft', result: {exitCode: 1, stdout: '', stderr: 'netlink: Error: cache initialization failed: Operation not permitted\n'}},
		{match: (a) => a[0] === 'fail2ban-client', result: {exitCode: 0, stdout: 'Currently banned:\t0\n', stderr: ''}},
	]);
	const rows = await defenceRows({exec, root: scratchRoot(), profile: DEBIAN12}, answers());
	const nft = rows.find((r) => r.id === 'nftables')!;
	t.is(nft.status, 'fail');
	t.regex(nft.detail, /cannot ban here: .*Operation not permitted.*CAP_NET_ADMIN/);
	t.is(nft.who, 'provider');
	t.deepEqual(
		(await defenceRows({exec, root: scratchRoot(), profile: DEBIAN12}, {...answers(), bans: false})).map((r) => r.id),
		['redis', 'sieve'],
		'no bans, no jail or nftables row',
	);
});
