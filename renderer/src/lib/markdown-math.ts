/**
 * TeX math in model output, as a marked extension: `$…$` and `\(…\)` inline, `$$…$$` and
 * `\[…\]` displayed (models trained on LaTeX-heavy data write the bracket forms).
 *
 * KaTeX renders MathML only (`output: 'mathml'`), which Chromium lays out natively (MathML Core,
 * since Chromium 109). KaTeX's HTML output positions every glyph with inline `style` attributes,
 * and the renderer's CSP (`style-src 'self'`, no 'unsafe-inline') blocks those, so that output
 * would fall apart on screen; MathML needs no inline style and no web fonts.
 */
import katex from 'katex';
import type { MarkedExtension, Tokens } from 'marked';

interface MathToken extends Tokens.Generic {
  type: 'math';
  tex: string;
  display: boolean;
  /** A block of its own, rather than display math inside a paragraph (which cannot hold a div). */
  block: boolean;
}

// Inline `$…$` follows pandoc's rule so prices stay prices ("$5 and $10"): the opening `$` is
// followed by a non-space, the closing one preceded by a non-space and not followed by a digit.
const INLINE_DOLLAR = /^\$(?!\$)((?:\\[\s\S]|[^\\$])+?)\$(?!\d)/;
const INLINE_DOUBLE_DOLLAR = /^\$\$((?:\\[\s\S]|[^\\$])+?)\$\$/;
const INLINE_PAREN = /^\\\(([\s\S]+?)\\\)/;
const INLINE_BRACKET = /^\\\[([\s\S]+?)\\\]/;
// Displayed math never spans a blank line (TeX forbids a paragraph break in math mode), which
// also keeps it inside the blocks that streaming re-lexes.
const BLOCK_DOLLAR = /^ {0,3}\$\$((?:(?!\n[ \t]*\n)[\s\S])+?)\$\$[ \t]*(?:\n+|$)/;
const BLOCK_BRACKET = /^ {0,3}\\\[((?:(?!\n[ \t]*\n)[\s\S])+?)\\\][ \t]*(?:\n+|$)/;
// Where displayed math could interrupt a paragraph. marked asks at every paragraph, with all the
// text left, so the search stops at the paragraph's end (a blank line) to stay linear.
const BLOCK_START = /^ {0,3}(\$\$|\\\[)|\n[ \t]*\n/m;
const INLINE_START = /\$|\\[([]/;

const KATEX_ERROR_STYLE = /^(<span class="katex-error"[^>]*?) style="[^"]*"/;
const CACHE_LIMIT = 500;
const rendered = new Map<string, string>();

/** KaTeX is the slow part of a math-heavy message; a streamed message re-renders the same formulas. */
export function renderTex(tex: string, display: boolean): string {
  const key = `${display ? 'D' : 'I'}${tex}`;
  const cached = rendered.get(key);
  if (cached !== undefined) return cached;
  const html = katex
    .renderToString(tex, {
      displayMode: display,
      output: 'mathml',
      throwOnError: false,
      trust: false,
      // Model text is not a LaTeX document: no console warnings for Unicode or other leniencies.
      strict: 'ignore',
      // A model asking for a 10000em rule or space would only break the layout.
      maxSize: 20,
      maxExpand: 1000,
    })
    // The error's inline colour would be dropped by the sanitizer anyway (the component colours
    // .katex-error); removing it first spares a CSP violation report per malformed formula.
    .replace(KATEX_ERROR_STYLE, '$1');
  if (rendered.size >= CACHE_LIMIT) rendered.clear();
  rendered.set(key, html);
  return html;
}

function mathToken(raw: string, tex: string, display: boolean, block = false): MathToken {
  return { type: 'math', raw, tex: tex.trim(), display, block };
}

export function markedMath(): MarkedExtension {
  return {
    extensions: [
      {
        name: 'math',
        level: 'block',
        start(src) {
          const match = BLOCK_START.exec(src);
          return match?.[1] ? match.index : undefined;
        },
        tokenizer(src) {
          const match = BLOCK_DOLLAR.exec(src) ?? BLOCK_BRACKET.exec(src);
          if (!match?.[1]?.trim()) return undefined;
          return mathToken(match[0], match[1], true, true);
        },
      },
      {
        name: 'math',
        level: 'inline',
        start: (src) => INLINE_START.exec(src)?.index,
        tokenizer(src) {
          const display = INLINE_DOUBLE_DOLLAR.exec(src) ?? INLINE_BRACKET.exec(src);
          if (display?.[1]?.trim()) return mathToken(display[0], display[1], true);
          const paren = INLINE_PAREN.exec(src);
          if (paren?.[1]?.trim()) return mathToken(paren[0], paren[1], false);
          const dollar = INLINE_DOLLAR.exec(src);
          const tex = dollar?.[1];
          if (dollar && tex && !/^\s|\s$/.test(tex)) return mathToken(dollar[0], tex, false);
          return undefined;
        },
      },
      {
        name: 'math',
        renderer(token) {
          const { tex, display, block } = token as MathToken;
          const html = renderTex(tex, display);
          if (!display) return html;
          return block ? `<div class="math-display">${html}</div>\n` : `<span class="math-display">${html}</span>`;
        },
      },
    ],
  };
}
