import type {Key} from 'ink';

/**
 * Enter. A key pressed before the first frame put the terminal in raw mode arrives
 * as a line feed (the tty turned CR into LF): it is Enter all the same.
 */
export function isEnter(input: string, key: Key): boolean {
	return key.return || input === '\n' || input === '\r' || (key.ctrl && input === 'j');
}
