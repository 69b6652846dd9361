// The lab's pidof sees only the processes of the caller's mount namespace (the mx's), not
// another lab's daemons on the same machine (the mx shares the machine's PID namespace).
import test from 'ava';
import {spawn, spawnSync} from 'node:child_process';
import {pidofHere} from '../lab/lab/proc.ts';

const root = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;
(root ? test : test.skip)('pidofHere lists a program in this mount namespace and not the same program in another', async (t) => {
	// sleep, once here and once in a new mount namespace (unshare execs it: the same PID).
	const here = spawn('sleep', ['30']);
	const there = spawn('unshare', ['-m', 'sleep', '30']);
	await new Promise((r) => setTimeout(r, 300));
	try {
		const all = spawnSync('pidof', ['sleep'], {encoding: 'utf8'}).stdout.trim().split(/\s+/);
		t.true(all.includes(String(here.pid)) && all.includes(String(there.pid)), 'pidof alone sees both');
		const r = spawnSync('sh', ['-c', pidofHere('sleep')], {encoding: 'utf8'});
		const mine = r.stdout.trim().split(/\s+/);
		t.true(mine.includes(String(here.pid)), r.stdout);
		t.false(mine.includes(String(there.pid)), 'the other namespace is left out');
	} finally {
		here.kill();
		there.kill();
	}
});
