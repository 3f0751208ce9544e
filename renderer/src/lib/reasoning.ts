/**
 * Reasoning models (DeepSeek-R1, Qwen3, QwQ ...) write their thinking between `<think>` and
 * `</think>` before the answer. The chat shows it apart, collapsible.
 */

export interface TextSegment {
  kind: 'reasoning' | 'answer';
  text: string;
  /** Reasoning whose `</think>` has not arrived (yet, while streaming). Always false for answers. */
  open: boolean;
}

const OPEN_TAG = '<think>';
const CLOSE_TAG = '</think>';

/**
 * Splits model output into reasoning and answer segments, in order. An unterminated `<think>`
 * makes open reasoning of the rest. A `</think>` with no `<think>` before it closes reasoning that
 * began at the start: some chat templates put the opening tag in the prompt, so the output begins
 * inside it. Whitespace-only segments are left out.
 */
export function splitReasoning(text: string): TextSegment[] {
  const segments: TextSegment[] = [];
  const push = (kind: TextSegment['kind'], part: string, open: boolean) => {
    const trimmed = kind === 'reasoning' ? part.trim() : part.replace(/^\s*\n/, '').trimEnd();
    if (trimmed !== '' || (kind === 'reasoning' && open)) segments.push({ kind, text: trimmed, open });
  };

  let position = 0;
  const firstOpen = text.indexOf(OPEN_TAG);
  const firstClose = text.indexOf(CLOSE_TAG);
  if (firstClose !== -1 && (firstOpen === -1 || firstClose < firstOpen)) {
    push('reasoning', text.slice(0, firstClose), false);
    position = firstClose + CLOSE_TAG.length;
  }

  while (position < text.length) {
    const open = text.indexOf(OPEN_TAG, position);
    if (open === -1) {
      push('answer', text.slice(position), false);
      break;
    }
    push('answer', text.slice(position, open), false);
    const start = open + OPEN_TAG.length;
    const close = text.indexOf(CLOSE_TAG, start);
    if (close === -1) {
      push('reasoning', text.slice(start), true);
      break;
    }
    push('reasoning', text.slice(start, close), false);
    position = close + CLOSE_TAG.length;
  }
  return segments;
}
