/**
 * The prompt library: named prompts whose wording is versioned (a run records the exact
 * version it used), with `{{variables}}` to fill in and tags to find them by.
 */
import { EmergentError } from '../../common/errors.js';
import type { StoreContext } from './context.js';
import { jsonText, parseJsonArray } from './json.js';

export interface PromptVersion {
  id: string;
  promptId: string;
  version: number;
  body: string;
  variables: string[];
  createdAt: number;
}

export interface Prompt {
  id: string;
  name: string;
  /** The newest version's wording and variables. */
  body: string;
  version: number;
  variables: string[];
  tags: string[];
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export interface PromptWithVersions extends Prompt {
  /** Oldest first. */
  versions: PromptVersion[];
}

export interface NewPrompt {
  id?: string;
  name: string;
  body: string;
  tags?: string[];
}

interface PromptRow {
  id: string;
  name: string;
  body: string;
  version: number;
  variables: string;
  tags: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

interface PromptVersionRow {
  id: string;
  prompt_id: string;
  version: number;
  body: string;
  variables: string;
  created_at: number;
}

const INSERT_PROMPT = /* sql */ `
  INSERT INTO prompts (id, name, created_at, updated_at) VALUES (@id, @name, @now, @now)`;
// The version number is the next one for this prompt, decided inside the same write.
const INSERT_VERSION = /* sql */ `
  INSERT INTO prompt_versions (id, prompt_id, version, body, variables, created_at)
  VALUES (@id, @promptId, (SELECT coalesce(max(version), 0) + 1 FROM prompt_versions WHERE prompt_id = @promptId), @body, @variables, @now)`;
const TOUCH = /* sql */ `UPDATE prompts SET updated_at = @now WHERE id = @id`;
const RENAME = /* sql */ `UPDATE prompts SET name = @name, updated_at = @now WHERE id = @id`;
const ADD_TAG = /* sql */ `INSERT INTO prompt_tags (prompt_id, tag) VALUES (@promptId, @tag) ON CONFLICT DO NOTHING`;
const REMOVE_TAG = /* sql */ `DELETE FROM prompt_tags WHERE prompt_id = @promptId AND tag = @tag`;

const PROMPT_COLUMNS = /* sql */ `
  p.id, p.name, p.body, p.created_at, p.updated_at, p.deleted_at,
  v.version, v.variables,
  (SELECT json_group_array(tag) FROM (SELECT tag FROM prompt_tags t WHERE t.prompt_id = p.id ORDER BY tag)) AS tags`;
const NEWEST_VERSION = /* sql */ `
  JOIN prompt_versions v ON v.prompt_id = p.id AND v.version = (SELECT max(version) FROM prompt_versions WHERE prompt_id = p.id)`;
const SELECT_PROMPT = /* sql */ `SELECT ${PROMPT_COLUMNS} FROM prompts p ${NEWEST_VERSION} WHERE p.id = @id`;
const LIST = /* sql */ `
  SELECT ${PROMPT_COLUMNS} FROM prompts p ${NEWEST_VERSION} WHERE p.deleted_at IS NULL ORDER BY p.updated_at DESC, p.id`;
const LIST_TAGGED = /* sql */ `
  SELECT ${PROMPT_COLUMNS} FROM prompts p ${NEWEST_VERSION}
  WHERE p.deleted_at IS NULL AND EXISTS (SELECT 1 FROM prompt_tags t WHERE t.prompt_id = p.id AND t.tag = @tag)
  ORDER BY p.updated_at DESC, p.id`;
const VERSIONS = /* sql */ `
  SELECT id, prompt_id, version, body, variables, created_at FROM prompt_versions WHERE prompt_id = @promptId ORDER BY version`;
const SELECT_VERSION = /* sql */ `
  SELECT id, prompt_id, version, body, variables, created_at FROM prompt_versions WHERE id = @id`;

/** `{{ name }}`: letters, digits, `_`, `.` and `-`, starting with a letter or `_`. */
const VARIABLE = /\{\{\s*([\p{L}_][\p{L}\p{N}_.-]*)\s*\}\}/gu;

/** The distinct variables of a prompt body, in order of first appearance. */
export function extractVariables(body: string): string[] {
  return [...new Set(Array.from(body.matchAll(VARIABLE), (match) => match[1] ?? ''))];
}

export function normalizeTag(tag: string): string {
  const normalized = tag.trim().replace(/\s+/gu, ' ');
  if (normalized.length < 1 || normalized.length > 64) throw new EmergentError('INVALID_INPUT', 'A tag has 1 to 64 characters.');
  return normalized;
}

export class PromptStore {
  constructor(private readonly context: StoreContext) {}

