#!/usr/bin/env node
// The `emergent` command. The TypeScript is compiled to dist/ by `npm install` (the prepare script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/electron/cli/index.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('error NOT_BUILT: Emergent is not built yet. Run `npm run build` in its folder, then try again.\n');
  process.exit(1);
}
await import(entry.href);
