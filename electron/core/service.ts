/**
 * The workbench behind the contract: one implementation every shell binds.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AppInfo, ContractImplementation, GenerationSettings } from '../common/contract.js';
import { Engine, type EngineOptions } from './engine/engine.js';
import { EventHub } from './events.js';
import { SettingsFile } from './settings.js';
import { APP_NAME } from './paths.js';
import { StoreRunRecorder } from './run-recording.js';
import { BackgroundIndexer } from './search-indexer.js';
import { ChatController } from './chat.js';
import { Library } from './library.js';
import type { JsonObject } from './store/json.js';
import { Store } from './store/store.js';
import { EmergentError } from '../common/errors.js';
import { withoutUndefined } from '../common/objects.js';
import { readPackageVersion } from './version.js';

export interface ServiceOptions {
  dataDir: string;
  shell: AppInfo['shell'];
  engine?: Omit<EngineOptions, 'emit' | 'stateDir' | 'threadsOverride'>;
}

export interface Service {
  readonly implementation: ContractImplementation;
  readonly events: EventHub;
  readonly engine: Engine;
  readonly store: Store;
  dispose(): Promise<void>;
}

/**
 * Opens the store (refusing, with a coded error, a database it cannot use) and starts the
 * engine in the background.
 */
export async function createService(options: ServiceOptions): Promise<Service> {
  fs.mkdirSync(options.dataDir, { recursive: true });
  const store = await Store.open(options.dataDir);
  // Only the process that owns generation may call leftover runs interrupted: a CLI command
  // running beside the app must not mark the app's live runs.
  if (options.shell !== 'cli') store.runs.markInterrupted();
  const recorder = new StoreRunRecorder(store.runs);
  const indexer = new BackgroundIndexer(store.search, (error) => console.error('Search indexing paused:', error));
  indexer.kick();
  const events = new EventHub();
  const settings = new SettingsFile(path.join(options.dataDir, 'settings.json'));
  const engine = new Engine({
    ...options.engine,
    stateDir: path.join(options.dataDir, 'engine'),
    emit: (event, payload) => events.emit(event, payload),
    threadsOverride: () => settings.get().threads,
    recorder,
  });
  void engine.start();
  const library = new Library(store.models, engine);
  // A first run has a model to chat with; a CLI command leaves the library as it is.
  if (options.shell !== 'cli') library.registerDemoModel();
  const chat = new ChatController(store, engine, library);

  const implementation: ContractImplementation = {
    'app.info': async () => ({
      name: APP_NAME,
      version: readPackageVersion(),
      shell: options.shell,
      platform: process.platform,
      dataDir: options.dataDir,
    }),
    'engine.status': () => engine.status(),
    'settings.get': async () => settings.get(),
    'settings.update': async (patch) => {
      const next = settings.update(patch);
      events.emit('settings.changed', next);
      return next;
    },
    'models.inspect': ({ path: modelPath, contextSize }) => engine.inspect(modelPath, contextSize),
    'models.load': (request) => engine.loadModel(request),
    'models.unload': async ({ id }) => ({ unloaded: await engine.unloadModel(id) }),
    'models.loaded': () => engine.loadedModels(),
    'models.library': async () => library.list(),
    'models.add': ({ path: file }) => library.add(file),
    'chat.send': (request) => chat.send(request),
    'chat.regenerate': (request) => chat.regenerate(request),
    'chat.edit': (request) => chat.edit(request),
    'chat.continue': (request) => chat.continue(request),
    'chat.contextUsage': (request) => chat.contextUsage(request),
    'runs.start': (request) => engine.startRun(request),
    'runs.cancel': async ({ runId }) => ({ cancelled: engine.cancelRun(runId) }),
    'engine.perplexity': async ({ model, text, window }) => engine.perplexity(model, text, window),
    'runs.list': async (query) => store.runs.list(withoutUndefined(query)),
    'runs.get': async ({ id }) => {
      const run = store.runs.get(id);
      if (!run) throw new EmergentError('NOT_FOUND', `There is no run ${id}.`);
      return run;
    },
    'search.query': async (query) => {
      const hits = store.search.search(withoutUndefined(query));
      const pendingRuns = store.search.pendingRuns();
      if (pendingRuns > 0) indexer.kick();
      return { hits, pendingRuns };
    },
    'trash.list': async () => store.trash.list(),
    'trash.move': async ({ kind, id }) => {
      store.trash.trash(kind, id);
      return { trashed: true as const };
    },
    'trash.restore': async ({ kind, id }) => {
      store.trash.restore(kind, id);
      return { restored: true as const };
    },
    'trash.empty': async () => ({ deleted: store.trash.emptyTrash() }),
    'prompts.create': async (prompt) => store.prompts.create(withoutUndefined(prompt)),
    'prompts.list': async (filter) => store.prompts.list(withoutUndefined(filter)),
    'prompts.get': async ({ id }) => {
      const prompt = store.prompts.get(id);
      if (!prompt) throw new EmergentError('NOT_FOUND', `There is no prompt ${id}.`);
      return prompt;
    },
    'prompts.addVersion': async ({ id, body }) => store.prompts.addVersion(id, body),
    'prompts.rename': async ({ id, name }) => store.prompts.rename(id, name),
    'prompts.tag': async ({ id, tag }) => store.prompts.tag(id, tag),
    'prompts.untag': async ({ id, tag }) => store.prompts.untag(id, tag),
    'conversations.create': async (conversation) => store.conversations.create(withoutUndefined(conversation)),
    'conversations.list': async () => store.conversations.list(),
    'conversations.get': async ({ id }) => {
      const conversation = store.conversations.get(id);
      if (!conversation) throw new EmergentError('NOT_FOUND', `There is no conversation ${id}.`);
      return { conversation, path: store.conversations.activePath(id) };
    },
    'conversations.rename': async ({ id, title }) => store.conversations.rename(id, title),
    'conversations.pin': async ({ id, pinned }) => store.conversations.pin(id, pinned),
    'conversations.configure': async ({ id, sampling, ...settings }) =>
      store.conversations.configure(id, withoutUndefined({ ...settings, sampling: sampling && samplingJson(sampling) })),
    'conversations.setActiveLeaf': async ({ conversationId, messageId }) => {
      store.conversations.setActiveLeaf(conversationId, messageId);
      return { path: store.conversations.activePath(conversationId) };
    },
    'conversations.siblings': async ({ conversationId, messageId }) => store.conversations.siblings(conversationId, messageId),
    'conversations.addMessage': async (message) => store.conversations.addMessage(message),
    'conversations.export': async ({ id, format }) => {
      const base = `conversation-${id}`;
      return format === 'markdown'
        ? { fileName: `${base}.md`, mimeType: 'text/markdown', text: store.archive.conversationMarkdown(id) }
        : { fileName: `${base}.json`, mimeType: 'application/json', text: `${JSON.stringify(store.archive.conversationJson(id), null, 2)}\n` };
    },
    'documents.add': async (document) => store.documents.add(withoutUndefined(document)),
    'documents.get': async ({ id }) => {
      const document = store.documents.get(id);
      if (!document) throw new EmergentError('NOT_FOUND', `There is no document ${id}.`);
      return document;
    },
    'documents.list': async () => store.documents.list(),
    'comparisons.create': async (comparison) => store.comparisons.create(withoutUndefined(comparison)),
    'comparisons.get': async ({ id }) => {
      const comparison = store.comparisons.get(id);
      if (!comparison) throw new EmergentError('NOT_FOUND', `There is no comparison ${id}.`);
      return comparison;
    },
    'comparisons.list': async ({ limit }) => store.comparisons.list(limit),
    'comparisons.vote': async ({ comparisonId, ...vote }) => store.comparisons.vote(comparisonId, withoutUndefined(vote)),
    'presets.list': async () => store.presets.list(),
    'presets.save': async ({ settings, ...preset }) => store.presets.save(withoutUndefined({ ...preset, settings: samplingJson(settings) })),
    'presets.delete': async ({ id }) => ({ deleted: store.presets.delete(id) }),
    'data.export': async () => ({ archive: store.archive.exportAll() }),
    'data.import': async ({ archive }) => {
      const result = store.archive.importArchive(archive);
      indexer.kick();
      return result;
    },
    'data.backup': async ({ path: file }) => {
      const target = path.resolve(file);
      await store.backupTo(target);
      return { path: target, bytes: fs.statSync(target).size };
    },
  };

  return {
    implementation,
    events,
    engine,
    store,
    async dispose() {
      indexer.dispose();
      await engine.dispose();
      recorder.flushAll();
      store.close();
    },
  };
}

/** Generation settings as the JSON object the store keeps: the settings given, nothing else. */
function samplingJson(settings: GenerationSettings): JsonObject {
  return Object.fromEntries(Object.entries(settings).filter((entry): entry is [string, Exclude<GenerationSettings[keyof GenerationSettings], undefined>] => entry[1] !== undefined));
}
