/**
 * emergent/layers: keeps the picture in DESIGN.md true. Each file belongs to the layer of the
 * folder it lives in; a layer may import only the layers and packages listed for it.
 *   common    pure TypeScript: zod, nothing from node, electron or the DOM
 *   core      plain Node: common and core, never 'electron'
 *   main, preload, server, cli   the shells: common and core (preload: common only, it is sandboxed)
 *   renderer  the browser: common (types and schemas) and its own files; svelte, zod, and the
 *             message renderer's marked, dompurify, highlight.js, katex
 */
import { builtinModules } from 'node:module';
import path from 'node:path';

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** @typedef {{ folder: string, mayImport: string[], packages: 'any' | string[], node: boolean, electron: boolean }} Layer */

/** @type {Record<string, Layer>} */
export const LAYERS = {
  common: { folder: 'electron/common', mayImport: ['common'], packages: ['zod'], node: false, electron: false },
  core: { folder: 'electron/core', mayImport: ['common', 'core'], packages: 'any', node: true, electron: false },
  main: { folder: 'electron/main', mayImport: ['common', 'core', 'main'], packages: 'any', node: true, electron: true },
  preload: { folder: 'electron/preload', mayImport: ['common', 'preload'], packages: ['electron'], node: false, electron: true },
  server: { folder: 'electron/server', mayImport: ['common', 'core', 'server'], packages: 'any', node: true, electron: false },
  cli: { folder: 'electron/cli', mayImport: ['common', 'core', 'server', 'cli'], packages: 'any', node: true, electron: false },
  renderer: { folder: 'renderer/src', mayImport: ['common', 'renderer'], packages: ['svelte', 'zod', 'marked', 'dompurify', 'highlight.js', 'katex'], node: false, electron: false },
};

/** @param {string} root @param {string} file */
export function layerOf(root, file) {
  const relative = path.relative(root, path.resolve(root, file)).split(path.sep).join('/');
  for (const [name, layer] of Object.entries(LAYERS)) {
    if (relative === layer.folder || relative.startsWith(`${layer.folder}/`)) return name;
  }
  return null;
}

/** @param {string} specifier */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** @type {import('eslint').Rule.RuleModule} */
export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the layers of DESIGN.md (common, core, shells, renderer).' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      layer: "{{from}} may not import {{to}} ('{{specifier}}'). {{from}} may import: {{allowed}}.",
      package: "{{from}} may not import the package '{{specifier}}'. {{from}} may use: {{allowed}}.",
      builtin: "{{from}} may not import Node's '{{specifier}}': it must run outside Node.",
      electron: "{{from}} may not import 'electron': it must run in plain Node.",
    },
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const file = context.filename;
    const from = layerOf(root, file);
    if (from === null) return {};
    const layer = /** @type {Layer} */ (LAYERS[from]);

    /** @param {import('estree').Node} node @param {unknown} value */
    const check = (node, value) => {
      if (typeof value !== 'string') return;
      const specifier = value;
      if (specifier.startsWith('.') || specifier.startsWith('/')) {
        const target = layerOf(root, path.resolve(path.dirname(file), specifier));
        if (target !== null && !layer.mayImport.includes(target)) {
          context.report({ node, messageId: 'layer', data: { from, to: target, specifier, allowed: layer.mayImport.join(', ') } });
        }
        return;
      }
      if (specifier === 'electron' || specifier.startsWith('electron/')) {
        if (!layer.electron) context.report({ node, messageId: 'electron', data: { from } });
        return;
      }
      if (NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(packageName(specifier))) {
        if (!layer.node) context.report({ node, messageId: 'builtin', data: { from, specifier } });
        return;
      }
      if (layer.packages !== 'any' && !layer.packages.includes(packageName(specifier))) {
        context.report({ node, messageId: 'package', data: { from, specifier, allowed: layer.packages.join(', ') } });
      }
    };

    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal') {
          check(node, node.arguments[0].value);
        }
      },
    };
  },
};

export default { rules: { layers: layersRule } };
