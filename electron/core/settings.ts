import fs from 'node:fs';
import path from 'node:path';
import { SettingsSchema, type Settings } from '../common/contract.js';
import { withoutUndefined } from '../common/objects.js';

export const DEFAULT_SETTINGS: Settings = { theme: 'system', threads: null };

/**
 * Settings as one small JSON file in the data dir, written atomically (temp file + rename) so a
 * crash mid-write leaves the previous version. A file that cannot be read is moved aside, not
 * overwritten, and the defaults are used.
 */
export class SettingsFile {
  private current: Settings;

  constructor(private readonly file: string) {
    this.current = this.read();
  }

  get(): Settings {
    return { ...this.current };
  }

  update(patch: Partial<Settings>): Settings {
    const next = SettingsSchema.parse({ ...this.current, ...patch });
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, `${JSON.stringify(next, null, 2)}\n`);
    fs.renameSync(temp, this.file);
    this.current = next;
    return this.get();
  }

  private read(): Settings {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return { ...DEFAULT_SETTINGS };
    }
    try {
      const parsed = SettingsSchema.partial().safeParse(JSON.parse(text));
      if (parsed.success) return { ...DEFAULT_SETTINGS, ...withoutUndefined(parsed.data) };
    } catch {
      // fall through: not JSON
    }
    const aside = `${this.file}.unreadable-${Date.now()}`;
    fs.renameSync(this.file, aside);
    process.emitWarning(`Settings file could not be read; kept it as ${aside} and used the defaults.`);
    return { ...DEFAULT_SETTINGS };
  }
}

