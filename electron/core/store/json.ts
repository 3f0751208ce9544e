/**
 * JSON columns. They are TEXT with a `json_valid` CHECK, so whatever comes back out of the
 * database parses; the casts below trust that constraint, not the caller.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function jsonText(value: JsonValue): string {
  return JSON.stringify(value);
}

export function parseJsonObject(text: string): JsonObject {
  return JSON.parse(text) as JsonObject;
}

export function parseJsonArray(text: string): JsonValue[] {
  return JSON.parse(text) as JsonValue[];
}

/** SQLite has no boolean: 0/1 INTEGER columns with a CHECK. */
export const sqlBoolean = (value: boolean): 0 | 1 => (value ? 1 : 0);
