// Without root: the answers can be previewed, not applied.
import {Box, Text, useInput} from 'ink';
import {useState} from 'react';
import {isEnter} from './keys.ts';
import {tone} from './theme.ts';
import {startCommand} from '../invocation.ts';

export function NotRoot({onPreview, onBack, onQuit}: {readonly onPreview?: () => Promise<void>; readonly onBack: () => void; readonly onQuit: () => void}) {
	const [busy, setBusy] = useState<string | undefined>();
	useInput((input, key) => {
		if (busy) return;
		if (input === 'p' && onPreview) {
			setBusy('Planning every stage against this machine (read-only)…');
			onPreview().catch((error: unknown) => setBusy(`The preview failed: ${(error as Error).message}`));
		} else if (key.escape || input === 'b') onBack();
		else if (input === 'q' || isEnter(input, key)) onQuit();
	});
	return (
		<Box flexDirection="column">
			<Text bold color={tone('warn')}>
				Applying needs root.
			</Text>
			<Text>mailwizard installs packages and writes /etc. To apply, run it as root:</Text>
			<Text bold>
				{'  '}
				{startCommand({apply: true})}
			</Text>
			<Text>Nothing was changed, and these answers are not saved.</Text>
			<Box marginTop={1}>
				<Text>
					{onPreview ? (
						<>
							<Text bold>p</Text> preview every stage's plan (nothing runs) ·{' '}
						</>
					) : null}
					<Text bold>b</Text> back · <Text bold>q</Text> quit
				</Text>
			</Box>
			{busy ? <Text color={tone('accent')}>{busy}</Text> : null}
		</Box>
	);
}
