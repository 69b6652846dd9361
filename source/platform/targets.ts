// The systems mailwizard sets up (a --dry-run --target can preview any of them).
// (Spelled out here rather than taken from profile.ts, which reads this table.)
export type Target = {readonly id: string; readonly version: string; readonly codename: string; readonly supported: boolean; readonly dovecot: '2.3' | '2.4'};

export const TARGETS: Record<string, Target> = {
	debian12: {id: 'debian', version: '12', codename: 'bookworm', supported: true, dovecot: '2.3'},
	debian13: {id: 'debian', version: '13', codename: 'trixie', supported: true, dovecot: '2.4'},
};
