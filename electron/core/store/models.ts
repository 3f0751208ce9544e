/** The model library: GGUF files Emergent knows about, most recently used first. */
import { EmergentError } from '../../common/errors.js';
import type { StoreContext } from './context.js';
import { jsonText, parseJsonObject, type JsonObject } from './json.js';

export interface LibraryModel {
  /** The engine's model id for this file. */
  id: string;
  path: string;
  /** null until the file has been hashed (it can take a while for large files). */
  sha256: string | null;
  name: string;
  metadata: JsonObject;
  sizeBytes: number;
  addedAt: number;
  lastUsedAt: number | null;
}

export interface NewLibraryModel {
  id: string;
  path: string;
  sha256?: string | null;
  name: string;
  metadata?: JsonObject;
  sizeBytes: number;
}

interface ModelRow {
  id: string;
  path: string;
  sha256: string | null;
  name: string;
  metadata: string;
  size_bytes: number;
  added_at: number;
  last_used_at: number | null;
}

const COLUMNS = /* sql */ `id, path, sha256, name, metadata, size_bytes, added_at, last_used_at`;
// Adding a file again refreshes what is known about it and keeps when it was added and used.
const UPSERT = /* sql */ `
  INSERT INTO models (id, path, sha256, name, metadata, size_bytes, added_at)
  VALUES (@id, @path, @sha256, @name, @metadata, @sizeBytes, @now)
  ON CONFLICT (id) DO UPDATE SET path = excluded.path, sha256 = coalesce(excluded.sha256, sha256), name = excluded.name,
    metadata = excluded.metadata, size_bytes = excluded.size_bytes`;
const SELECT = /* sql */ `SELECT ${COLUMNS} FROM models WHERE id = @id`;
const LIST = /* sql */ `SELECT ${COLUMNS} FROM models ORDER BY last_used_at DESC NULLS LAST, added_at DESC, id`;
const MARK_USED = /* sql */ `UPDATE models SET last_used_at = @now WHERE id = @id`;
const REMOVE = /* sql */ `DELETE FROM models WHERE id = @id`;

export class ModelLibrary {
  constructor(private readonly context: StoreContext) {}

  add(model: NewLibraryModel): LibraryModel {
    this.context.db.run(UPSERT, {
      id: model.id,
      path: model.path,
      sha256: model.sha256 ?? null,
      name: model.name,
      metadata: jsonText(model.metadata ?? {}),
      sizeBytes: model.sizeBytes,
      now: this.context.now(),
    });
    return this.require(model.id);
  }

  get(id: string): LibraryModel | null {
    const row = this.context.db.get<ModelRow>(SELECT, { id });
    return row === undefined ? null : toLibraryModel(row);
  }

  list(): LibraryModel[] {
    return this.context.db.all<ModelRow>(LIST).map(toLibraryModel);
  }

  markUsed(id: string): void {
    if (this.context.db.run(MARK_USED, { id, now: this.context.now() }) === 0) throw notFound(id);
  }

  /** Forgets a model (the file stays on disk); runs on it keep its id and path. */
  remove(id: string): boolean {
    return this.context.db.run(REMOVE, { id }) === 1;
  }

  private require(id: string): LibraryModel {
    const model = this.get(id);
    if (model === null) throw notFound(id);
    return model;
  }
}

function notFound(id: string): EmergentError {
  return new EmergentError('NOT_FOUND', `There is no model ${id} in the library.`);
}

export function toLibraryModel(row: ModelRow): LibraryModel {
  return {
    id: row.id,
    path: row.path,
    sha256: row.sha256,
    name: row.name,
    metadata: parseJsonObject(row.metadata),
    sizeBytes: row.size_bytes,
    addedAt: row.added_at,
    lastUsedAt: row.last_used_at,
  };
}
