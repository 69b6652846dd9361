// Builds the single-file ESM bundle dist/mailwizard.js (templates are TypeScript
// modules, so they are embedded). Zero runtime dependencies.
import {chmodSync, readFileSync, statSync} from 'node:fs';
import {build} from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const started = Date.now();
await build({
	entryPoints: ['source/bin.ts'],
	outfile: 'dist/mailwizard.js',
	bundle: true,
	platform: 'node',
	format: 'esm',
	target: 'node18.19',
	minify: true,
	legalComments: 'none',
	jsx: 'automatic',
	banner: {
		js: "#!/usr/bin/env node\nimport {createRequire as __mwCreateRequire} from 'node:module';const require=__mwCreateRequire(import.meta.url);",
	},
	define: {
		'process.env.NODE_ENV': '"production"',
		__MAILWIZARD_VERSION__: JSON.stringify(pkg.version),
	},
	// Ink imports react-devtools-core only when DEV is set; never in the bundle.
	alias: {'react-devtools-core': './scripts/empty.mjs', ws: './scripts/empty.mjs'},
	logLevel: 'warning',
});
chmodSync('dist/mailwizard.js', 0o755);
const size = statSync('dist/mailwizard.js').size;
console.log(`dist/mailwizard.js: ${(size / 1024).toFixed(0)} KiB in ${Date.now() - started} ms`);
