import type { Component } from 'svelte';
import type { PanelId } from '../state/panels.js';
import ChatPanel from './chat/ChatPanel.svelte';
import ComparePanel from './compare/ComparePanel.svelte';
import LibraryPanel from './library/LibraryPanel.svelte';
import ModelsPanel from './models/ModelsPanel.svelte';
import SettingsPanel from './settings/SettingsPanel.svelte';
import SummarizePanel from './summarize/SummarizePanel.svelte';
import TranslatePanel from './translate/TranslatePanel.svelte';

/** What App.svelte draws for each route; a Record, so a panel without a component fails to compile. */
export const PANEL_COMPONENTS: Record<PanelId, Component> = {
  chat: ChatPanel,
  summarize: SummarizePanel,
  translate: TranslatePanel,
  compare: ComparePanel,
  models: ModelsPanel,
  library: LibraryPanel,
  settings: SettingsPanel,
};
