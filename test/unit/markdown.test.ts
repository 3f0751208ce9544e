// @vitest-environment jsdom
/**
 * The chat's message renderer: markdown in, sanitized HTML out. Every assertion reads the output
 * as a parsed DOM, the way the browser will, not as a string.
 */
import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderMarkdownBlocks } from '../../renderer/src/lib/markdown.js';
import { splitReasoning } from '../../renderer/src/lib/reasoning.js';

// The root tsconfig type-checks tests for Node, without the DOM library (on purpose: the core must
// not compile against DOM globals), so this file names the few DOM shapes it reads.
interface DomElement {
  readonly localName: string;
  readonly namespaceURI: string | null;
  readonly textContent: string | null;
  readonly attributes: ArrayLike<{ readonly name: string; readonly value: string }>;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  querySelector(selectors: string): DomElement | null;
  querySelectorAll(selectors: string): ArrayLike<DomElement>;
}
interface DomParser {
  parseFromString(html: string, type: 'text/html'): { body: DomElement };
}
const { DOMParser } = globalThis as unknown as { DOMParser: new () => DomParser };

function parse(html: string): DomElement {
  return new DOMParser().parseFromString(html, 'text/html').body;
}

function render(markdown: string): DomElement {
  return parse(renderMarkdown(markdown));
}

function elements(root: DomElement): DomElement[] {
  return Array.from(root.querySelectorAll('*'));
}

function one(root: DomElement, selectors: string): DomElement {
  const found = root.querySelector(selectors);
  if (!found) throw new Error(`no ${selectors} in ${JSON.stringify(renderedText(root))}`);
  return found;
}

function renderedText(root: DomElement): string {
  return (root.textContent ?? '').replace(/\s+/g, ' ').trim();
}

const REFUSED_ELEMENTS = new Set([
  'script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'textarea', 'select',
  'option', 'style', 'link', 'meta', 'base', 'svg', 'video', 'audio', 'source', 'track', 'picture',
  'template', 'noscript', 'foreignobject', 'annotation-xml', 'maction', 'mglyph', 'portal', 'canvas',
]);
// Attributes that make the browser fetch or navigate to something.
const LOADING_ATTRIBUTES = new Set([
  'srcset', 'action', 'formaction', 'poster', 'background', 'data', 'ping', 'codebase', 'longdesc',
  'xlink:href', 'lowsrc', 'dynsrc', 'manifest', 'icon', 'content',
]);

