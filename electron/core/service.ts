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
  engine?: Omit<EngineOptions, 'onStatus'>;
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
  const engine = new Engine({ ...options.engine, onStatus: (status) => events.emit('engine.state', status) });
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
