// The wizard: welcome, questions, review, then apply()'s events on screen. The state
// machine is useWizard (useWizard.ts, useRun.ts); this file only picks the screen.
// Everything that touches the host comes in through Deps (deps.ts).
import {Box, Text, useStdout} from 'ink';
import {EXIT} from '../exit.ts';
import {startCommand} from '../invocation.ts';
import type {Deps} from './deps.ts';
import {NotRoot} from './NotRoot.tsx';
import {PlanReview} from './PlanReview.tsx';
import {Questions} from './Questions.tsx';
import {Review} from './Review.tsx';
import {Running} from './Running.tsx';
import {stagesFrom} from './StepList.tsx';
import {tone} from './theme.ts';
import {useWizard} from './useWizard.ts';
import {Welcome} from './Welcome.tsx';
import {Fit} from './Fit.tsx';

export type {Deps, Started} from './deps.ts';
export {passwordStepsPending} from './useWizard.ts';

type Wizard = ReturnType<typeof useWizard>;

function WelcomeScreen({deps, w}: {readonly deps: Deps; readonly w: Wizard}) {
	return (
		<Box flexDirection="column">
			<Welcome stages={stagesFrom(deps.steps, deps.data)} data={deps.data} stateFile={deps.stateFile} dnsNow={w.dnsNow} onQuit={w.quit} onStart={w.begin} />
			{deps.dryRun ? (
				<Text color={tone('warn')}>Dry run: answer, then preview each stage's plan; nothing is changed.</Text>
			) : deps.canApply ? null : (
				<Text color={tone('warn')}>Not root: you can answer and preview; applying needs root: `{startCommand({apply: true})}`.</Text>
			)}
		</Box>
	);
}

/** The running stages, the plan to confirm, and once finished the closing lines. */
function RunScreen({w, rows, width}: {readonly w: Wizard; readonly rows: number; readonly width: number}) {
	const {phase, confirm} = w;
	return (
		<Box flexDirection="column">
			<Running progress={w.progress} width={width} stopping={phase.name === 'running' ? w.stopping : undefined} />
			{confirm && phase.name === 'running' ? (
				<PlanReview
					key={confirm.plan.step.id}
					plan={confirm.plan}
					init={w.init}
					index={confirm.index}
					total={confirm.total}
					height={Math.max(5, rows - 7)}
					width={width}
					onDecision={confirm.resolve}
				/>
			) : null}
			{phase.name === 'finished'
				? phase.lines.map((l) => (
						<Text key={l} bold color={tone(phase.code === EXIT.ok ? 'ok' : phase.code === EXIT.failed ? 'bad' : 'warn')}>
							{l}
						</Text>
					))
				: null}
		</Box>
	);
}

export function App({deps}: {readonly deps: Deps}) {
	const {stdout} = useStdout();
	const rows = stdout.rows || 24;
	const w = useWizard(deps);
	const {phase} = w;
	// Screens that wait for a key never grow past the terminal: a taller frame would leave
	// lines above it that no later frame erases (the running log and the closing lines are exempt).
	if (phase.name === 'running' || phase.name === 'finished') return <RunScreen w={w} rows={rows} width={stdout.columns || 80} />;
	// A question keeps its input, checks and keys in view: what does not fit goes from the top.
	return (
		<Fit rows={rows} keep={phase.name === 'questions' ? 'bottom' : 'top'}>
			<Screen w={w} deps={deps} rows={rows} width={stdout.columns || 80} />
		</Fit>
	);
}

function Screen({w, deps, rows, width}: {readonly w: Wizard; readonly deps: Deps; readonly rows: number; readonly width: number}) {
	const {phase, form} = w;
	switch (phase.name) {
		case 'welcome':
			return <WelcomeScreen deps={deps} w={w} />;
		case 'questions':
			return (
				<Questions
					key={`${phase.title}-${phase.fields(form).join(',')}`}
					form={form}
					fields={phase.fields}
					env={deps.env}
					title={phase.title}
					typed={phase.typed}
					onDone={(f) => w.toReview(f)}
					onBack={() => w.backTo(phase.back)}
				/>
			);
		case 'review':
			return <Review form={form} note={phase.note} onQuit={w.quit} onContinue={w.proceed} onEdit={w.edit} />;
		case 'notroot':
			return <NotRoot onPreview={w.preview} onBack={() => w.backTo('review')} onQuit={w.refuse} />;
		case 'preview': {
			const {plans, index} = phase;
			return <PlanReview key={index} plan={plans[index]!} init={phase.init} index={index} total={plans.length} height={rows - 6} width={width} preview onDecision={w.previewed} />;
		}
		default:
			return null;
	}
}
