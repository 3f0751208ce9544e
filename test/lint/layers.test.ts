import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterAll, describe, expect, it } from 'vitest';
import { layersRule } from '../../eslint-rules/layers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const at = (file: string) => path.join(root, file);

// RuleTester reports through the test framework's describe/it.
Object.assign(RuleTester, { afterAll, describe, it, itOnly: it.only });

const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: 'module' } });

tester.run('emergent/layers', layersRule, {
  valid: [
    { filename: at('electron/common/a.ts'), code: "import { z } from 'zod'; import { b } from './b.js';", options: [{ root }] },
    { filename: at('electron/core/a.ts'), code: "import fs from 'node:fs'; import { x } from '../common/contract.js';", options: [{ root }] },
    { filename: at('electron/server/a.ts'), code: "import { createService } from '../core/service.js';", options: [{ root }] },
    { filename: at('electron/main/a.ts'), code: "import { app } from 'electron'; import '../core/service.js';", options: [{ root }] },
    { filename: at('renderer/src/App.ts'), code: "import type { Settings } from '../../electron/common/contract.js'; import { mount } from 'svelte';", options: [{ root }] },
    { filename: at('test/anything.ts'), code: "import 'electron'; import '../electron/main/main.js';", options: [{ root }] },
  ],
  invalid: [
    { filename: at('electron/common/a.ts'), code: "import fs from 'node:fs';", options: [{ root }], errors: [{ messageId: 'builtin' }] },
    { filename: at('electron/common/a.ts'), code: "import { readFile } from 'fs';", options: [{ root }], errors: [{ messageId: 'builtin' }] },
    { filename: at('electron/common/a.ts'), code: "import { app } from 'electron';", options: [{ root }], errors: [{ messageId: 'electron' }] },
    { filename: at('electron/common/a.ts'), code: "import { s } from '../core/service.js';", options: [{ root }], errors: [{ messageId: 'layer' }] },
    { filename: at('electron/core/a.ts'), code: "import { app } from 'electron';", options: [{ root }], errors: [{ messageId: 'electron' }] },
    { filename: at('electron/core/a.ts'), code: "const e = await import('electron');", options: [{ root }], errors: [{ messageId: 'electron' }] },
    { filename: at('electron/core/a.ts'), code: "export { x } from '../server/server.js';", options: [{ root }], errors: [{ messageId: 'layer' }] },
    { filename: at('electron/server/a.ts'), code: "import '../main/main.js';", options: [{ root }], errors: [{ messageId: 'layer' }] },
    { filename: at('renderer/src/a.ts'), code: "import { createService } from '../../electron/core/service.js';", options: [{ root }], errors: [{ messageId: 'layer' }] },
    { filename: at('renderer/src/a.ts'), code: "import fs from 'node:fs';", options: [{ root }], errors: [{ messageId: 'builtin' }] },
    { filename: at('renderer/src/a.ts'), code: "import WebSocket from 'ws';", options: [{ root }], errors: [{ messageId: 'package' }] },
    { filename: at('electron/preload/a.ts'), code: "import fs from 'node:fs';", options: [{ root }], errors: [{ messageId: 'builtin' }] },
  ],
});

describe('the project lint configuration', () => {
  const eslint = new ESLint({ cwd: root });

  it('fails a planted layer violation in electron/core', async () => {
    const [result] = await eslint.lintText("import { app } from 'electron';\nexport const name = app.getName();\n", {
      filePath: at('electron/core/planted.ts'),
    });
    expect(result?.messages.map((message) => message.ruleId)).toContain('emergent/layers');
  });

  it('fails a planted layer violation in a Svelte component', async () => {
    const code = "<script lang=\"ts\">\n  import { Engine } from '../../electron/core/engine/engine.js';\n  const engine = new Engine();\n</script>\n<p>{String(engine)}</p>\n";
    const [result] = await eslint.lintText(code, { filePath: at('renderer/src/Planted.svelte') });
    expect(result?.messages.map((message) => message.ruleId)).toContain('emergent/layers');
  });

  it('keeps SQLite inside electron/core/store', async () => {
    const code = "import Database from 'better-sqlite3';\nexport const db = new Database(':memory:');\n";
    const [outside] = await eslint.lintText(code, { filePath: at('electron/core/service-planted.ts') });
    expect(outside?.messages.map((message) => message.ruleId)).toContain('no-restricted-imports');
    const [inside] = await eslint.lintText(code, { filePath: at('electron/core/store/planted.ts') });
    expect(inside?.messages.map((message) => message.ruleId)).not.toContain('no-restricted-imports');
  });

  it('fails DOM and Node globals in electron/common', async () => {
    const [result] = await eslint.lintText('export const here = window.location.href + process.cwd();\n', {
      filePath: at('electron/common/planted.ts'),
    });
    expect(result?.messages.filter((message) => message.ruleId === 'no-restricted-globals')).toHaveLength(2);
  });
});
