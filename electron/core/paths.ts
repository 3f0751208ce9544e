import os from 'node:os';
import path from 'node:path';

export const APP_NAME = 'Emergent';

/**
 * Where Emergent keeps its data: EMERGENT_DATA_DIR when set, otherwise the folder Electron's
 * `app.getPath('userData')` gives, so the desktop app and the headless shell share one store.
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  const override = env['EMERGENT_DATA_DIR'];
  if (override !== undefined && override.trim() !== '') return path.resolve(override);
  switch (platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', APP_NAME);
    case 'win32':
      return path.join(env['APPDATA'] ?? path.join(home, 'AppData', 'Roaming'), APP_NAME);
    default:
      return path.join(env['XDG_CONFIG_HOME'] ?? path.join(home, '.config'), APP_NAME);
  }
}
