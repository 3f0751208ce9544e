import type { Rule } from 'eslint';

export interface Layer {
  folder: string;
  mayImport: string[];
  packages: 'any' | string[];
  node: boolean;
  electron: boolean;
}
export const LAYERS: Record<string, Layer>;
export function layerOf(root: string, file: string): string | null;
export const layersRule: Rule.RuleModule;
declare const plugin: { rules: { layers: Rule.RuleModule } };
export default plugin;
