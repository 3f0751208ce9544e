import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir } from '../../electron/core/paths.js';
import { DEFAULT_SETTINGS, SettingsFile } from '../../electron/core/settings.js';
import { tempDir } from '../helpers/service.js';

describe('defaultDataDir', () => {
  it('is where Electron puts userData on each platform', () => {
    expect(defaultDataDir({}, 'linux', '/home/ada')).toBe('/home/ada/.config/Emergent');
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/cfg' }, 'linux', '/home/ada')).toBe('/cfg/Emergent');
    expect(defaultDataDir({}, 'darwin', '/Users/ada')).toBe('/Users/ada/Library/Application Support/Emergent');
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ada')).toBe(
      path.join('C:\\Users\\ada\\AppData\\Roaming', 'Emergent'),
    );
  });

  it('honours EMERGENT_DATA_DIR, made absolute', () => {
    expect(defaultDataDir({ EMERGENT_DATA_DIR: '/data/emergent' }, 'linux', '/home/ada')).toBe('/data/emergent');
    expect(defaultDataDir({ EMERGENT_DATA_DIR: 'rel' }, 'linux', '/home/ada')).toBe(path.resolve('rel'));
    expect(defaultDataDir({ EMERGENT_DATA_DIR: '  ' }, 'linux', '/home/ada')).toBe('/home/ada/.config/Emergent');
  });
});

describe('SettingsFile', () => {
  it('persists updates across instances', () => {
    const file = path.join(tempDir(), 'settings.json');
    new SettingsFile(file).update({ theme: 'dark' });
    expect(new SettingsFile(file).get()).toEqual({ theme: 'dark', threads: null });
  });

  it('keeps an unreadable file aside instead of overwriting it', () => {
    const dir = tempDir();
    const file = path.join(dir, 'settings.json');
    fs.writeFileSync(file, '{"theme": "dark"');
    const settings = new SettingsFile(file);
    expect(settings.get()).toEqual(DEFAULT_SETTINGS);
    const aside = fs.readdirSync(dir).find((name) => name.startsWith('settings.json.unreadable-'));
    expect(aside).toBeDefined();
    expect(fs.readFileSync(path.join(dir, aside ?? ''), 'utf8')).toBe('{"theme": "dark"');
  });

  it('ignores unknown keys and keeps known ones', () => {
    const file = path.join(tempDir(), 'settings.json');
    fs.writeFileSync(file, JSON.stringify({ theme: 'light', fromTheFuture: 1 }));
    expect(new SettingsFile(file).get()).toEqual({ theme: 'light', threads: null });
  });
});
