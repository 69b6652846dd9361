// The answers: what the operator tells mailwizard (TUI questions, --answers FILE, or the
// state of an earlier run). One schema, one direction: the file form (answers/types.ts)
// is validated into Answers by validateAnswers (answers/validate.ts), before anything is
// planned; an error names its key. The state stores the file form without secrets
// (toFileForm); password files are read at the run's edge (readPasswordFiles).
import type {Answers} from './answers/types.ts';
import {toFileForm} from './answers/file-form.ts';

export {AnswersError, type Answers, type DmarcPolicy, type FileForm, type FileUser, type LoadOptions, type User} from './answers/types.ts';
export {isDomainName} from './answers/fields.ts';
export {validateAnswers} from './answers/validate.ts';
export {loadAnswersFile, loadSavedAnswers, parseAnswersText, storedForm, toFileForm} from './answers/file-form.ts';
export {certFileProblems, checkCertFiles} from './answers/cert-files.ts';
export {MIN_PASSWORD, checkPasswordFiles, readPasswordFile, readPasswordFiles} from './answers/passwords.ts';

/** The answers as saved in the state and shown in status: the file form, never a password or a hash. */
export function publicAnswers(a: Answers): Record<string, unknown> {
	return toFileForm(a);
}

/** Every address the server accepts, per domain (users and aliases). */
export function acceptedAddresses(a: Answers): string[] {
	const locals = [...a.users.map((u) => u.name), ...Object.keys(a.aliases)];
	return [a.domain, ...a.extraDomains].flatMap((d) => locals.map((l) => `${l}@${d}`));
}
