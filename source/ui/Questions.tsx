// The questions, one at a time, checked as they are answered (TLS paths as they are typed).
import {Box, Text, useInput, useStdout} from 'ink';
import TextInput from 'ink-text-input';
import {useMemo, useRef, useState} from 'react';
import {checkField, fieldSpec, getValue, initialValue, setValue, type Check, type Env, type FieldId, type Form, type Pending} from './form.ts';
import {tone} from './theme.ts';

export type QuestionsProps = {
	readonly form: Form;
	/** The questions still to ask, recomputed from the form after each answer. */
	readonly fields: (form: Form) => readonly FieldId[];
	readonly env: Env;
	readonly title?: string;
	/** A line typed ahead of the first frame: the first question's value (never a password's). */
	readonly typed?: string;
	readonly onDone: (form: Form) => void;
	/** Esc on the first question. */
	readonly onBack?: () => void;
};

/** How many earlier answers a screen of this height shows above the question (6 from 24 rows, 2 at 20). */
function answeredRows(rows: number | undefined): number {
	return Math.max(0, Math.min(6, (rows || 24) - 18));
}

export function CheckLines({check}: {readonly check: Check}) {
	return (
		<Box flexDirection="column">
			{check.error ? <Text color={tone('bad')}>✗ {check.error}</Text> : null}
			{(check.warnings ?? []).map((w) => (
				<Text key={w} color={tone('warn')}>
					! {w}
				</Text>
			))}
			{(check.info ?? []).map((w) => (
				<Text key={w} color={tone('ok')}>
					✓ {w}
				</Text>
			))}
		</Box>
	);
}

/** The state of the questions: which one is asked, its value, its check; Enter, Esc and Ctrl-U. */
function useQuestions({form: start, fields, env, typed, onDone, onBack}: QuestionsProps) {
	const [form, setForm] = useState(start);
	const [index, setIndex] = useState(0);
	const [pending, setPending] = useState<Pending>({});
	const list = fields(form);
	const id = list[index]!;
	const [value, setValueState] = useState(() => (typed && !fieldSpec(id, form).mask ? typed.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim() : initialValue(id, form, env)));
	const [check, setCheck] = useState<Check>({});
	/** A soft error (TLS) shown for this exact value: Enter again keeps it. */
	const [shown, setShown] = useState<string | undefined>();
	const clearing = useRef(false);
	/** Remounts the input (its cursor) after Ctrl-U. */
	const [generation, setGeneration] = useState(0);
	const spec = fieldSpec(id, form);

	const goTo = (nextForm: Form, nextIndex: number, nextPending: Pending) => {
		const nextList = fields(nextForm);
		if (nextIndex >= nextList.length) return onDone(nextForm);
		if (nextIndex < 0) return onBack?.();
		const nextId = nextList[nextIndex]!;
		setForm(nextForm);
		setIndex(nextIndex);
		setPending(nextPending);
		setValueState(nextId.startsWith('password:') || nextId.startsWith('again:') ? '' : initialValue(nextId, nextForm, env));
		setCheck({});
		setShown(undefined);
	};

	useInput((input, key) => {
		if (key.escape) goTo(form, index - 1, pending);
		// Ctrl-U clears the line, as in a shell.
		else if (key.ctrl && input === 'u') {
			// The input's own handler may run before or after this one: ignore its "u".
			clearing.current = true;
			queueMicrotask(() => (clearing.current = false));
			setValueState('');
			setCheck({});
			setGeneration((g) => g + 1);
		}
	});

	const submit = (v: string) => {
		const c = checkField(id, form, v, env, pending);
		if (c.error && !(spec.soft && shown === v)) {
			setCheck(c);
			setShown(v);
			if (id.startsWith('again:')) setValueState('');
			return;
		}
		// Warnings are shown once; Enter again goes on with the same answer.
		if (!c.error && (c.warnings?.length ?? 0) > 0 && shown !== v) {
			setCheck(c);
			setShown(v);
			return;
		}
		if (id.startsWith('password:')) return goTo(form, index + 1, {...pending, [Number(id.split(':')[1])]: v});
		goTo(setValue(id, form, v), index + 1, pending);
	};

	const change = (typed: string) => {
		// The "u" the input adds for Ctrl-U (same key event); the next key is kept.
		if (clearing.current) return;
		// Ctrl-U and text in one chunk (a paste, a slow link): the line starts after the last clear.
		const cut = typed.lastIndexOf('\u0015');
		const v = cut >= 0 ? typed.slice(cut + 1) : typed;
		if (cut >= 0) setGeneration((g) => g + 1);
		// Pasted text with its newline arrives as one chunk: the line is the answer.
		const nl = /[\r\n]/.exec(v);
		if (nl) {
			const line = v.slice(0, nl.index);
			setValueState(line);
			return submit(line);
		}
		setValueState(v);
		if (check.error || check.warnings?.length) setCheck({});
	};
	return {form, index, list, id, spec, value, check, shown, generation, pending, submit, change};
}

export function Questions(props: QuestionsProps) {
	const {env, title} = props;
	const q = useQuestions(props);
	const {form, index, list, id, spec, value, check, shown} = q;
	const live = spec.id === 'cert' || spec.id === 'key';
	const liveCheck = useMemo(() => (live && value ? checkField(id, form, value, env, q.pending) : undefined), [live, id, form, value, env, q.pending]);
	const answered = list.slice(0, index).filter((f) => !f.startsWith('password:') && !f.startsWith('again:'));
	const shownCheck = liveCheck && !check.error ? liveCheck : check;
	return (
		<Box flexDirection="column">
			<Text bold>
				{title ?? 'mailwizard · questions'}{' '}
				<Text color={tone('dim')}>
					({index + 1} of {list.length})
				</Text>
			</Text>
			{answered.slice(-answeredRows(useStdout().stdout.rows)).map((f) => (
				<Text key={f} color={tone('dim')} wrap="truncate-end">
					{'  '}
					{fieldSpec(f, form).label}: {getValue(f, form) || '(none)'}
				</Text>
			))}
			<Box marginTop={1} flexDirection="column">
				<Text bold>{spec.label}</Text>
				{spec.hint ? <Text color={tone('dim')}>{spec.hint}</Text> : null}
				<Box>
					<Text color={tone('accent')}>{'> '}</Text>
					<TextInput key={`${id}-${q.generation}`} value={value} mask={spec.mask ? '*' : undefined} onChange={q.change} onSubmit={q.submit} />
				</Box>
				<CheckLines check={shownCheck} />
				{shown === value && check.error && spec.soft ? <Text color={tone('warn')}>Enter again to keep it anyway: the TLS stage will stop until the file is fixed.</Text> : null}
				{shown === value && !check.error && (check.warnings?.length ?? 0) > 0 ? <Text color={tone('warn')}>Enter again to use it anyway.</Text> : null}
			</Box>
			<Box marginTop={1}>
				<Text color={tone('dim')}>Enter accept · Esc back · Ctrl-U clear · Ctrl-C quit (nothing changes yet)</Text>
			</Box>
		</Box>
	);
}
