/**
 * Model output → safe HTML. Markdown (GFM) by marked, fenced code highlighted, TeX by KaTeX as
 * MathML, then DOMPurify with an allowlist written for this output (highlighted code is checked
 * on its own, below): the model is an untrusted author, and nothing it writes may run script,
 * load anything from the network, or navigate the app.
 *
 * Streaming re-renders a growing message once per frame, so the work is split per top-level
 * block (paragraph, list, code fence, table ...): a delta re-lexes only the last blocks of the
 * text, and renders only blocks whose source changed (each block's sanitized HTML is cached).
 */
import DOMPurify from 'dompurify';
import type { Config } from 'dompurify';
import { Marked } from 'marked';
import type { Token, TokensList } from 'marked';
import { escapeHtml, highlightCode } from './code-highlight.js';
import { markedMath } from './markdown-math.js';

// ---- Highlighted code, set aside from the sanitizer -----------------------------------------------
// DOMPurify costs several microseconds an element, and highlighted code is mostly elements (a span
// per token): 20 KB of code took ~80 ms to sanitize. So highlight.js's output is instead checked to
// be escaped text and `<span class="…">` only, markup that cannot carry anything else, and put back
// into the sanitized HTML in place of a token the model cannot guess.

const CODE_SLOT_NONCE = Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
const CODE_SLOT = new RegExp(`${CODE_SLOT_NONCE}:(\\d+);`, 'g');
const HIGHLIGHT_SPAN = /<span class="[\w -]+">|<\/span>/g;
const setAsideCode: string[] = [];

function isHighlightMarkup(html: string): boolean {
  return !/[<>]/.test(html.replace(HIGHLIGHT_SPAN, ''));
}

function setAside(html: string): string {
  setAsideCode.push(html);
  return `${CODE_SLOT_NONCE}:${setAsideCode.length - 1};`;
}

function putBackCode(html: string): string {
  return html.replace(CODE_SLOT, (_, index: string) => setAsideCode[Number(index)] ?? '');
}

