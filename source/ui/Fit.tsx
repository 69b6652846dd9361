// A screen that waits for a key is never taller than the terminal: a taller frame scrolls
// its first lines out of reach, and no later frame can erase them (stale lines above every
// next screen). What does not fit is cut from the bottom, or from the top (keep="bottom").
import {Box, measureElement, type DOMElement} from 'ink';
import {useEffect, useRef, useState, type ReactNode} from 'react';

export function Fit({rows, keep, children}: {readonly rows: number; readonly keep: 'top' | 'bottom'; readonly children: ReactNode}) {
	const inner = useRef<DOMElement>(null);
	const [shift, setShift] = useState(0);
	// After each frame: how far the content overflows, to move it up when the bottom is kept.
	useEffect(() => {
		if (keep !== 'bottom' || !inner.current) return;
		const next = Math.max(0, measureElement(inner.current).height - (rows - 1));
		if (next !== shift) setShift(next);
	});
	return (
		<Box height={rows - 1} flexDirection="column" overflowY="hidden">
			<Box ref={inner} flexDirection="column" flexShrink={0} marginTop={keep === 'bottom' ? -shift : 0}>
				{children}
			</Box>
		</Box>
	);
}
