/** Documents a person summarized or translated: their extracted text and how it was chunked. */
import type { StoreContext } from './context.js';
import { jsonText, parseJsonObject, type JsonObject } from './json.js';

export interface StoredDocument {
  id: string;
  name: string;
  /** Of the original file, to recognize it when it is opened again. */
  sha256: string;
  text: string;
  chunking: JsonObject;
  createdAt: number;
  deletedAt: number | null;
}

export interface NewDocument {
  id?: string;
  name: string;
  sha256: string;
  text: string;
  chunking?: JsonObject;
}

/** A document in a list, without its text. */
export type DocumentSummary = Omit<StoredDocument, 'text'> & { textLength: number };

interface DocumentRow {
  id: string;
  name: string;
  sha256: string;
  text: string;
  chunking: string;
  created_at: number;
  deleted_at: number | null;
}

interface DocumentSummaryRow extends Omit<DocumentRow, 'text'> {
  text_length: number;
}

const INSERT = /* sql */ `
  INSERT INTO documents (id, name, sha256, text, chunking, created_at) VALUES (@id, @name, @sha256, @text, @chunking, @now)`;
const SELECT = /* sql */ `SELECT id, name, sha256, text, chunking, created_at, deleted_at FROM documents WHERE id = @id`;
const BY_HASH = /* sql */ `
  SELECT id, name, sha256, text, chunking, created_at, deleted_at FROM documents
  WHERE sha256 = @sha256 AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 1`;
const LIST = /* sql */ `
  SELECT id, name, sha256, chunking, created_at, deleted_at, length(text) AS text_length
  FROM documents WHERE deleted_at IS NULL ORDER BY created_at DESC, id`;

export class DocumentStore {
  constructor(private readonly context: StoreContext) {}

  add(document: NewDocument): StoredDocument {
    const id = document.id ?? this.context.newId();
    this.context.db.run(INSERT, { id, name: document.name, sha256: document.sha256, text: document.text, chunking: jsonText(document.chunking ?? {}), now: this.context.now() });
    const row = this.context.db.get<DocumentRow>(SELECT, { id });
    if (row === undefined) throw new Error(`Document ${id} vanished right after it was added.`);
    return toStoredDocument(row);
  }

  get(id: string): StoredDocument | null {
    const row = this.context.db.get<DocumentRow>(SELECT, { id });
    return row === undefined ? null : toStoredDocument(row);
  }

  /** The newest document (outside the trash) made from a file with this hash. */
  findByHash(sha256: string): StoredDocument | null {
    const row = this.context.db.get<DocumentRow>(BY_HASH, { sha256 });
    return row === undefined ? null : toStoredDocument(row);
  }

  list(): DocumentSummary[] {
    return this.context.db.all<DocumentSummaryRow>(LIST).map((row) => ({
      id: row.id,
      name: row.name,
      sha256: row.sha256,
      chunking: parseJsonObject(row.chunking),
      createdAt: row.created_at,
      deletedAt: row.deleted_at,
      textLength: row.text_length,
    }));
  }
}

export function toStoredDocument(row: DocumentRow): StoredDocument {
  return {
    id: row.id,
    name: row.name,
    sha256: row.sha256,
    text: row.text,
    chunking: parseJsonObject(row.chunking),
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
  };
}
