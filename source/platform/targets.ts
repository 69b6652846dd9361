// The systems mailwizard sets up (a --dry-run --target can preview any of them).
import type {Profile} from './profile.ts';

export const TARGETS: Record<string, Omit<Profile, 'node' | 'init' | 'source'>> = {
	debian12: {id: 'debian', version: '12', codename: 'bookworm', supported: true, dovecot: '2.3'},
	debian13: {id: 'debian', version: '13', codename: 'trixie', supported: true, dovecot: '2.4'},
};
