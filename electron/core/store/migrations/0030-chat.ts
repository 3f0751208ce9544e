/**
 * The chat panel: what a conversation does when it outgrows the context, presets, and replies
 * that stream into their run.
 *
 * 1. `conversations.context_overflow`: `shift` drops the oldest turns (never the system prompt)
 *    before sending; `stop` refuses with a full context. Existing conversations shift, as chat
 *    did before the choice existed.
 * 2. `presets`: a named system prompt with generation settings, to start or reconfigure a
 *    conversation from. Names are unique ignoring case ("Terse" and "terse" would be one name
 *    in a menu) and have no surrounding spaces.
 * 3. A reply streams into its chat run, not its message. The run's output grows by batched
 *    appends (each one write, so a crash loses at most the last batch); rewriting the message
 *    too would double every write and re-index its whole text on each batch (messages_fts
 *    re-indexes on every content change). When the run ends — done, cancelled, error, or
 *    interrupted at the next start — the runs_fill_message trigger moves its text into the
 *    message in the same transaction as the status change, so no path that ends a run can
 *    forget it, and no reader sees a finished run whose message lacks its text. The text is
 *    appended, not assigned: a "continued" reply is a new message that starts with the text it
 *    continues, and its run writes only what comes after. While the run is running, readers
 *    show `messages.content || runs.output` (ConversationStore's path query).
 */
import type { Migration } from './migration.js';

const SCHEMA = /* sql */ `
ALTER TABLE conversations ADD COLUMN context_overflow TEXT NOT NULL DEFAULT 'shift' CHECK (context_overflow IN ('shift', 'stop'));

CREATE TABLE presets (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 200 AND name = trim(name)),
  system_prompt TEXT NOT NULL DEFAULT '',
  -- GenerationSettings: sampling, maxTokens, stop.
  settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings) AND json_type(settings) = 'object'),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- Only a chat run writes the message it names: another kind linked to a message (a translation
-- or a summary of it) has its own output and leaves the message alone.
CREATE TRIGGER runs_fill_message AFTER UPDATE OF status ON runs
WHEN old.status = 'running' AND new.status <> 'running' AND new.message_id IS NOT NULL AND new.kind = 'chat' BEGIN
  UPDATE messages SET content = content || new.output WHERE id = new.message_id;
END;
`;

export const chat: Migration = {
  version: 30,
  name: 'chat',
  up(connection) {
    connection.exec(SCHEMA);
  },
};
