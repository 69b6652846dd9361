// An error as one line for the operator. Node's connect() tries every address of a name
// (IPv6 and IPv4, "happy eyeballs"); when all fail it throws an AggregateError whose own
// message is empty: the reasons are in its `errors`.

/** The error's message; for an AggregateError its distinct inner messages; else its code; never empty. */
export function errorText(error: unknown): string {
	if (error instanceof AggregateError && error.errors.length > 0) {
		const inner = [...new Set(error.errors.map(errorText))];
		return error.message ? `${error.message}: ${inner.join('; ')}` : inner.join('; ');
	}
	if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
	return String(error) || 'unknown error';
}