const marked = new Marked(
  {
    gfm: true,
    // Models end lines where they mean a line break (poems, addresses, step lists without markers).
    breaks: true,
    renderer: {
      code({ text, lang }) {
        const fence = (lang ?? '').trim().split(/\s+/, 1)[0] ?? '';
        const code = text.replace(/\n$/, '');
        const { language, html } = highlightCode(code, fence.toLowerCase());
        const label = fence === '' ? 'text' : fence;
        const languageClass = language ?? fence.toLowerCase().replace(/[^\w+#.-]/g, '');
        const codeClass = language ? `hljs language-${language}` : languageClass ? `language-${languageClass}` : '';
        return (
          `<div class="code-block"><div class="code-header"><span class="code-language">${escapeHtml(label)}</span>` +
          '<button type="button" data-copy-code aria-label="Copy code">Copy</button></div>' +
          `<pre><code${codeClass ? ` class="${codeClass}"` : ''}>${setAside(isHighlightMarkup(html) ? html : escapeHtml(code))}\n</code></pre></div>\n`
        );
      },
    },
  },
  markedMath(),
);

// ---- Sanitizing ---------------------------------------------------------------------------------

const HTML_TAGS = [
  'a', 'abbr', 'b', 'blockquote', 'br', 'button', 'caption', 'code', 'dd', 'del', 'details', 'div',
  'dl', 'dt', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'input', 'ins', 'kbd',
  'li', 'mark', 'ol', 'p', 'pre', 'q', 's', 'samp', 'small', 'span', 'strong', 'sub', 'summary',
  'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'u', 'ul', 'var',
];
// What KaTeX's MathML output uses. `semantics` and `annotation` (the TeX source) are on
// DOMPurify's refused list because of `annotation-xml`, an HTML integration point; plain
// `annotation` holds text only, and a hook removes any that holds an element.
const MATHML_TAGS = [
  'math', 'annotation', 'semantics', 'menclose', 'merror', 'mfrac', 'mi', 'mmultiscripts', 'mn',
  'mo', 'mover', 'mpadded', 'mphantom', 'mprescripts', 'mroot', 'mrow', 'ms', 'mspace', 'msqrt',
  'mstyle', 'msub', 'msubsup', 'msup', 'mtable', 'mtd', 'mtext', 'mtr', 'munder', 'munderover',
];
const HTML_ATTRIBUTES = [
  'href', 'src', 'alt', 'title', 'class', 'align', 'colspan', 'rowspan', 'start', 'type', 'checked',
  'disabled', 'open', 'data-copy-code', 'aria-label',
];
const MATHML_ATTRIBUTES = [
  'display', 'encoding', 'mathvariant', 'mathcolor', 'mathbackground', 'mathsize', 'stretchy',
  'fence', 'separator', 'lspace', 'rspace', 'width', 'height', 'depth', 'voffset', 'minsize',
  'maxsize', 'accent', 'accentunder', 'columnalign', 'rowalign', 'columnspacing', 'rowspacing',
  'columnlines', 'rowlines', 'frame', 'framespacing', 'scriptlevel', 'displaystyle', 'notation',
  'linethickness', 'movablelimits', 'symmetric', 'largeop',
];

const SANITIZE_CONFIG: Config = {
  ALLOWED_TAGS: [...HTML_TAGS, ...MATHML_TAGS],
  ALLOWED_ATTR: [...HTML_ATTRIBUTES, ...MATHML_ATTRIBUTES],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
};

// Classes are an allowlist too: those the renderer, highlight.js and KaTeX write. A model cannot
// borrow the app's own classes beyond these (a fake toolbar, a fake "Reasoning").
const ALLOWED_CLASS =
  /^(?:hljs(?:-[\w-]+)?|[a-z]+_+|language-[\w+#.-]+|katex(?:-[\w-]+)?|math-display|code-block|code-header|code-language|image-blocked)$/;
const LINK_PROTOCOL = /^(?:https?|mailto):/i;
const IMAGE_DATA_URL = /^data:image\/(?:png|jpeg|gif|webp|avif|bmp|svg\+xml)[;,]/i;

const purify = DOMPurify();
// Set once: a config passed to each sanitize() call is parsed again each time.
purify.setConfig(SANITIZE_CONFIG);
// The address of each image the sanitizer refused, kept to show in the image's place.
const refusedImages = new WeakMap<object, string>();

purify.addHook('uponSanitizeAttribute', (element, event) => {
  const tag = element.nodeName;
  if (event.attrName === 'class') {
    const kept = event.attrValue.split(/\s+/).filter((name) => ALLOWED_CLASS.test(name));
    event.attrValue = kept.join(' ');
    event.keepAttr = kept.length > 0;
  } else if (event.attrName === 'href') {
    // Links out of the app only: a relative one would resolve against the app itself, and data:,
    // javascript: and the like go.
    event.keepAttr = tag === 'A' && LINK_PROTOCOL.test(event.attrValue);
  } else if (event.attrName === 'src') {
    // Model output never makes a network request: an image is shown only when it is inline data.
    event.keepAttr = tag === 'IMG' && IMAGE_DATA_URL.test(event.attrValue);
    if (tag === 'IMG' && !event.keepAttr) refusedImages.set(element, event.attrValue);
  }
});

purify.addHook('afterSanitizeAttributes', (element) => {
  switch (element.nodeName) {
    case 'A':
      if (element.hasAttribute('href')) {
        element.setAttribute('target', '_blank');
        element.setAttribute('rel', 'noopener noreferrer');
      }
      break;
    case 'IMG':
      if (!element.hasAttribute('src')) {
        const placeholder = element.ownerDocument.createElement('span');
        placeholder.className = 'image-blocked';
        const alt = element.getAttribute('alt')?.trim() || 'image';
        const address = refusedImages.get(element);
        placeholder.textContent = address ? `[${alt}: not loaded, ${address}]` : `[${alt}]`;
        element.replaceWith(placeholder);
      }
      break;
    case 'INPUT':
      // Task-list checkboxes only, and they show state: a person cannot tick them.
      if (element.getAttribute('type') === 'checkbox') element.setAttribute('disabled', '');
      else element.remove();
      break;
    case 'BUTTON':
      element.setAttribute('type', 'button');
      break;
    case 'annotation':
      if (element.firstElementChild) element.remove();
      break;
  }
});

/**
 * Event handler attributes are renamed inside tags before parsing. DOMPurify would remove them
 * anyway and the CSP would block them, but Chromium reports a CSP violation (a console error)
 * as soon as any document, even DOMPurify's inert one, parses `onerror=`: hostile model output
 * would fill the console with errors that are not ours. Text is untouched: marked escapes `<`
 * in text, so only real tags match.
 */
const TAG = /<[a-z][^>]*>/giu;
const HANDLER_ATTRIBUTE = /([\s/"'])on([a-z]+)(\s*=)/giu;

function sanitize(html: string): string {
  return purify.sanitize(html.replace(TAG, (tag) => tag.replace(HANDLER_ATTRIBUTE, '$1data-blocked-on$2$3')));
}

// ---- Lexing, incrementally while a message streams ------------------------------------------------

interface LexedText {
  text: string;
  tokens: Token[];
  links: TokensList['links'];
  /** The sanitized HTML of each block, once rendered. */
  blocks?: string[];
}

/** The last texts lexed, newest first: a streamed text is usually one of them plus a delta. */
const recentTexts: LexedText[] = [];
const RECENT_TEXTS = 8;

function lexFully(text: string): LexedText {
  const tokens = marked.lexer(text);
  return { text, tokens, links: tokens.links };
}

/**
 * Lexes `text`, which extends `previous.text`, re-lexing only its last two blocks. Every block
 * before the last one is closed (a later block began), so appended text cannot change it; the
 * last but one is re-lexed too because a partial last line can lex as a block of its own ("#"
 * is an empty heading) and then turn out to continue the block above ("#hashtag"). Reference
 * definitions can change any block above them, so text with any is lexed whole.
 */
function lexAppended(previous: LexedText, text: string): LexedText | undefined {
  if (Object.keys(previous.links).length > 0 || !tokensTile(previous)) return undefined;
  let restart = previous.tokens.length;
  for (let blocks = 0; restart > 0 && blocks < 2; ) {
    restart -= 1;
    if (previous.tokens[restart]?.type !== 'space') blocks += 1;
  }
  if (restart === 0) return undefined;
  const stable = previous.tokens.slice(0, restart);
  let offset = 0;
  for (const token of stable) offset += token.raw.length;
  const tail = marked.lexer(text.slice(offset));
  if (Object.keys(tail.links).length > 0) return undefined;
  return { text, tokens: [...stable, ...tail], links: tail.links };
}

/** Whether the tokens' sources laid end to end are the text (what lexAppended relies on). */
function tokensTile(lexed: LexedText): boolean {
  let length = 0;
  for (const token of lexed.tokens) length += token.raw.length;
  return length === lexed.text.length;
}

function lex(text: string): LexedText {
  // Longest first, so the first earlier text that `text` extends is the closest one. (Comparing
  // with ===, not startsWith: V8 compares equal-length strings in bulk, startsWith a character at
  // a time, which took milliseconds a delta on a 100 KB message.)
  let base: LexedText | undefined;
  for (const lexed of [...recentTexts].sort((a, b) => b.text.length - a.text.length)) {
    if (lexed.text.length > text.length) continue;
    if (lexed.text.length === text.length ? lexed.text === text : text.slice(0, lexed.text.length) === lexed.text) {
      if (lexed.text.length === text.length) return lexed;
      base = lexed;
      break;
    }
  }
  let lexed = base ? lexAppended(base, text) : undefined;
  if (!lexed || !tokensTile(lexed)) lexed = lexFully(text);
  recentTexts.unshift(lexed);
  if (recentTexts.length > RECENT_TEXTS) recentTexts.pop();
  return lexed;
}

// ---- Rendering, block by block --------------------------------------------------------------------

/** Sanitized HTML by block source, least recently used first out, within a budget of characters. */
class BlockCache {
  readonly #entries = new Map<string, string>();
  #characters = 0;

  constructor(private readonly budget: number) {}

  get(key: string): string | undefined {
    const html = this.#entries.get(key);
    if (html !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, html);
    }
    return html;
  }

  set(key: string, html: string): void {
    if (this.#entries.has(key)) return;
    this.#entries.set(key, html);
    this.#characters += key.length + html.length;
    for (const [oldKey, oldHtml] of this.#entries) {
      if (this.#characters <= this.budget) break;
      this.#entries.delete(oldKey);
      this.#characters -= oldKey.length + oldHtml.length;
    }
  }
}

const renderedBlocks = new BlockCache(4_000_000);
// While a message streams, the blocks above the last two are the same token objects from one
// delta to the next: found by identity, they cost no string building or hashing.
const renderedGroups = new WeakMap<Token, { group: Token[]; linksKey: string; html: string }>();

function renderGroup(group: Token[], links: TokensList['links'], linksKey: string): string {
  const first = group[0];
  const known = first && renderedGroups.get(first);
  if (known?.linksKey === linksKey && known.group.length === group.length && known.group.every((token, i) => token === group[i])) {
    return known.html;
  }
  const raw = group.map((token) => token.raw).join('');
  // Reference links are resolved while lexing, so a definition arriving later changes the tokens
  // of blocks above it without changing their source: the definitions are part of the key.
  const key = linksKey === '' ? raw : `${linksKey}\u0000${raw}`;
  let html = renderedBlocks.get(key);
  if (html === undefined) {
    try {
      html = putBackCode(sanitize(marked.parser(Object.assign([...group], { links }))));
    } finally {
      setAsideCode.length = 0;
    }
    renderedBlocks.set(key, html);
  }
  if (first) renderedGroups.set(first, { group, linksKey, html });
  return html;
}

const HTML_TAG = /<(\/?)([a-zA-Z][\w-]*)(?:\s[^>]*)?>/g;
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

/** Elements an HTML block opens minus those it closes: `<details>` +1, `</details>` -1. */
function elementBalance(html: string): number {
  let balance = 0;
  for (const [tag, closing, name = ''] of html.matchAll(HTML_TAG)) {
    if (VOID_ELEMENTS.has(name.toLowerCase()) || tag.endsWith('/>')) continue;
    balance += closing ? -1 : 1;
  }
  return balance;
}

function renderBlocks({ tokens, links }: LexedText): string[] {
  const linksKey = Object.keys(links).length === 0 ? '' : JSON.stringify(links);
  const blocks: string[] = [];
  // Markdown inside raw HTML (`<details>`, blank line, markdown, blank line, `</details>`) lexes as
  // several blocks; they are rendered and sanitized together, or the element would close early.
  let group: Token[] = [];
  let depth = 0;
  for (const token of tokens) {
    if (token.type === 'space' || token.type === 'def') {
      if (group.length > 0) group.push(token);
      continue;
    }
    group.push(token);
    if (token.type === 'html') depth = Math.max(0, depth + elementBalance(token.raw));
    if (depth > 0) continue;
    blocks.push(renderGroup(group, links, linksKey));
    group = [];
  }
  if (group.length > 0) blocks.push(renderGroup(group, links, linksKey));
  return blocks.filter((html) => html !== '');
}

/**
 * The sanitized HTML of each top-level block of `text`, in order, empty blocks left out. A
 * component that inserts them one by one replaces only the blocks that changed.
 */
export function renderMarkdownBlocks(text: string): string[] {
  const lexed = lex(text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text);
  lexed.blocks ??= renderBlocks(lexed);
  return [...lexed.blocks];
}

/** Markdown from a model, as HTML safe to insert into the app's document. */
export function renderMarkdown(text: string): string {
  return renderMarkdownBlocks(text).join('');
}
