/**
 * Runs, made cheap to write and to filter.
 *
 * 1. Search indexing leaves the write path. Tokenizing a run's text for FTS5 costs about 45 µs
 *    per chat-sized run on a 2-core laptop: an import of 100,000 runs spent three quarters of
 *    its time there. The index now catches up behind the writes, in slices: before each
 *    search (a bounded number of runs) and in the background (SearchIndex.indexPending).
 *    What is indexed is exact, and costs nothing per inserted row:
 *      a run is in runs_fts  ⇔  it is finished, seq <= runs_fts_state.indexed_through,
 *                                and it is not in runs_fts_pending.
 *    The indexer moves the watermark over finished runs in seq order; a run still generating
 *    when the watermark passes it is queued in runs_fts_pending when it finishes.
 * 2. Filters move into the index. `facets` is a generated column of tokens (`k<kind>`,
 *    `m<hex of model id>`) indexed beside the text, so "runs of model X with word Y" is an
 *    intersection inside FTS5 instead of a join that reads every matching run.
 * 3. The list indexes end at created_at: every index already ends with the rowid (seq), which
 *    breaks ties as well as the 36-character id did, at a fraction of the size. Inserting
 *    100,000 runs spends a third less time in them.
 *
 * The watermark starts at 0, so finished runs indexed under 0010 are indexed again (with
 * their facets) by the same catch-up, and opening a large database stays fast.
 */
import type { Migration } from './migration.js';

const SCHEMA = /* sql */ `
DROP TRIGGER runs_fts_insert;
DROP TRIGGER runs_fts_delete;
DROP TRIGGER runs_fts_update;
DROP TABLE runs_fts;

ALTER TABLE runs ADD COLUMN facets TEXT GENERATED ALWAYS AS ('k' || kind || ' m' || hex(coalesce(model_id, ''))) VIRTUAL;

CREATE VIRTUAL TABLE runs_fts USING fts5 (
  input, output, facets, content = 'runs', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE runs_fts_state (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  indexed_through INTEGER NOT NULL CHECK (indexed_through >= 0)
) STRICT;
INSERT INTO runs_fts_state (only_row, indexed_through) VALUES (1, 0);

-- Runs behind the watermark that finished after it passed them.
CREATE TABLE runs_fts_pending (seq INTEGER PRIMARY KEY) STRICT;

CREATE TRIGGER runs_fts_queue_finish AFTER UPDATE OF status ON runs
WHEN old.status = 'running' AND new.status <> 'running'
  AND new.seq <= (SELECT indexed_through FROM runs_fts_state) BEGIN
  INSERT OR IGNORE INTO runs_fts_pending (seq) VALUES (new.seq);
END;

-- The app never edits a finished run's text; an import or a repair might. An indexed run
-- leaves the index with the values it was indexed with and is queued again.
CREATE TRIGGER runs_fts_reindex AFTER UPDATE OF input, output, kind, model_id ON runs
WHEN old.status <> 'running' AND new.status <> 'running'
  AND old.seq <= (SELECT indexed_through FROM runs_fts_state)
  AND NOT EXISTS (SELECT 1 FROM runs_fts_pending WHERE seq = old.seq) BEGIN
  INSERT INTO runs_fts (runs_fts, rowid, input, output, facets) VALUES ('delete', old.seq, old.input, old.output, old.facets);
  INSERT INTO runs_fts_pending (seq) VALUES (new.seq);
END;

CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs
WHEN old.status <> 'running' AND old.seq <= (SELECT indexed_through FROM runs_fts_state) BEGIN
  INSERT INTO runs_fts (runs_fts, rowid, input, output, facets)
    SELECT 'delete', old.seq, old.input, old.output, old.facets
    WHERE NOT EXISTS (SELECT 1 FROM runs_fts_pending WHERE seq = old.seq);
  DELETE FROM runs_fts_pending WHERE seq = old.seq;
END;

DROP INDEX runs_by_created;
DROP INDEX runs_by_kind;
DROP INDEX runs_by_model;
CREATE INDEX runs_by_created ON runs (created_at) WHERE deleted_at IS NULL;
CREATE INDEX runs_by_kind ON runs (kind, created_at) WHERE deleted_at IS NULL;
CREATE INDEX runs_by_model ON runs (model_id, created_at) WHERE deleted_at IS NULL;
`;

export const runsSearchQueue: Migration = {
  version: 20,
  name: 'runs-search-queue',
  up(connection) {
    connection.exec(SCHEMA);
  },
};