  /** A new prompt with its first version. */
  create(prompt: NewPrompt): Prompt {
    const id = prompt.id ?? this.context.newId();
    const tags = (prompt.tags ?? []).map(normalizeTag);
    this.context.db.transaction(() => {
      this.context.db.run(INSERT_PROMPT, { id, name: prompt.name, now: this.context.now() });
      this.insertVersion(id, prompt.body);
      for (const tag of tags) this.context.db.run(ADD_TAG, { promptId: id, tag });
    });
    return this.require(id);
  }

  /** A new wording; earlier versions stay, so runs that used them still say what they ran. */
  addVersion(promptId: string, body: string): PromptVersion {
    return this.context.db.transaction(() => {
      this.require(promptId);
      const id = this.insertVersion(promptId, body);
      this.context.db.run(TOUCH, { id: promptId, now: this.context.now() });
      const row = this.context.db.get<PromptVersionRow>(SELECT_VERSION, { id });
      if (row === undefined) throw new Error(`Prompt version ${id} vanished inside its own transaction.`);
      return toPromptVersion(row);
    });
  }

  rename(promptId: string, name: string): Prompt {
    if (this.context.db.run(RENAME, { id: promptId, name, now: this.context.now() }) === 0) throw notFound(promptId);
    return this.require(promptId);
  }

  tag(promptId: string, tag: string): Prompt {
    const normalized = normalizeTag(tag);
    this.context.db.transaction(() => {
      this.require(promptId);
      this.context.db.run(ADD_TAG, { promptId, tag: normalized });
    });
    return this.require(promptId);
  }

  untag(promptId: string, tag: string): Prompt {
    // Normalized as `tag` stores it, so any spelling that added a tag also removes it.
    this.context.db.run(REMOVE_TAG, { promptId, tag: normalizeTag(tag) });
    return this.require(promptId);
  }

  /** Prompts outside the trash, most recently changed first; only those with `tag` when given. */
  list(filter: { tag?: string } = {}): Prompt[] {
    const rows =
      filter.tag === undefined
        ? this.context.db.all<PromptRow>(LIST)
        : this.context.db.all<PromptRow>(LIST_TAGGED, { tag: filter.tag.trim() });
    return rows.map(toPrompt);
  }

  get(promptId: string): PromptWithVersions | null {
    const row = this.context.db.get<PromptRow>(SELECT_PROMPT, { id: promptId });
    if (row === undefined) return null;
    return { ...toPrompt(row), versions: this.context.db.all<PromptVersionRow>(VERSIONS, { promptId }).map(toPromptVersion) };
  }

  private insertVersion(promptId: string, body: string): string {
    const id = this.context.newId();
    this.context.db.run(INSERT_VERSION, { id, promptId, body, variables: jsonText(extractVariables(body)), now: this.context.now() });
    return id;
  }

  private require(promptId: string): Prompt {
    const row = this.context.db.get<PromptRow>(SELECT_PROMPT, { id: promptId });
    if (row === undefined) throw notFound(promptId);
    return toPrompt(row);
  }
}

function notFound(promptId: string): EmergentError {
  return new EmergentError('NOT_FOUND', `There is no prompt ${promptId}.`);
}

function toPrompt(row: PromptRow): Prompt {
  return {
    id: row.id,
    name: row.name,
    body: row.body,
    version: row.version,
    variables: parseJsonArray(row.variables).map(String),
    tags: parseJsonArray(row.tags).map(String),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  };
}

export function toPromptVersion(row: PromptVersionRow): PromptVersion {
  return {
    id: row.id,
    promptId: row.prompt_id,
    version: row.version,
    body: row.body,
    variables: parseJsonArray(row.variables).map(String),
    createdAt: row.created_at,
  };
}
