import test from 'ava';
import {render} from 'ink-testing-library';
import {KEY, press, tick} from '../helpers/ink.ts';
import {Questions} from '../../source/ui/Questions.tsx';
import {EMPTY_FORM, firstRunFields} from '../../source/ui/form.ts';
test('dbg', async (t) => {
	const {lastFrame, stdin} = render(<Questions form={EMPTY_FORM} fields={firstRunFields} env={{root: '/', defaultIpv4: () => '203.0.113.7'}} onDone={() => {}} />);
	await tick(50);
	for (const k of ['example.com', KEY.enter, KEY.enter, '\x15', '192.0.2.10', KEY.enter, KEY.enter, '\x15', '/tmp/x', '\x15', 'abc']) {
		await press(stdin, k);
		console.log(JSON.stringify(k), lastFrame()!.split('\n').filter((l) => /questions|^>|✗/.test(l)).join(' | '));
	}
	t.pass();
});
