/**
 * Presets: a named system prompt with generation settings (sampling, maxTokens, stop), to start
 * or reconfigure a conversation from. A conversation copies what it takes from a preset, so
 * changing or deleting the preset leaves conversations as they were.
 */
import { EmergentError } from '../../common/errors.js';
import type { StoreContext } from './context.js';
import { jsonText, parseJsonObject, type JsonObject } from './json.js';

export interface Preset {
  id: string;
  name: string;
  systemPrompt: string;
  /** GenerationSettings, as saved. */
  settings: JsonObject;
  createdAt: number;
  updatedAt: number;
}

export interface PresetInput {
  /** Replaces that preset; a new one is created when omitted. */
  id?: string;
  /** Unique ignoring case; surrounding spaces are dropped. */
  name: string;
  systemPrompt?: string;
  settings?: JsonObject;
}

interface PresetRow {
  id: string;
  name: string;
  system_prompt: string;
  settings: string;
  created_at: number;
  updated_at: number;
}

const MAX_NAME_CHARS = 200;

const COLUMNS = /* sql */ `id, name, system_prompt, settings, created_at, updated_at`;
// The name's NOCASE collation orders the list as people read it; the UNIQUE index serves it.
const LIST = /* sql */ `SELECT ${COLUMNS} FROM presets ORDER BY name, id`;
const SELECT = /* sql */ `SELECT ${COLUMNS} FROM presets WHERE id = @id`;
// Compares with the column's NOCASE collation, as the UNIQUE constraint does.
const NAME_TAKEN = /* sql */ `SELECT 1 AS taken FROM presets WHERE name = @name AND id <> @id`;
const INSERT = /* sql */ `
  INSERT INTO presets (id, name, system_prompt, settings, created_at, updated_at)
  VALUES (@id, @name, @systemPrompt, @settings, @now, @now)`;
const REPLACE = /* sql */ `
  UPDATE presets SET name = @name, system_prompt = @systemPrompt, settings = @settings, updated_at = @now WHERE id = @id`;
const DELETE = /* sql */ `DELETE FROM presets WHERE id = @id`;

export class PresetStore {
  constructor(private readonly context: StoreContext) {}

  /** Every preset, by name (ignoring case). */
  list(): Preset[] {
    return this.context.db.all<PresetRow>(LIST).map(toPreset);
  }

  get(id: string): Preset | null {
    const row = this.context.db.get<PresetRow>(SELECT, { id });
    return row === undefined ? null : toPreset(row);
  }

  /**
   * Creates a preset, or replaces every field of the one with `id` (its creation time stays).
   * NOT_FOUND for an unknown id; INVALID_INPUT for a name that is empty, too long, or taken.
   */
  save(preset: PresetInput): Preset {
    const name = preset.name.trim();
    if (name.length < 1 || name.length > MAX_NAME_CHARS) {
      throw new EmergentError('INVALID_INPUT', `A preset name has 1 to ${MAX_NAME_CHARS} characters.`);
    }
    return this.context.db.transaction(() => {
      if (preset.id !== undefined) this.require(preset.id);
      const id = preset.id ?? this.context.newId();
      if (this.context.db.get(NAME_TAKEN, { name, id }) !== undefined) {
        throw new EmergentError('INVALID_INPUT', `A preset named "${name}" already exists.`);
      }
      const params = {
        id,
        name,
        systemPrompt: preset.systemPrompt ?? '',
        settings: jsonText(preset.settings ?? {}),
        now: this.context.now(),
      };
      this.context.db.run(preset.id === undefined ? INSERT : REPLACE, params);
      return this.require(id);
    });
  }

  /** Deletes for good (conversations made from it keep their copy); false when there was none. */
  delete(id: string): boolean {
    return this.context.db.run(DELETE, { id }) === 1;
  }

  private require(id: string): Preset {
    const preset = this.get(id);
    if (preset === null) throw new EmergentError('NOT_FOUND', `There is no preset ${id}.`);
    return preset;
  }
}

export function toPreset(row: PresetRow): Preset {
  return {
    id: row.id,
    name: row.name,
    systemPrompt: row.system_prompt,
    settings: parseJsonObject(row.settings),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
