// The doctor's SPF row: the DNS lookups a receiver makes through include: and redirect=,
// counted against RFC 7208's limit of 10 (a fake resolver), and the same through a real NSD.
import test from 'ava';
import {resolverTxt, spfRow, spfRows, walkSpf, type TxtLookup} from '../../source/doctor/spf.ts';
import {nsdUnavailable, startNsd, zoneText} from '../helpers/nsd.ts';

/** A fake resolver: name -> TXT values; a name absent is NXDOMAIN; 'fail' throws as a silent server does. */
function fake(zone: Record<string, readonly string[] | 'fail'>): TxtLookup & {asked: string[]} {
	const asked: string[] = [];
	const f = async (name: string) => {
		asked.push(name);
		const v = zone[name];
		if (v === 'fail') throw new Error(`no answer for ${name}`);
		return v ?? null;
	};
	return Object.assign(f, {asked});
}

/** 11 lookups: mx + include (2), then a mx ptr exists include (5), then a mx ptr exists (4). */
const ELEVEN = {
	'example.test': ['v=spf1 mx include:s1.example.test -all'],
	's1.example.test': ['v=spf1 a mx ptr exists:x.example.test include:s2.example.test ~all'],
	's2.example.test': ['v=spf1 a mx ptr exists:y.example.test ?all'],
};

test('spf: the published "v=spf1 mx -all" costs one lookup: ok, with the count', async (t) => {
	const walk = await walkSpf('example.test', fake({'example.test': ['v=spf1 mx -all', 'google-site-verification=x']}));
	t.like(walk, {state: 'ok', total: 1});
	t.like(spfRow('example.test', walk), {id: 'spf:lookups:example.test', area: 'dns', status: 'ok', detail: 'SPF needs 1 of 10 DNS lookups: example.test (1)'});
});

test('spf: 11 lookups through two includes fail, with the chain and the count of each record', async (t) => {
	const lookup = fake(ELEVEN);
	const row = spfRow('example.test', await walkSpf('example.test', lookup));
	t.is(row.status, 'fail');
	t.is(row.who, 'dns');
	t.regex(row.detail, /needs 11 DNS lookups, over the limit of 10/);
	t.regex(row.detail, /example\.test \(2\) -> s1\.example\.test \(5\) -> s2\.example\.test \(4\)$/);
	t.deepEqual(lookup.asked, ['example.test', 's1.example.test', 's2.example.test']);
});

test('spf: exactly 10 lookups is still ok (the limit is "more than 10")', async (t) => {
	const ten = {...ELEVEN, 's2.example.test': ['v=spf1 a mx ptr -all']};
	t.like(await walkSpf('example.test', fake(ten)), {state: 'ok', total: 10});
});

test('spf: redirect= is followed and counted; ignored when the record has "all"', async (t) => {
	const z = {'example.test': ['v=spf1 redirect=_spf.example.test'], '_spf.example.test': ['v=spf1 a mx -all']};
	t.like(await walkSpf('example.test', fake(z)), {state: 'ok', total: 3});
	const withAll = fake({'example.test': ['v=spf1 mx redirect=_spf.example.test -all']});
	t.like(await walkSpf('example.test', withAll), {state: 'ok', total: 2});
	t.deepEqual(withAll.asked, ['example.test']);
});

test('spf: an include of a name without SPF, or a loop, fails (permerror); the same include twice is counted twice', async (t) => {
	const none = spfRow('example.test', await walkSpf('example.test', fake({'example.test': ['v=spf1 include:gone.example.test -all'], 'gone.example.test': ['hello']})));
	t.like(none, {status: 'fail'});
	t.regex(none.detail, /gone\.example\.test has no SPF record/);
	const nx = await walkSpf('example.test', fake({'example.test': ['v=spf1 include:nx.example.test -all']}));
	t.like(nx, {state: 'broken'});
	const loop = await walkSpf('example.test', fake({'example.test': ['v=spf1 include:a.example.test -all'], 'a.example.test': ['v=spf1 include:example.test -all']}));
	t.like(loop, {state: 'broken', problem: 'example.test includes itself (a loop)'});
	const twice = await walkSpf('example.test', fake({'example.test': ['v=spf1 include:a.example.test include:a.example.test -all'], 'a.example.test': ['v=spf1 mx -all']}));
	t.like(twice, {state: 'ok', total: 4});
});

test('spf: a resolver that does not answer is unknown, named as a DNS failure, not a fail', async (t) => {
	const row = spfRow('example.test', await walkSpf('example.test', fake({'example.test': ['v=spf1 include:s.example.test -all'], 's.example.test': 'fail'})));
	t.like(row, {status: 'unknown', who: 'admin'});
	t.regex(row.detail, /^DNS failure, no verdict: no answer for s\.example\.test/);
});

test('spf: a macro include is counted but not followed; one row per mail domain', async (t) => {
	const lookup = fake({'example.test': ['v=spf1 include:%{i}._ip.example.test mx -all'], 'other.test': ['v=spf1 mx -all']});
	const rows = await spfRows(['example.test', 'other.test'], lookup);
	t.deepEqual(
		rows.map((r) => [r.id, r.status, r.detail]),
		[
			['spf:lookups:example.test', 'ok', 'SPF needs 2 of 10 DNS lookups: example.test (2)'],
			['spf:lookups:other.test', 'ok', 'SPF needs 1 of 10 DNS lookups: other.test (1)'],
		],
	);
});

const ADDR = '127.53.19.2';
const unavailable = nsdUnavailable();
(unavailable ? test.skip : test.serial)(`spf: through a real DNS server, 11 lookups fail and a silent resolver is unknown${unavailable ? ` (skipped: ${unavailable})` : ''}`, async (t) => {
	const body = Object.entries(ELEVEN)
		.map(([name, [v]]) => `${name}. IN TXT "${v}"\n`)
		.join('');
	const nsd = await startNsd(ADDR, {'example.test': zoneText('example.test', {ns: {ns1: ADDR}, body})});
	try {
		const row = (await spfRows(['example.test'], resolverTxt([ADDR])))[0]!;
		t.like(row, {status: 'fail'});
		t.regex(row.detail, /needs 11 DNS lookups/);
		t.like((await spfRows(['nothere.example.test'], resolverTxt([ADDR])))[0], {status: 'fail'});
	} finally {
		await nsd.stop();
	}
	t.like((await spfRows(['example.test'], resolverTxt([ADDR], 300)))[0], {status: 'unknown'});
});
