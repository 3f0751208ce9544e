import { describe, expect, it } from 'vitest';
import { EmergentError } from '../../electron/common/errors.js';
import type { Store } from '../../electron/core/store/store.js';
import { openStore } from './helpers.js';

function saveError(store: Store, ...args: Parameters<Store['presets']['save']>): EmergentError {
  try {
    store.presets.save(...args);
  } catch (err) {
    if (err instanceof EmergentError) return err;
    throw err;
  }
  throw new Error('The preset was saved.');
}

describe('PresetStore', () => {
  it('creates presets and lists them by name, ignoring case', async () => {
    const store = await openStore();
    const terse = store.presets.save({ name: '  terse ', systemPrompt: 'Answer in one line.', settings: { temperature: 0.2, maxTokens: 64, stop: ['\n'] } });
    expect(terse).toEqual({
      id: expect.any(String),
      name: 'terse',
      systemPrompt: 'Answer in one line.',
      settings: { temperature: 0.2, maxTokens: 64, stop: ['\n'] },
      createdAt: terse.createdAt,
      updatedAt: terse.createdAt,
    });
    store.presets.save({ name: 'Creative', settings: { temperature: 1.2 } });
    store.presets.save({ name: 'Zed' });
    store.presets.save({ name: 'analyst', systemPrompt: 'Think step by step.' });
    expect(store.presets.list().map((preset) => preset.name)).toEqual(['analyst', 'Creative', 'terse', 'Zed']);
    expect(store.presets.list().find((preset) => preset.name === 'Zed')).toMatchObject({ systemPrompt: '', settings: {} });
    expect(store.presets.get(terse.id)).toEqual(terse);
  });

  it('replaces a preset by id, keeping its creation time, and refuses an unknown id', async () => {
    const store = await openStore();
    const preset = store.presets.save({ name: 'Draft', systemPrompt: 'Old.', settings: { temperature: 0.5, seed: 1 } });
    const replaced = store.presets.save({ id: preset.id, name: 'Final', systemPrompt: 'New.', settings: { topK: 10 } });
    expect(replaced).toEqual({ id: preset.id, name: 'Final', systemPrompt: 'New.', settings: { topK: 10 }, createdAt: preset.createdAt, updatedAt: replaced.updatedAt });
    expect(replaced.updatedAt).toBeGreaterThan(preset.updatedAt);
    expect(store.presets.list()).toEqual([replaced]);
    // Its own name, in another case, is no clash.
    expect(store.presets.save({ id: preset.id, name: 'FINAL' }).name).toBe('FINAL');

    const missing = saveError(store, { id: 'nope', name: 'Ghost' });
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toMatch(/no preset nope/);
    expect(store.presets.list().map((item) => item.name)).toEqual(['FINAL']);
  });

  it('refuses a name another preset has, in any case, and a blank or overlong name', async () => {
    const store = await openStore();
    store.presets.save({ name: 'Terse' });
    const other = store.presets.save({ name: 'Chatty' });

    const duplicate = saveError(store, { name: 'terse ', systemPrompt: 'x' });
    expect(duplicate.code).toBe('INVALID_INPUT');
    expect(duplicate.message).toBe('A preset named "terse" already exists.');
    const renamedOnto = saveError(store, { id: other.id, name: 'TERSE' });
    expect(renamedOnto.code).toBe('INVALID_INPUT');
    expect(store.presets.get(other.id)?.name).toBe('Chatty');

    expect(saveError(store, { name: '   ' })).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/1 to 200 characters/) });
    expect(saveError(store, { name: 'x'.repeat(201) }).code).toBe('INVALID_INPUT');
    expect(store.presets.save({ name: 'x'.repeat(200) }).name).toHaveLength(200);
    expect(store.presets.list().map((preset) => preset.name)).toEqual(['Chatty', 'Terse', 'x'.repeat(200)]);
  });

  it('deletes a preset once; its name is free again', async () => {
    const store = await openStore();
    const preset = store.presets.save({ name: 'Temporary' });
    const kept = store.presets.save({ name: 'Kept' });
    expect(store.presets.delete(preset.id)).toBe(true);
    expect(store.presets.delete(preset.id)).toBe(false);
    expect(store.presets.get(preset.id)).toBeNull();
    expect(store.presets.list()).toEqual([kept]);
    expect(store.presets.save({ name: 'temporary' }).id).not.toBe(preset.id);
  });
});
