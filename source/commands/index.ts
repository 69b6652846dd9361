// The commands: the wizard (dry run or apply), dns, status, check, reset, rotate, and the
// day-two changes (user, alias, domain).
// Each lives in its own file, loaded only when it runs.
import type {ExitCode} from '../exit.ts';
import type {Options} from '../options.ts';

export async function runCommand(o: Options): Promise<ExitCode> {
	switch (o.command) {
		case 'wizard':
			return o.dryRun ? (await import('./dry-run.ts')).dryRun(o) : (await import('./wizard.ts')).wizard(o);
		case 'dns':
			return (await import('./dns.ts')).dns(o);
		case 'status':
			return (await import('./status.ts')).status(o);
		case 'check':
			return (await import('./check.ts')).check(o);
		case 'reset':
			return (await import('./reset.ts')).reset(o);
		case 'rotate':
			return (await import('./rotate.ts')).rotate(o);
		case 'renew':
			return (await import('./renew.ts')).renew(o);
		case 'user':
			return (await import('./user.ts')).user(o);
		case 'alias':
			return (await import('./alias.ts')).alias(o);
		case 'domain':
			return (await import('./domain.ts')).domain(o);
	}
}
