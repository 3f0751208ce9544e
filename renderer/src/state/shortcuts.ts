/**
 * Ctrl+1..7 (Cmd+1..7 on macOS) jump to the panel at that position in the navigation.
 * Matched on `event.code`, so the digit row works on layouts where it types other characters.
 */
import { PANELS } from './panels.js';

const IS_MAC = /Mac|iPhone|iPad/.test(navigator.userAgent);

/** The index in PANELS that a keydown asks for, or null when it is not a panel shortcut. */
export function panelShortcutIndex(event: KeyboardEvent): number | null {
  const primary = IS_MAC ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  if (!primary || event.altKey || event.shiftKey) return null;
  const digit = /^(?:Digit|Numpad)([1-9])$/.exec(event.code)?.[1];
  if (digit === undefined) return null;
  const index = Number(digit) - 1;
  return index < PANELS.length ? index : null;
}

/** For `aria-keyshortcuts`, in the syntax ARIA defines. */
export function panelShortcutAria(index: number): string {
  return `${IS_MAC ? 'Meta' : 'Control'}+${index + 1}`;
}

/** For people: "Ctrl+1", or "⌘1" on macOS. */
export function panelShortcutLabel(index: number): string {
  return IS_MAC ? `⌘${index + 1}` : `Ctrl+${index + 1}`;
}
