/**
 * Syntax highlighting for fenced code in model output. Only the languages registered here are
 * bundled (highlight.js's full set is ~1 MB), and nothing is auto-detected: the fence's language
 * decides, and a fence without a known one is shown as plain, escaped text.
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

const LANGUAGES = { bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, rust, shell, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);
// Fence names models use that the grammars do not list as aliases.
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });
hljs.registerAliases(['zsh', 'sh', 'shellscript'], { languageName: 'bash' });
hljs.registerAliases(['terminal'], { languageName: 'shell' });
hljs.registerAliases(['node'], { languageName: 'javascript' });
hljs.registerAliases(['py3', 'python3'], { languageName: 'python' });

// getLanguage() resolves an alias to the grammar object; this maps that back to its name.
const LANGUAGE_NAMES = new Map(Object.keys(LANGUAGES).map((name) => [hljs.getLanguage(name), name] as const));

export interface HighlightedCode {
  /** The registered grammar's name (`javascript` for a `js` fence), or null when none applies. */
  language: string | null;
  /** HTML: highlight.js token spans around escaped text, or only the escaped text. */
  html: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

export function highlightCode(code: string, fenceLanguage: string): HighlightedCode {
  const grammar = fenceLanguage === '' ? undefined : hljs.getLanguage(fenceLanguage);
  if (!grammar) return { language: null, html: escapeHtml(code) };
  const language = LANGUAGE_NAMES.get(grammar) ?? fenceLanguage;
  return { language, html: hljs.highlight(code, { language, ignoreIllegals: true }).value };
}

let warmedUp = false;

/**
 * highlight.js compiles a grammar's regular expressions the first time it is used: tens of ms
 * for the first Python or TypeScript block, paid while a conversation opens. This compiles
 * them one per idle moment instead, once per page.
 */
export function warmUpHighlighting(): void {
  if (warmedUp || typeof requestIdleCallback !== 'function') return;
  warmedUp = true;
  const names = Object.keys(LANGUAGES);
  const next = () => {
    const name = names.shift();
    if (name === undefined) return;
    hljs.highlight('x', { language: name, ignoreIllegals: true });
    requestIdleCallback(next);
  };
  requestIdleCallback(next);
}
