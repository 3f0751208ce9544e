/**
 * Applying the theme to the page. The setting itself lives in the core (`settings.update`);
 * localStorage only caches it so main.ts can paint the right colours before the first call returns.
 */
import { ThemeSchema, type Theme } from '../../../electron/common/contract.js';

const THEME_CACHE_KEY = 'emergent.theme';

/** The toggle's cycle: following the system first, then the two fixed choices. */
export const THEMES: readonly Theme[] = ['system', 'light', 'dark'];

const THEME_LABELS: Record<Theme, string> = { system: 'System', light: 'Light', dark: 'Dark' };

export function themeLabel(theme: Theme): string {
  return THEME_LABELS[theme];
}

export function nextTheme(theme: Theme): Theme {
  return THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length] ?? 'system';
}

export function cachedTheme(): Theme {
  try {
    const parsed = ThemeSchema.safeParse(localStorage.getItem(THEME_CACHE_KEY));
    return parsed.success ? parsed.data : 'system';
  } catch {
    // Storage can be disabled; the core's setting arrives a moment later anyway.
    return 'system';
  }
}

/**
 * Sets `data-theme` on <html>; app.css maps it to `color-scheme`, so `system` follows
 * prefers-color-scheme live without any script.
 */
export function applyTheme(theme: Theme): void {
  document.documentElement.dataset['theme'] = theme;
  try {
    localStorage.setItem(THEME_CACHE_KEY, theme);
  } catch {
    // As above: without the cache the page only starts in the system theme.
  }
}
