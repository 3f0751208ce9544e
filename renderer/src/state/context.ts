import { getContext } from 'svelte';
import type { AppState } from './app.svelte.js';

const APP_STATE = Symbol('AppState');

/** For `mount`'s context option: main.ts hands the one AppState to the whole component tree. */
export function appStateContext(app: AppState): Map<symbol, AppState> {
  return new Map([[APP_STATE, app]]);
}

export function getAppState(): AppState {
  return getContext<AppState>(APP_STATE);
}
