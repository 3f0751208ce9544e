/**
 * The first schema.
 *
 * Conventions, for this and every later migration:
 * - STRICT tables; ids are TEXT (UUIDs, or the engine's run ids); timestamps are INTEGER
 *   milliseconds since the Unix epoch (UTC): they sort and compare as numbers and cost 8 bytes.
 * - JSON lives in TEXT columns guarded by `json_valid` (and `json_type` where the shape is known).
 * - Tables searched with FTS5 have `seq INTEGER PRIMARY KEY` besides their text id: an
 *   external-content FTS index addresses rows by rowid, and only an INTEGER PRIMARY KEY alias
 *   keeps its value through VACUUM.
 * - `deleted_at` marks a row in the trash; lists skip it, and partial indexes keep the trash
 *   out of the indexes the lists use.
 */
import type { Migration } from './migration.js';

const SCHEMA = /* sql */ `
CREATE TABLE models (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  path TEXT NOT NULL UNIQUE CHECK (length(path) BETWEEN 1 AND 4096),
  -- Hashing a multi-gigabyte file takes a while, so the hash may arrive after the row.
  sha256 TEXT CHECK (sha256 IS NULL OR (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')),
  name TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
  size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
  added_at INTEGER NOT NULL,
  last_used_at INTEGER
) STRICT;
CREATE INDEX models_by_last_used ON models (last_used_at DESC, added_at DESC);

CREATE TABLE prompts (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 200),
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- The newest version's body, kept by the prompt_versions_newest trigger, so the FTS index
  -- has one row per prompt (and never finds a wording the prompt no longer has).
  body TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
) STRICT;
CREATE INDEX prompts_by_updated ON prompts (updated_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX prompts_trashed ON prompts (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE prompt_versions (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  prompt_id TEXT NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
  version INTEGER NOT NULL CHECK (version >= 1),
  body TEXT NOT NULL,
  -- The {{variables}} of the body, in order of first appearance.
  variables TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(variables) AND json_type(variables) = 'array'),
  created_at INTEGER NOT NULL,
  UNIQUE (prompt_id, version)
) STRICT;

CREATE TRIGGER prompt_versions_newest AFTER INSERT ON prompt_versions
WHEN new.version = (SELECT max(version) FROM prompt_versions WHERE prompt_id = new.prompt_id)
BEGIN
  UPDATE prompts SET body = new.body WHERE id = new.prompt_id;
END;

CREATE TABLE prompt_tags (
  prompt_id TEXT NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
  -- NOCASE: "Work" and "work" are one tag.
  tag TEXT NOT NULL COLLATE NOCASE CHECK (length(tag) BETWEEN 1 AND 64 AND tag = trim(tag)),
  PRIMARY KEY (prompt_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX prompt_tags_by_tag ON prompt_tags (tag, prompt_id);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  title TEXT NOT NULL CHECK (length(title) <= 500),
  system_prompt TEXT NOT NULL DEFAULT '',
  model_id TEXT,
  model_path TEXT,
  sampling TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(sampling) AND json_type(sampling) = 'object'),
  pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  -- The leaf of the branch on screen. That it belongs to this conversation is checked by the
  -- code that sets it (a composite key would need SET NULL on the conversation id too).
  active_leaf_id TEXT REFERENCES messages (id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
) STRICT;
CREATE INDEX conversations_by_recent ON conversations (pinned DESC, updated_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX conversations_trashed ON conversations (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX conversations_by_active_leaf ON conversations (active_leaf_id) WHERE active_leaf_id IS NOT NULL;

-- Messages form a tree: an edit or a regeneration is a new sibling under the same parent, so
-- no text is ever overwritten. The composite foreign key keeps every parent in the same
-- conversation as its child.
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 200),
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  parent_id TEXT CHECK (parent_id IS NULL OR parent_id <> id),
  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  content TEXT NOT NULL,
  -- The model that wrote an assistant message (the engine's model id); NULL for people.
  model_id TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (conversation_id, id),
  FOREIGN KEY (conversation_id, parent_id) REFERENCES messages (conversation_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX messages_by_parent ON messages (conversation_id, parent_id, created_at);

CREATE TABLE documents (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
  text TEXT NOT NULL,
  chunking TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(chunking) AND json_type(chunking) = 'object'),
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
) STRICT;
CREATE INDEX documents_by_sha256 ON documents (sha256);
CREATE INDEX documents_by_created ON documents (created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX documents_trashed ON documents (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE runs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 200),
  kind TEXT NOT NULL CHECK (kind IN ('chat', 'completion', 'summarize', 'translate', 'compare', 'batch', 'perplexity', 'api')),
  -- The engine's model id and the file, kept as text: history outlives the model library.
  model_id TEXT,
  model_path TEXT,
  parameters TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(parameters) AND json_type(parameters) = 'object'),
  input TEXT NOT NULL DEFAULT '',
  output TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'cancelled', 'error', 'interrupted')),
  error TEXT CHECK (error IS NULL OR (json_valid(error) AND json_type(error) = 'object')),
  metrics TEXT CHECK (metrics IS NULL OR (json_valid(metrics) AND json_type(metrics) = 'object')),
  prompt_version_id TEXT REFERENCES prompt_versions (id) ON DELETE SET NULL,
  conversation_id TEXT REFERENCES conversations (id) ON DELETE SET NULL,
  message_id TEXT REFERENCES messages (id) ON DELETE SET NULL,
  document_id TEXT REFERENCES documents (id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  -- When text last arrived: an interrupted run ends there.
  updated_at INTEGER NOT NULL,
  finished_at INTEGER,
  deleted_at INTEGER,
  CHECK ((status = 'running') = (finished_at IS NULL)),
  CHECK ((status = 'error') = (error IS NOT NULL))
) STRICT;
CREATE INDEX runs_by_created ON runs (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX runs_by_kind ON runs (kind, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX runs_by_model ON runs (model_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
CREATE INDEX runs_trashed ON runs (deleted_at) WHERE deleted_at IS NOT NULL;
-- Foreign keys: without these, deleting a parent row would scan every run.
CREATE INDEX runs_by_prompt_version ON runs (prompt_version_id) WHERE prompt_version_id IS NOT NULL;
CREATE INDEX runs_by_conversation ON runs (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX runs_by_message ON runs (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX runs_by_document ON runs (document_id) WHERE document_id IS NOT NULL;

CREATE TABLE comparisons (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  title TEXT NOT NULL DEFAULT '',
  -- The input every column receives.
  input TEXT NOT NULL,
  -- One entry per column: model, sampling, and the run that filled it.
  columns TEXT NOT NULL CHECK (json_valid(columns) AND json_type(columns) = 'array' AND json_array_length(columns) BETWEEN 1 AND 16),
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX comparisons_by_created ON comparisons (created_at DESC);

CREATE TABLE comparison_votes (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  comparison_id TEXT NOT NULL REFERENCES comparisons (id) ON DELETE CASCADE,
  verdict TEXT NOT NULL CHECK (verdict IN ('column', 'tie', 'neither')),
  column_index INTEGER CHECK (column_index BETWEEN 0 AND 15),
  note TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  CHECK ((verdict = 'column') = (column_index IS NOT NULL))
) STRICT;
CREATE INDEX comparison_votes_by_comparison ON comparison_votes (comparison_id, created_at);

CREATE TABLE settings (
  key TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
  value TEXT NOT NULL CHECK (json_valid(value)),
  updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Full-text search: external-content FTS5 tables (the text is stored once, in its table) kept
-- in step by triggers. remove_diacritics 2: "cafe" finds "café".

CREATE VIRTUAL TABLE messages_fts USING fts5 (
  content, content = 'messages', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
  INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;

-- A run is indexed once it stops running. Its output grows by many small appends while it
-- runs; re-indexing the whole text on each append would make streaming cost quadratic.
CREATE VIRTUAL TABLE runs_fts USING fts5 (
  input, output, content = 'runs', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs WHEN new.status <> 'running' BEGIN
  INSERT INTO runs_fts (rowid, input, output) VALUES (new.seq, new.input, new.output);
END;
CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs WHEN old.status <> 'running' BEGIN
  INSERT INTO runs_fts (runs_fts, rowid, input, output) VALUES ('delete', old.seq, old.input, old.output);
END;
CREATE TRIGGER runs_fts_update AFTER UPDATE OF input, output, status ON runs BEGIN
  INSERT INTO runs_fts (runs_fts, rowid, input, output)
    SELECT 'delete', old.seq, old.input, old.output WHERE old.status <> 'running';
  INSERT INTO runs_fts (rowid, input, output)
    SELECT new.seq, new.input, new.output WHERE new.status <> 'running';
END;

CREATE VIRTUAL TABLE prompts_fts USING fts5 (
  name, body, content = 'prompts', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER prompts_fts_insert AFTER INSERT ON prompts BEGIN
  INSERT INTO prompts_fts (rowid, name, body) VALUES (new.seq, new.name, new.body);
END;
CREATE TRIGGER prompts_fts_delete AFTER DELETE ON prompts BEGIN
  INSERT INTO prompts_fts (prompts_fts, rowid, name, body) VALUES ('delete', old.seq, old.name, old.body);
END;
CREATE TRIGGER prompts_fts_update AFTER UPDATE OF name, body ON prompts BEGIN
  INSERT INTO prompts_fts (prompts_fts, rowid, name, body) VALUES ('delete', old.seq, old.name, old.body);
  INSERT INTO prompts_fts (rowid, name, body) VALUES (new.seq, new.name, new.body);
END;
`;

export const initial: Migration = {
  version: 10,
  name: 'initial',
  up(connection) {
    connection.exec(SCHEMA);
  },
};
