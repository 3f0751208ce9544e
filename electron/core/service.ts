/**
 * The workbench behind the contract: one implementation every shell binds.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AppInfo, ContractImplementation } from '../common/contract.js';
import { Engine, type EngineOptions } from './engine/engine.js';
import { EventHub } from './events.js';
import { SettingsFile } from './settings.js';
import { APP_NAME } from './paths.js';
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
  dispose(): Promise<void>;
}

export function createService(options: ServiceOptions): Service {
  fs.mkdirSync(options.dataDir, { recursive: true });
  const events = new EventHub();
  const settings = new SettingsFile(path.join(options.dataDir, 'settings.json'));
  const engine = new Engine({
    ...options.engine,
    stateDir: path.join(options.dataDir, 'engine'),
    emit: (event, payload) => events.emit(event, payload),
    threadsOverride: () => settings.get().threads,
  });
  void engine.start();

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
    'runs.start': (request) => engine.startRun(request),
    'runs.cancel': async ({ runId }) => ({ cancelled: engine.cancelRun(runId) }),
    'engine.perplexity': async ({ model, text, window }) => engine.perplexity(model, text, window),
  };

  return {
    implementation,
    events,
    engine,
    async dispose() {
      await engine.dispose();
    },
  };
}
