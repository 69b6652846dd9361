// Text from outside (DNS answers, blocklist reasons, a remote server's banner) is shown on
// the operator's terminal. A control character in it could move the cursor, clear the
// screen, retitle the window or hide a line: each one is shown as a visible escape instead.

/**
 * C0 controls (NUL..US, tabs and newlines too: outside text is one line), DEL, C1 controls
 * (U+0080..U+009F, CSI included), and the invisible characters that reorder or hide text
 * (bidirectional overrides and isolates, line and paragraph separators).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The text with every control character shown as \xNN (or \u{NNNN}): safe to print. */
export function printable(text: string): string {
	return text.replace(UNSAFE, (c) => {
		const code = c.charCodeAt(0);
		return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
	});
}
