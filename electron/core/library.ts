/**
 * The model library as the app sees it: the store's list of known GGUF files, whether each is
 * still on disk, and the demo model, registered on every start so a first run has a model to
 * chat with. Adding a file reads its metadata (nothing is copied).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LibraryModel } from '../common/contract.js';
import type { Engine } from './engine/engine.js';
import { modelIdForReference } from './engine/model-pool.js';
import { DEMO_MODEL_NAME, demoModelPath } from './models/demo-model.js';
import type { ModelLibrary } from './store/models.js';

export class Library {
  constructor(
    private readonly models: ModelLibrary,
    private readonly engine: Engine,
  ) {}

  /** Adds the demo model when its file exists (it is a build output) and is not listed yet. */
  registerDemoModel(file: string = demoModelPath()): void {
    const id = modelIdForReference(file);
    if (!fs.existsSync(file) || this.models.get(id) !== null) return;
    this.models.add({ id, path: path.resolve(file), name: DEMO_MODEL_NAME, sizeBytes: fs.statSync(file).size, metadata: { demo: true } });
  }

  list(): LibraryModel[] {
    return this.models.list().map((model) => ({ ...model, present: fs.existsSync(model.path) }));
  }

  /** Reads the file's metadata (a corrupt or non-GGUF file is refused with its coded error). */
  async add(file: string): Promise<LibraryModel> {
    const resolved = path.resolve(file);
    const inspection = await this.engine.inspect(resolved);
    const model = this.models.add({
      id: modelIdForReference(resolved),
      path: resolved,
      name: inspection.name,
      sizeBytes: inspection.sizeBytes,
      metadata: {
        architecture: inspection.architecture,
        fileType: inspection.fileType,
        parameters: inspection.parameters,
        trainedContextSize: inspection.trainedContextSize,
        hasChatTemplate: inspection.hasChatTemplate,
      },
    });
    return { ...model, present: true };
  }

  /** Most recently used first: the chat's model picker preselects the top one. */
  markUsed(reference: string): void {
    const id = modelIdForReference(reference);
    if (this.models.get(id) !== null) this.models.markUsed(id);
  }
}
