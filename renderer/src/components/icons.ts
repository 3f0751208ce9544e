/**
 * Outline icons on a 24x24 grid, one path each, drawn with `currentColor` by Icon.svelte.
 * Inline SVG rather than an icon font: nothing to load, and the strict CSP stays untouched.
 */
export const ICONS = {
  chat: 'M5 5h14a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1h-9l-4 3.5V16H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z',
  summarize: 'M4 6h16M4 10h16M4 14h10M4 18h6',
  translate: 'M3 5h10M8 3v2M5 5c.8 3.5 3 6 6.5 7.5M11 5c-.9 4-3.4 7.2-7 9M12.5 21l4-9 4 9M14 17.5h5',
  compare: 'M4 4h6v16H4zM14 4h6v16h-6zM6.5 8h1M16.5 8h1',
  models:
    'M7 7h10v10H7zM10 10h4v4h-4zM9 3v4M15 3v4M9 17v4M15 17v4M3 9h4M3 15h4M17 9h4M17 15h4',
  library: 'M4 4h4v16H4zM10 4h4v16h-4zM15.8 5.2l3.4-.9 3.3 14.6-3.4.9z',
  settings:
    'M4 6h8M16 6h4M12 6a2 2 0 1 0 4 0a2 2 0 1 0-4 0M4 12h2M10 12h10M6 12a2 2 0 1 0 4 0a2 2 0 1 0-4 0M4 18h11M19 18h1M15 18a2 2 0 1 0 4 0a2 2 0 1 0-4 0',
  system: 'M4 5h16v11H4zM9 20h6M12 16v4',
  light:
    'M8 12a4 4 0 1 0 8 0a4 4 0 1 0-8 0M12 2.5v2M12 19.5v2M2.5 12h2M19.5 12h2M5.3 5.3l1.4 1.4M17.3 17.3l1.4 1.4M5.3 18.7l1.4-1.4M17.3 6.7l1.4-1.4',
  dark: 'M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z',
  warning: 'M12 4l9 16H3zM12 10v4M12 17v.01',
  close: 'M6 6l12 12M18 6L6 18',
  plus: 'M12 5v14M5 12h14',
  search: 'M10.5 4a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13M15.5 15.5L20 20',
  pin: 'M9 4h6M10 4v5l-3 4h10l-3-4V4M12 13v7',
  pencil: 'M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4',
  trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6',
  copy: 'M9 9h11v11H9zM5 15H4V4h11v1',
  check: 'M5 12l5 5L20 7',
  regenerate: 'M20 11a8 8 0 1 0-2.3 5.7M20 5v6h-6',
  continue: 'M5 12h12M13 6l6 6-6 6',
  info: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 11v5M12 8v.01',
  'chevron-left': 'M15 5l-7 7 7 7',
  'chevron-right': 'M9 5l7 7-7 7',
  'chevron-down': 'M6 9l6 6 6-6',
  stop: 'M7 7h10v10H7z',
  send: 'M12 19V5M6 11l6-6 6 6',
  download: 'M12 4v11M7 10l5 5 5-5M5 20h14',
  print: 'M7 9V4h10v5M7 17H4v-8h16v8h-3M7 14h10v6H7z',
  sliders: 'M4 6h8M16 6h4M12 6a2 2 0 1 0 4 0a2 2 0 1 0-4 0M4 12h2M10 12h10M6 12a2 2 0 1 0 4 0a2 2 0 1 0-4 0M4 18h11M19 18h1M15 18a2 2 0 1 0 4 0a2 2 0 1 0-4 0',
} as const;

export type IconName = keyof typeof ICONS;
