/** Small preferences as key -> JSON value (window layout, last used options ...). */
import type { StoreContext } from './context.js';
import { jsonText, type JsonValue } from './json.js';

const GET = /* sql */ `SELECT value FROM settings WHERE key = @key`;
const ALL = /* sql */ `SELECT key, value FROM settings ORDER BY key`;
const SET = /* sql */ `
  INSERT INTO settings (key, value, updated_at) VALUES (@key, @value, @now)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;
const DELETE = /* sql */ `DELETE FROM settings WHERE key = @key`;

export class SettingsStore {
  constructor(private readonly context: StoreContext) {}

  get(key: string): JsonValue | undefined {
    const row = this.context.db.get<{ value: string }>(GET, { key });
    return row === undefined ? undefined : (JSON.parse(row.value) as JsonValue);
  }

  set(key: string, value: JsonValue): void {
    this.context.db.run(SET, { key, value: jsonText(value), now: this.context.now() });
  }

  delete(key: string): boolean {
    return this.context.db.run(DELETE, { key }) === 1;
  }

  all(): Record<string, JsonValue> {
    const rows = this.context.db.all<{ key: string; value: string }>(ALL);
    return Object.fromEntries(rows.map((row) => [row.key, JSON.parse(row.value) as JsonValue]));
  }
}
