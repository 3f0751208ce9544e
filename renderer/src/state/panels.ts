/**
 * The workbench's panels in navigation order (which is also the order of the Ctrl/Cmd+N
 * shortcuts) and the hash routes that address them: `#/chat`, `#/models` ...
 */
import type { IconName } from '../components/icons.js';

export const PANELS = [
  { id: 'chat', title: 'Chat', icon: 'chat' },
  { id: 'summarize', title: 'Summarize', icon: 'summarize' },
  { id: 'translate', title: 'Translate', icon: 'translate' },
  { id: 'compare', title: 'Compare', icon: 'compare' },
  { id: 'models', title: 'Models', icon: 'models' },
  { id: 'library', title: 'Library', icon: 'library' },
  { id: 'settings', title: 'Settings', icon: 'settings' },
] as const satisfies readonly { id: string; title: string; icon: IconName }[];

export type Panel = (typeof PANELS)[number];
export type PanelId = Panel['id'];

export const DEFAULT_PANEL: PanelId = 'chat';

export function panelById(id: PanelId): Panel {
  // PANELS lists every PanelId, so the lookup cannot miss.
  return PANELS.find((panel) => panel.id === id) as Panel;
}

export function panelHash(id: PanelId): string {
  return `#/${id}`;
}

/** The panel a location hash names, or null for an empty or unknown hash. */
export function panelFromHash(hash: string): PanelId | null {
  const id = hash.replace(/^#\/?/, '');
  return PANELS.find((panel) => panel.id === id)?.id ?? null;
}
