// The running mailwizard as a file: the single-file build (dist/mailwizard.js, or the copy npm
// or npx unpacked) that can be installed where the scheduled check finds it after a reboot.
import {fileURLToPath} from 'node:url';

declare const __MAILWIZARD_VERSION__: string | undefined;

/** The bundle this process runs, or undefined when it runs from the sources (tsx, tests). */
export function runningBundle(): string | undefined {
	// The version is defined only in the build: then this module is inside the bundle.
	if (typeof __MAILWIZARD_VERSION__ !== 'string') return undefined;
	return fileURLToPath(import.meta.url);
}