/** The contract for any model output: nothing in the result can run, load, submit or style itself. */
function expectInert(root: DomElement): void {
  for (const element of elements(root)) {
    const where = `<${element.localName}>`;
    expect(REFUSED_ELEMENTS.has(element.localName), where).toBe(false);
    for (const { name, value } of Array.from(element.attributes)) {
      expect(name.startsWith('on'), `${where} ${name}`).toBe(false);
      expect(name, where).not.toBe('style');
      expect(LOADING_ATTRIBUTES.has(name), `${where} ${name}`).toBe(false);
      if (name === 'href') expect([element.localName, value], where).toEqual(['a', expect.stringMatching(/^(?:https?|mailto):/i)]);
      if (name === 'src') expect([element.localName, value], where).toEqual(['img', expect.stringMatching(/^data:image\//)]);
      if (name === 'target') expect(value).toBe('_blank');
    }
    if (element.localName === 'a' && element.hasAttribute('href')) {
      expect(element.getAttribute('rel')).toBe('noopener noreferrer');
    }
    if (element.localName === 'input') {
      expect(element.getAttribute('type')).toBe('checkbox');
      expect(element.hasAttribute('disabled')).toBe(true);
    }
    if (element.localName === 'button') expect(element.getAttribute('type')).toBe('button');
  }
}

describe('renderMarkdown: GFM', () => {
  it('renders a table with its header, cells and column alignment', () => {
    const root = render('| Model | Tokens/s |\n| --- | :-: |\n| tiny | 900 |\n| 1.1B | 42 |');
    expect(Array.from(root.querySelectorAll('thead th')).map((cell) => cell.textContent)).toEqual(['Model', 'Tokens/s']);
    expect(Array.from(root.querySelectorAll('tbody tr')).map((row) => renderedText(row))).toEqual(['tiny 900', '1.1B 42']);
    expect(one(root, 'thead th:nth-child(2)').getAttribute('align')).toBe('center');
  });

  it('renders strikethrough, task lists as disabled checkboxes, and line breaks on single newlines', () => {
    const root = render('~~old~~ new\n\n- [x] done\n- [ ] todo\n\nline one\nline two');
    expect(one(root, 'del').textContent).toBe('old');
    const boxes = Array.from(root.querySelectorAll('li input'));
    expect(boxes.map((box) => box.hasAttribute('checked'))).toEqual([true, false]);
    expect(boxes.every((box) => box.getAttribute('type') === 'checkbox' && box.hasAttribute('disabled'))).toBe(true);
    expect(root.querySelectorAll('p br')).toHaveLength(1);
  });

  it('opens http(s) and mailto links outside the app, without a referrer', () => {
    const root = render('[docs](https://example.com/docs "Docs") and <https://example.org> and <me@example.com>');
    const links = Array.from(root.querySelectorAll('a'));
    expect(links.map((link) => link.getAttribute('href'))).toEqual([
      'https://example.com/docs',
      'https://example.org',
      'mailto:me@example.com',
    ]);
    for (const link of links) {
      expect(link.getAttribute('target')).toBe('_blank');
      expect(link.getAttribute('rel')).toBe('noopener noreferrer');
    }
    expect(links[0]?.getAttribute('title')).toBe('Docs');
  });

  it('keeps an inline data: image and never an image from an address', () => {
    const root = render('![dot](data:image/png;base64,iVBORw0KGgo=) ![chart](https://example.com/chart.png)');
    const images = Array.from(root.querySelectorAll('img'));
    expect(images.map((image) => image.getAttribute('src'))).toEqual(['data:image/png;base64,iVBORw0KGgo=']);
    const placeholder = one(root, '.image-blocked');
    expect(placeholder.textContent).toContain('chart');
    expect(placeholder.textContent).toContain('https://example.com/chart.png');
  });
});

describe('renderMarkdown: code', () => {
  it('highlights a fenced block in its language, under a header with the language and a copy button', () => {
    const root = render("```python\ndef greet(name):\n    return f'hi {name}'\n```");
    const block = one(root, '.code-block');
    expect(one(block, '.code-header .code-language').textContent).toBe('python');
    const button = one(block, '.code-header button');
    expect(button.getAttribute('type')).toBe('button');
    expect(button.hasAttribute('data-copy-code')).toBe(true);
    expect(button.getAttribute('aria-label')).toBe('Copy code');
    expect(button.textContent).toBe('Copy');
    const code = one(block, 'pre > code');
    expect(code.getAttribute('class')).toBe('hljs language-python');
    expect(one(code, '.hljs-keyword').textContent).toBe('def');
    expect(code.textContent).toBe("def greet(name):\n    return f'hi {name}'\n");
  });

  it('resolves fence aliases to the registered grammar', () => {
    expect(one(render('```js\nconst a = 1;\n```'), 'code').getAttribute('class')).toBe('hljs language-javascript');
    expect(one(render('```sh\nls -la\n```'), 'code').getAttribute('class')).toBe('hljs language-bash');
    expect(one(render('```html\n<p>x</p>\n```'), 'code').getAttribute('class')).toBe('hljs language-xml');
  });

  it('shows code in an unknown or missing language as plain escaped text, without guessing', () => {
    const unknown = render('```brainfuck\n<script>++</script>\n```');
    expect(one(unknown, 'code').getAttribute('class')).toBe('language-brainfuck');
    expect(one(unknown, 'code').textContent).toBe('<script>++</script>\n');
    expect(one(unknown, '.code-language').textContent).toBe('brainfuck');
    const bare = render('```\nconst looksLikeJs = true;\n```');
    expect(one(bare, 'code').hasAttribute('class')).toBe(false);
    expect(bare.querySelector('code span')).toBeNull();
    expect(one(bare, '.code-language').textContent).toBe('text');
  });

  it('renders a fence still open mid-stream as code', () => {
    const root = render('Here:\n\n```ts\nconst x: number = 1;\nconst y');
    expect(one(root, 'code').textContent).toBe('const x: number = 1;\nconst y\n');
  });
});

describe('renderMarkdown: math', () => {
  it('renders $…$ inline and $$…$$ displayed as MathML, with no inline style', () => {
    const root = render('Energy $E = mc^2$ and\n\n$$\n\\frac{a}{b}\n$$');
    const [inline, display] = Array.from(root.querySelectorAll('math'));
    expect(inline?.namespaceURI).toBe('http://www.w3.org/1998/Math/MathML');
    expect(inline?.hasAttribute('display')).toBe(false);
    expect(one(root, 'p math msup').textContent).toBe('c2');
    expect(display?.getAttribute('display')).toBe('block');
    expect(one(root, '.math-display math mfrac').textContent).toBe('ab');
    expect(one(root, 'annotation').textContent).toBe('E = mc^2');
    expect(root.querySelector('[style]')).toBeNull();
  });

  it('renders \\(…\\) inline and \\[…\\] displayed', () => {
    const root = render('So \\(x_1\\) is\n\n\\[\\sqrt{2}\\]');
    expect(one(root, 'p math msub').textContent).toBe('x1');
    expect(one(root, '.math-display math').getAttribute('display')).toBe('block');
  });

  it('leaves prices, escaped dollars and code alone', () => {
    const root = render('It costs $5 and $10, or \\$3.\n\n`$x$` and\n\n```\n$$y$$\n```');
    expect(root.querySelector('math')).toBeNull();
    expect(renderedText(root)).toContain('It costs $5 and $10, or $3.');
  });

  it('shows malformed TeX as an error, not a throw, and drops KaTeX’s inline colour', () => {
    const root = render('broken $\\frac{1$ here');
    const error = one(root, '.katex-error');
    expect(error.textContent).toBe('\\frac{1');
    expect(error.hasAttribute('style')).toBe(false);
  });

  it('refuses TeX commands that would link, load or style', () => {
    const root = render(
      '$\\href{javascript:alert(1)}{x}$ $\\url{https://evil.example}$ $\\includegraphics{https://evil.example/x.png}$ $\\htmlStyle{color:red}{y}$',
    );
    expectInert(root);
    expect(root.querySelector('a, img')).toBeNull();
  });
});

describe('renderMarkdown: hostile input', () => {
  const HOSTILE: Record<string, string> = {
    'a script element': '<script>alert(1)</script>after',
    'an image with an error handler': '<img src=x onerror=alert(1)>',
    'a remote image in HTML': '<img src="https://evil.example/t.png" alt="tracker">',
    'a remote image in markdown': '![tracker](https://evil.example/t.png)',
    'an image with srcset': '<img src="data:image/png;base64,AA==" srcset="https://evil.example/2x.png 2x">',
    'a javascript: link': '[x](javascript:alert(1))',
    'a javascript: link, mixed case and entity-encoded': '[a](JaVaScRiPt:alert(1)) [b](&#106;avascript:alert(1)) <a href=" javascript:alert(1)">c</a>',
    'a vbscript: link': '<a href="vbscript:msgbox(1)">x</a>',
    'a data: link': '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    'a relative link': '[x](/settings) [y](file:///etc/passwd)',
    'an iframe': '<iframe src="https://evil.example"></iframe><iframe srcdoc="<script>alert(1)</script>"></iframe>',
    'an svg with onload': '<svg onload=alert(1)><circle r="5"/></svg>',
    'an svg link': '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    'style attributes': '<p style="background:url(https://evil.example/t.png)">x</p><span style="position:fixed;inset:0">cover</span>',
    'a style element': '<style>@import url(https://evil.example/x.css); body{display:none}</style>text',
    'a form': '<form action="https://evil.example"><input name="q" value="secret"><button formaction="https://evil.example">go</button></form>',
    'non-checkbox inputs': '<input type="text" value="x"><input type="image" src="https://evil.example/i.png"><input type="checkbox" onclick="alert(1)" src="https://evil.example/c.png">',
    'addresses on elements that are not links or images': '<span href="https://evil.example" src="https://evil.example/s.png">x</span><math><mi href="https://evil.example">y</mi></math>',
    'raw HTML event attributes': '<div onclick="alert(1)" onmouseover=alert(1)>x</div><details open ontoggle=alert(1)><summary>s</summary></details><b onpointerenter=alert(1)>b</b>',
    'a fake copy button': '<button data-copy-code type="submit" onclick="alert(1)" formaction="https://evil.example">Copy</button>',
    'nested markdown in HTML': '<div>\n\n**bold** [x](javascript:alert(1)) ![i](https://evil.example/i.png)\n\n</div>',
    'document-level elements': '<link rel="stylesheet" href="https://evil.example/x.css"><meta http-equiv="refresh" content="0;url=https://evil.example"><base href="https://evil.example/">',
    'embedded objects and media': '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x"><video poster="https://evil.example/p.png"><source src="https://evil.example/v.mp4"></video><audio src="https://evil.example/a.mp3"></audio>',
    'legacy loading attributes': '<table background="https://evil.example/bg.png"><tr><td background="https://evil.example/c.png">x</td></tr></table>',
    'MathML links and integration points': '<math><mi xlink:href="javascript:alert(1)" href="javascript:alert(1)">x</mi><annotation-xml encoding="text/html"><img src=x onerror=alert(1)></annotation-xml><maction actiontype="statusline">y</maction></math>',
    'mutation XSS through svg and style': '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    'mutation XSS through noscript': '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    'mutation XSS through math and annotation': '<math><annotation><style><img src=x onerror=alert(1)></style></annotation></math>',
    'link attributes from the model': '<a href="https://ok.example" target="_self" ping="https://evil.example/ping" rel="opener">ok</a>',
    'the app’s own classes': '<div class="reasoning visually-hidden markdown">x</div>',
    'id and name clobbering': '<img name="getElementById"><form id="cookie"></form><a id="location" href="https://example.com">l</a>',
  };

  for (const [name, markdown] of Object.entries(HOSTILE)) {
    it(`neutralizes ${name}`, () => {
      expectInert(render(markdown));
    });
  }

  it('neutralizes all of them in one message', () => {
    expectInert(render(Object.values(HOSTILE).join('\n\n')));
  });

  it('keeps what is harmless in each: the text, the safe link, the markdown inside HTML', () => {
    expect(renderedText(render('<script>alert(1)</script>after'))).toBe('after');
    const nested = render(HOSTILE['nested markdown in HTML'] ?? '');
    expect(one(nested, 'div strong').textContent).toBe('bold');
    expect(one(nested, 'div a').hasAttribute('href')).toBe(false);
    expect(one(nested, '.image-blocked').textContent).toContain('https://evil.example/i.png');
    const link = one(render(HOSTILE['link attributes from the model'] ?? ''), 'a');
    expect([link.getAttribute('href'), link.getAttribute('target'), link.getAttribute('rel')]).toEqual([
      'https://ok.example',
      '_blank',
      'noopener noreferrer',
    ]);
    expect(render(HOSTILE['the app’s own classes'] ?? '').querySelector('[class]')).toBeNull();
    const remote = one(render(HOSTILE['a remote image in HTML'] ?? ''), '.image-blocked');
    expect(remote.textContent).toBe('[tracker: not loaded, https://evil.example/t.png]');
  });

  it('drops every element id and name, so model HTML cannot clobber document properties', () => {
    const root = render(HOSTILE['id and name clobbering'] ?? '');
    expect(root.querySelector('[id], [name]')).toBeNull();
  });
});

describe('renderMarkdown: event handler attributes renamed before parsing', () => {
  it('renames on*= only inside tags: text and code that mention them are shown as written', () => {
    const root = render('Set `onload=init` and write onclick="go()" in prose.\n\n<b onclick="alert(1)" title=\'x onmouseover=y\'>bold</b>');
    expect(root.textContent).toContain('Set onload=init and write onclick="go()" in prose.');
    expect(one(root, 'b').textContent).toBe('bold');
    for (const element of Array.from(root.querySelectorAll('*'))) {
      for (const { name } of Array.from(element.attributes)) expect(name.startsWith('on') || name.startsWith('data-blocked'), name).toBe(false);
    }
  });
});

describe('renderMarkdownBlocks', () => {
  it('returns one sanitized fragment per top-level block, joining to renderMarkdown', () => {
    const text = '# Title\n\nA paragraph.\n\n- one\n- two\n\n```js\nx()\n```\n';
    const blocks = renderMarkdownBlocks(text);
    expect(blocks).toHaveLength(4);
    expect(blocks.join('')).toBe(renderMarkdown(text));
  });

  it('keeps markdown between raw HTML tags inside the element they open', () => {
    const root = render('<details><summary>More</summary>\n\n**inside** text\n\n</details>\n\nafter');
    expect(one(root, 'details summary').textContent).toBe('More');
    expect(one(root, 'details p strong').textContent).toBe('inside');
    expect(renderedText(one(root, 'details + p'))).toBe('after');
  });

  it('re-renders blocks above a reference definition that arrives later', () => {
    const before = render('See [the docs][docs].\n\nMore text.');
    expect(before.querySelector('a')).toBeNull();
    const after = render('See [the docs][docs].\n\nMore text.\n\n[docs]: https://example.com/docs');
    expect(one(after, 'a').getAttribute('href')).toBe('https://example.com/docs');
  });

  it('keeps the blocks above the one still streaming identical, so they need no re-insertion', () => {
    const message = '## Plan\n\n1. Read $x$\n2. Write\n\n```python\nprint(1)\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nDone, now more text.';
    const final = renderMarkdownBlocks(message);
    for (let end = 1; end <= message.length; end += 3) {
      const streamed = renderMarkdownBlocks(message.slice(0, end));
      expect(streamed.slice(0, -1)).toEqual(final.slice(0, streamed.length - 1));
    }
  });
});

describe('renderMarkdownBlocks while streaming', () => {
  // Block boundaries that a partial last line can fake or move: each case once ended mid-line.
  const CORPUS = [
    'para\n#hashtag and more',
    'Title\n===\n\nnot a title\n---\nafter the rule',
    '- one\n- two\n\n  still two\n\n- three\n  - nested\n\n1. first\n2) other list',
    '> quote\nlazy continuation\n\n> another',
    'text\n```js\nconst a = 1;\n\n\nconst b = 2;\n```\nafter the fence',
    '$$\nx^2\n$$\nand $y$ inline, \\[z\\] too\n\n$$\na\n\nb\n\nc\n$$ never math across blank lines\n\n$$ unclosed',
    '| a | b |\n| - | - |\n| 1 | 2 |\nnot a row?\n\n    indented code\n\nend',
    '<details>\n<summary>More</summary>\n\n**inside**\n\n</details>\n\n***bold italic*** ~~gone~~ <b>x</b>',
  ].join('\n\n');

  it('renders every prefix of a streamed message as a fresh render of that prefix would', () => {
    // Longest first: no earlier text is a prefix of a later one, so each of these is lexed whole.
    const fresh = new Map<number, string[]>();
    for (let end = CORPUS.length; end >= 1; end -= 1) fresh.set(end, renderMarkdownBlocks(CORPUS.slice(0, end)));
    // Push those out of the few texts the renderer remembers, or the short ones would be reused.
    for (let other = 0; other < 50; other += 1) renderMarkdownBlocks(`unrelated ${other}`);
    // Shortest first: each text extends the previous one, so each is lexed incrementally.
    for (let end = 1; end <= CORPUS.length; end += 1) {
      expect(renderMarkdownBlocks(CORPUS.slice(0, end)), JSON.stringify(CORPUS.slice(0, end))).toEqual(fresh.get(end));
    }
  });
});

describe('splitReasoning', () => {
  it('separates closed reasoning from the answer', () => {
    expect(splitReasoning('<think>\nThe user greets me.\n</think>\n\nHello!')).toEqual([
      { kind: 'reasoning', text: 'The user greets me.', open: false },
      { kind: 'answer', text: 'Hello!', open: false },
    ]);
  });

  it('marks unterminated reasoning open, as while it streams', () => {
    expect(splitReasoning('<think>Let me count: 1, 2')).toEqual([{ kind: 'reasoning', text: 'Let me count: 1, 2', open: true }]);
    expect(splitReasoning('<think>')).toEqual([{ kind: 'reasoning', text: '', open: true }]);
  });

  it('treats text before a lone </think> as reasoning (the opening tag was in the prompt)', () => {
    expect(splitReasoning('First I check.\n</think>\nIt is 4.')).toEqual([
      { kind: 'reasoning', text: 'First I check.', open: false },
      { kind: 'answer', text: 'It is 4.', open: false },
    ]);
  });

  it('returns plain answers whole and keeps several reasoning blocks in order', () => {
    expect(splitReasoning('Just an answer.')).toEqual([{ kind: 'answer', text: 'Just an answer.', open: false }]);
    expect(splitReasoning('')).toEqual([]);
    expect(splitReasoning('<think>a</think>one<think>b</think>two').map(({ kind, text }) => `${kind}:${text}`)).toEqual([
      'reasoning:a',
      'answer:one',
      'reasoning:b',
      'answer:two',
    ]);
  });
});
