import { afterAll, describe, expect, it } from 'vitest';
import { ContractClient } from '../../electron/common/client.js';
import { createMemoryTransport } from '../../electron/common/memory-transport.js';
import { createTestService } from '../helpers/service.js';

const { service } = await createTestService();
const client = new ContractClient(createMemoryTransport(service.implementation, service.events));
afterAll(() => service.dispose());

describe('conversations over the contract', () => {
  it('keeps branches, follows the active path, exports, and trashes with undo', async () => {
    const conversation = await client.call('conversations.create', { title: 'Tea', systemPrompt: 'Be brief.' });
    const question = await client.call('conversations.addMessage', { conversationId: conversation.id, parentId: null, role: 'user', content: 'Green or black tea?' });
    await client.call('conversations.addMessage', { conversationId: conversation.id, parentId: question.id, role: 'assistant', content: 'Green.' });
    const regenerated = await client.call('conversations.addMessage', { conversationId: conversation.id, parentId: question.id, role: 'assistant', content: 'Black, with milk.' });

    const { path } = await client.call('conversations.get', { id: conversation.id });
    expect(path.map((message) => message.content)).toEqual(['Green or black tea?', 'Black, with milk.']);
    expect(path[1]).toMatchObject({ id: regenerated.id, siblingIndex: 1, siblingCount: 2 });

    const markdown = await client.call('conversations.export', { id: conversation.id, format: 'markdown' });
    expect(markdown.text).toContain('Black, with milk.');
    const json = JSON.parse((await client.call('conversations.export', { id: conversation.id, format: 'json' })).text) as { messages: unknown[] };
    expect(json.messages).toHaveLength(3);

    const found = await client.call('search.query', { text: 'milk', kinds: ['message'] });
    expect(found.hits.map((hit) => hit.id)).toContain(regenerated.id);

    await client.call('trash.move', { kind: 'conversation', id: conversation.id });
    const listed = await client.call('conversations.list', {});
    expect([...listed.pinned, ...listed.periods.flatMap((period) => period.conversations)].map((c) => c.id)).not.toContain(conversation.id);
    expect((await client.call('trash.list', {})).map((item) => item.id)).toContain(conversation.id);
    await client.call('trash.restore', { kind: 'conversation', id: conversation.id });
    const restored = await client.call('conversations.list', {});
    expect(restored.periods.flatMap((period) => period.conversations).map((c) => c.id)).toContain(conversation.id);
  });

  it('answers unknown ids with NOT_FOUND and a branch under a missing parent with a coded error', async () => {
    await expect(client.tryCall('conversations.get', { id: 'nope' })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    await expect(client.tryCall('runs.get', { id: 'nope' })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const conversation = await client.call('conversations.create', {});
    const orphan = await client.tryCall('conversations.addMessage', { conversationId: conversation.id, parentId: 'missing', role: 'user', content: 'x' });
    expect(orphan.ok).toBe(false);
    expect(!orphan.ok && orphan.error.code).not.toBe('INTERNAL');
  });
});
