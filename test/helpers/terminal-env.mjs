// ava's setup for every test process. The tests render Ink directly (ink-testing-library),
// so they start as the wizard's app.tsx does (source/ui/terminal-env.ts): without the CI
// variables that would put Ink into its draw-nothing-until-exit mode. Child processes the
// tests start (the CLI in tmux) get CI=1 explicitly where that is what they test.
// Plain .mjs: on Node 18 a .ts file cannot be --import'ed next to tsx.
for (const key of Object.keys(process.env)) {
	if (key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_')) delete process.env[key];
}
