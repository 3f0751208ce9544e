/**
 * One case per migration: build the database at the version before it, put rows in, migrate,
 * and check the rows (and the constraints the migration promises). A new migration adds a case.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DATABASE_FILE, openDatabase } from '../../electron/core/store/database.js';
import { MIGRATIONS } from '../../electron/core/store/migrations/index.js';
import { tempDataDir } from './helpers.js';

interface MigrationCase {
  version: number;
  /** Rows at the previous version (raw SQL: the query modules speak only the newest schema). */
  seed(connection: Database.Database): void;
  verify(connection: Database.Database): void;
}

const T = Date.UTC(2025, 0, 1);

const CASES: MigrationCase[] = [
  {
    version: 10,
    seed() {
      // From an empty file: there is nothing before the first schema.
    },
    verify(db) {
      const names = (type: string) =>
        (db.prepare(`SELECT name FROM sqlite_schema WHERE type = ? ORDER BY name`).all(type) as { name: string }[]).map((row) => row.name);
      expect(names('table')).toEqual(expect.arrayContaining(['messages_fts', 'runs_fts', 'prompts_fts']));
      expect(names('trigger')).toEqual(expect.arrayContaining(['messages_fts_insert', 'messages_fts_delete', 'messages_fts_update', 'runs_fts_insert', 'runs_fts_delete', 'runs_fts_update', 'prompts_fts_insert', 'prompts_fts_delete', 'prompts_fts_update', 'prompt_versions_newest']));

      db.exec(`
        INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 'One', ${T}, ${T}), ('c2', 'Two', ${T}, ${T});
        INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at) VALUES ('m1', 'c1', NULL, 'user', 'hello there', ${T});
        INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at) VALUES ('m2', 'c1', 'm1', 'assistant', 'general kenobi', ${T});
        INSERT INTO prompts (id, name, created_at, updated_at) VALUES ('p1', 'Greeting', ${T}, ${T});
        INSERT INTO prompt_versions (id, prompt_id, version, body, created_at) VALUES ('v1', 'p1', 1, 'Say hello to {{name}}', ${T});
        INSERT INTO runs (id, kind, input, output, status, created_at, updated_at, finished_at, message_id, conversation_id)
          VALUES ('r1', 'chat', 'hello there', 'general kenobi', 'done', ${T}, ${T}, ${T}, 'm2', 'c1');
      `);
      // The newest version's body is copied onto the prompt, for search.
      expect(db.prepare(`SELECT body FROM prompts WHERE id = 'p1'`).get()).toEqual({ body: 'Say hello to {{name}}' });
      expect(db.prepare(`SELECT rowid FROM runs_fts WHERE runs_fts MATCH 'kenobi'`).all()).toHaveLength(1);

      const rejects = (sql: string) => expect(() => db.exec(sql), sql).toThrow(/constraint|cannot store/i);
      // A parent in another conversation.
      rejects(`INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at) VALUES ('m3', 'c2', 'm1', 'user', 'x', ${T})`);
      rejects(`INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at) VALUES ('m4', 'c1', NULL, 'robot', 'x', ${T})`);
      rejects(`INSERT INTO runs (id, kind, created_at, updated_at) VALUES ('r2', 'dance', ${T}, ${T})`);
      // Running with a finish time; an error status without an error.
      rejects(`INSERT INTO runs (id, kind, status, created_at, updated_at, finished_at) VALUES ('r3', 'chat', 'running', ${T}, ${T}, ${T})`);
      rejects(`INSERT INTO runs (id, kind, status, created_at, updated_at, finished_at) VALUES ('r4', 'chat', 'error', ${T}, ${T}, ${T})`);
      rejects(`INSERT INTO runs (id, kind, parameters, created_at, updated_at) VALUES ('r5', 'chat', 'not json', ${T}, ${T})`);
      rejects(`INSERT INTO runs (id, kind, created_at, updated_at) VALUES ('r6', 'chat', 'yesterday', ${T})`);
      rejects(`INSERT INTO models (id, path, sha256, name, size_bytes, added_at) VALUES ('m', '/a.gguf', 'XYZ', 'a', 1, ${T})`);
      rejects(`INSERT INTO comparison_votes (id, comparison_id, verdict, column_index, created_at) VALUES ('x', 'nope', 'tie', NULL, ${T})`);

      // Deleting a conversation takes its messages (and their index entries) and unlinks its runs.
      db.exec(`DELETE FROM conversations WHERE id = 'c1'`);
      expect(db.prepare(`SELECT count(*) AS n FROM messages`).get()).toEqual({ n: 0 });
      expect(db.prepare(`SELECT conversation_id, message_id FROM runs WHERE id = 'r1'`).get()).toEqual({ conversation_id: null, message_id: null });
      db.exec(`INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')`);
    },
  },
  {
    version: 20,
    seed(db) {
      db.exec(`
        INSERT INTO runs (id, kind, model_id, input, output, status, created_at, updated_at, finished_at)
          VALUES ('done-1', 'summarize', 'm-1', 'the quarterly report', 'revenue grew', 'done', ${T}, ${T}, ${T});
        INSERT INTO runs (id, kind, model_id, input, output, status, created_at, updated_at)
          VALUES ('live-1', 'chat', 'm-2', 'a question about revenue', 'partial', 'running', ${T}, ${T});
      `);
    },
    verify(db) {
      const match = (query: string) => (db.prepare(`SELECT r.id FROM runs_fts JOIN runs r ON r.seq = runs_fts.rowid WHERE runs_fts MATCH ? ORDER BY r.id`).all(query) as { id: string }[]).map((row) => row.id);
      // Catch-up as SearchIndex.indexPending does it: queued runs, then finished runs past the watermark.
      const catchUp = () =>
        db.exec(`
          INSERT INTO runs_fts (rowid, input, output, facets) SELECT seq, input, output, facets FROM runs WHERE seq IN (SELECT seq FROM runs_fts_pending);
          DELETE FROM runs_fts_pending;
          INSERT INTO runs_fts (rowid, input, output, facets) SELECT seq, input, output, facets FROM runs
            WHERE seq > (SELECT indexed_through FROM runs_fts_state) AND status <> 'running';
          UPDATE runs_fts_state SET indexed_through = (SELECT max(seq) FROM runs);
        `);
      // The watermark starts at 0: the finished run is to be indexed again (with its facets).
      expect(db.prepare(`SELECT indexed_through FROM runs_fts_state`).get()).toEqual({ indexed_through: 0 });
      expect(match('revenue')).toEqual([]);
      catchUp();
      expect(match('revenue')).toEqual(['done-1']);
      const hex = Buffer.from('m-1').toString('hex');
      expect(db.prepare(`SELECT facets FROM runs WHERE id = 'done-1'`).get()).toEqual({ facets: `ksummarize m${hex.toUpperCase()}` });
      expect(match(`revenue AND facets : "m${hex}"`)).toEqual(['done-1']);
      expect(match(`revenue AND facets : "kchat"`)).toEqual([]);

      // The live run was passed by the watermark: finishing it queues it.
      db.exec(`UPDATE runs SET status = 'done', finished_at = ${T} WHERE id = 'live-1'`);
      expect(db.prepare(`SELECT r.id FROM runs_fts_pending JOIN runs r USING (seq)`).all()).toEqual([{ id: 'live-1' }]);
      // Deleting an indexed run takes it out of the index; a queued one leaves the queue.
      db.exec(`DELETE FROM runs WHERE id = 'done-1'`);
      expect(match('revenue')).toEqual([]);
      catchUp();
      expect(match('revenue')).toEqual(['live-1']);
      // Rank 1: the index is compared with the runs table, where every finished run is indexed.
      db.exec(`INSERT INTO runs_fts (runs_fts, rank) VALUES ('integrity-check', 1)`);
      // The list indexes end at created_at (the rowid follows implicitly).
      expect(db.prepare(`SELECT name FROM pragma_index_info('runs_by_kind')`).all()).toEqual([{ name: 'kind' }, { name: 'created_at' }]);
    },
  },
  {
    version: 30,
    seed(db) {
      // Replies still streaming into their chat runs: two empty messages, one continuing a text,
      // and runs of other kinds, one of them linked to a message.
      db.exec(`
        INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 'Story', ${T}, ${T});
        INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at) VALUES ('q', 'c1', NULL, 'user', 'Tell a story', ${T});
        INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at) VALUES ('a-done', 'c1', 'q', 'assistant', '', ${T});
        INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at) VALUES ('a-cut', 'c1', 'q', 'assistant', '', ${T});
        INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at) VALUES ('a-continued', 'c1', 'q', 'assistant', 'Once upon', ${T});
        INSERT INTO runs (id, kind, output, status, conversation_id, message_id, created_at, updated_at) VALUES
          ('r-done', 'chat', 'The end.', 'running', 'c1', 'a-done', ${T}, ${T}),
          ('r-cut', 'chat', 'A dragon', 'running', 'c1', 'a-cut', ${T}, ${T + 5}),
          ('r-continued', 'chat', ' a time', 'running', 'c1', 'a-continued', ${T}, ${T + 7}),
          ('r-loose', 'completion', 'no message', 'running', NULL, NULL, ${T}, ${T}),
          ('r-translate', 'translate', 'Il était une fois', 'running', 'c1', 'a-continued', ${T - 1}, ${T});
      `);
    },
    verify(db) {
      const rejects = (sql: string) => expect(() => db.exec(sql), sql).toThrow(/constraint/i);
      const content = (id: string) => (db.prepare(`SELECT content FROM messages WHERE id = ?`).get(id) as { content: string }).content;

      // Existing conversations shift; the column takes only the two choices.
      expect(db.prepare(`SELECT context_overflow FROM conversations WHERE id = 'c1'`).get()).toEqual({ context_overflow: 'shift' });
      db.exec(`INSERT INTO conversations (id, title, context_overflow, created_at, updated_at) VALUES ('c2', 'Strict', 'stop', ${T}, ${T})`);
      rejects(`INSERT INTO conversations (id, title, context_overflow, created_at, updated_at) VALUES ('c3', 'x', 'wrap', ${T}, ${T})`);
      rejects(`UPDATE conversations SET context_overflow = NULL WHERE id = 'c1'`);

      // Presets: names unique ignoring case, 1..200 characters, no surrounding spaces; settings an object.
      db.exec(`INSERT INTO presets (id, name, settings, created_at, updated_at) VALUES ('p1', 'Terse', '{"temperature":0}', ${T}, ${T})`);
      expect(db.prepare(`SELECT system_prompt, settings FROM presets WHERE id = 'p1'`).get()).toEqual({ system_prompt: '', settings: '{"temperature":0}' });
      rejects(`INSERT INTO presets (id, name, created_at, updated_at) VALUES ('p2', 'TERSE', ${T}, ${T})`);
      rejects(`INSERT INTO presets (id, name, created_at, updated_at) VALUES ('p3', '', ${T}, ${T})`);
      rejects(`INSERT INTO presets (id, name, created_at, updated_at) VALUES ('p4', ' Padded', ${T}, ${T})`);
      rejects(`INSERT INTO presets (id, name, created_at, updated_at) VALUES ('p5', '${'n'.repeat(201)}', ${T}, ${T})`);
      rejects(`INSERT INTO presets (id, name, settings, created_at, updated_at) VALUES ('p6', 'List', '[1]', ${T}, ${T})`);
      rejects(`INSERT INTO presets (id, name, settings, created_at, updated_at) VALUES ('p7', 'Broken', '{', ${T}, ${T})`);
      expect(db.prepare(`SELECT id FROM presets`).all()).toEqual([{ id: 'p1' }]);

      // Text arriving while a run runs stays in the run.
      db.exec(`UPDATE runs SET output = output || ' Really.' WHERE id = 'r-done'`);
      expect(content('a-done')).toBe('');
      // Finishing moves the text into the message, once.
      db.exec(`UPDATE runs SET status = 'done', finished_at = ${T + 9} WHERE id = 'r-done'`);
      expect(content('a-done')).toBe('The end. Really.');
      db.exec(`UPDATE runs SET metrics = '{}' WHERE id = 'r-done'`);
      db.exec(`UPDATE runs SET status = 'cancelled' WHERE id = 'r-done'`);
      expect(content('a-done')).toBe('The end. Really.');

      // The start-up sweep (RunStore.markInterrupted) fills the rest; a continued reply keeps its start.
      db.exec(`UPDATE runs SET status = 'interrupted', finished_at = updated_at WHERE status = 'running'`);
      expect(content('a-cut')).toBe('A dragon');
      expect(content('a-continued')).toBe('Once upon a time');
      expect(content('q')).toBe('Tell a story');
      expect(db.prepare(`SELECT status, finished_at FROM runs WHERE id = 'r-loose'`).get()).toEqual({ status: 'interrupted', finished_at: T });
      // A translation linked to the message did not write it: its text stays its own.
      expect(db.prepare(`SELECT status FROM runs WHERE id = 'r-translate'`).get()).toEqual({ status: 'interrupted' });
      expect(content('a-continued')).not.toContain('Il était');

      // The filled text is searchable, and the message index still matches its table.
      const found = (query: string) => (db.prepare(`SELECT m.id FROM messages_fts f JOIN messages m ON m.seq = f.rowid WHERE messages_fts MATCH ? ORDER BY m.id`).all(query) as { id: string }[]).map((row) => row.id);
      expect(found('dragon')).toEqual(['a-cut']);
      expect(found('time')).toEqual(['a-continued']);
      db.exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`);
    },
  },
];

describe('each migration keeps the rows of the version before it', () => {
  it('has a case for every migration', () => {
    expect(CASES.map((migrationCase) => migrationCase.version)).toEqual(MIGRATIONS.map((migration) => migration.version));
  });

  for (const migrationCase of CASES) {
    it(`migration ${migrationCase.version}`, async () => {
      const dataDir = tempDataDir();
      const before = MIGRATIONS.filter((migration) => migration.version < migrationCase.version);
      if (before.length > 0) (await openDatabase(dataDir, { migrations: before })).database.close();
      const file = path.join(dataDir, DATABASE_FILE);
      if (before.length > 0) {
        const previous = new Database(file);
        migrationCase.seed(previous);
        previous.close();
      }

      const opened = await openDatabase(dataDir, { migrations: MIGRATIONS.filter((migration) => migration.version <= migrationCase.version) });
      expect(opened.toVersion).toBe(migrationCase.version);
      opened.database.close();

      const migrated = new Database(file);
      migrated.pragma('foreign_keys = ON');
      try {
        migrationCase.verify(migrated);
        expect(migrated.pragma('foreign_key_check')).toEqual([]);
        expect(migrated.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        migrated.close();
      }
    });
  }
});
