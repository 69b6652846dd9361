// Imported by app.tsx before Ink. Ink decides once, when it loads, whether it runs "in CI"
// (a CI, CONTINUOUS_INTEGRATION or CI_* variable) and then draws nothing until it exits.
// The wizard only renders Ink on a real terminal (stdin and stdout are TTYs), so an
// operator whose shell exports CI=1 must still see the wizard: the variables are hidden
// while Ink loads and given back right after (commands the wizard runs see them as set).
const hidden: Array<[string, string]> = [];
for (const key of Object.keys(process.env)) {
	if (key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_')) {
		hidden.push([key, process.env[key]!]);
		delete process.env[key];
	}
}

/** Gives back the variables hidden while Ink loaded. */
export function restoreCiEnv(): void {
	for (const [key, value] of hidden.splice(0)) process.env[key] = value;
}
