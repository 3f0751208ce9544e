/**
 * Chat: turns a person's message (or an edit, a regeneration, a "continue") into a reply the
 * engine writes, keeping every step in the store's message tree.
 *
 * A reply is an assistant message created empty beside its run; the run's text streams into
 * the store in batches (run-recording.ts) and, when the run ends however it ends, a trigger
 * copies it into the message (0030-chat). Nothing is overwritten: an edit, a regeneration or a
 * continuation is a new sibling.
 *
 * Before a reply starts, the conversation is measured against the model's context: with the
 * "shift" policy the oldest turns are left out (never the system prompt, never the newest
 * message); with "stop" the request is refused with CONTEXT_FULL and nothing is added.
 */
import {
  DEFAULT_MAX_TOKENS,
  GenerationSettingsSchema,
  type ChatMessage,
  type ChatTurn,
  type GenerationSettings,
  type MethodOutput,
} from '../common/contract.js';
import { EmergentError } from '../common/errors.js';
import type { Engine } from './engine/engine.js';
import type { Library } from './library.js';
import { DEFAULT_TITLE, type Conversation, type Message } from './store/conversations.js';
import { timeOrderedId } from './store/ids.js';
import type { Store } from './store/store.js';

/** A title made from the first message: about a line in the sidebar. */
const TITLE_CHARS = 60;

export class ChatController {
  constructor(
    private readonly store: Store,
    private readonly engine: Engine,
    private readonly library: Library,
  ) {}

  /** A person's message under the active leaf (or `parentId`), and the reply to it. */
  async send(request: { conversationId: string; content: string; parentId?: string | null | undefined }): Promise<ChatTurn & { userMessage: Message }> {
    const conversation = this.requireConversation(request.conversationId);
    const parentId = request.parentId === undefined ? conversation.activeLeafId : request.parentId;
    const history = parentId === null ? [] : this.store.conversations.pathTo(conversation.id, parentId);
    // Measured before anything is written: a refusal leaves the conversation as it was.
    const plan = await this.plan(conversation, [...toChat(history), { role: 'user', content: request.content }], false);
    const userMessage = this.store.conversations.addMessage({ conversationId: conversation.id, parentId, role: 'user', content: request.content });
    if (conversation.title === DEFAULT_TITLE && history.length === 0) this.store.conversations.rename(conversation.id, titleFrom(request.content));
    return { userMessage, ...(await this.start(conversation, userMessage.id, plan, '')) };
  }

  /** A new reply beside an assistant message. */
  async regenerate(request: { conversationId: string; messageId: string }): Promise<ChatTurn> {
    const conversation = this.requireConversation(request.conversationId);
    const message = this.requireMessage(conversation.id, request.messageId, 'assistant');
    const history = message.parentId === null ? [] : this.store.conversations.pathTo(conversation.id, message.parentId);
    const plan = await this.plan(conversation, toChat(history), false);
    return this.start(conversation, message.parentId, plan, '');
  }

  /**
   * An edited copy of a message beside it. A person's edited message gets a reply; an edited
   * reply is the person's correction and stands as written.
   */
  async edit(request: { conversationId: string; messageId: string; content: string }): Promise<MethodOutput<'chat.edit'>> {
    const conversation = this.requireConversation(request.conversationId);
    const original = this.requireMessage(conversation.id, request.messageId);
    if (original.role === 'system') throw new EmergentError('INVALID_INPUT', 'The system prompt is edited in the conversation settings.');
    if (original.role === 'assistant') {
      const message = this.store.conversations.addMessage({
        conversationId: conversation.id,
        parentId: original.parentId,
        role: 'assistant',
        content: request.content,
        modelId: original.modelId,
      });
      return { message, reply: null };
    }
    const history = original.parentId === null ? [] : this.store.conversations.pathTo(conversation.id, original.parentId);
    const plan = await this.plan(conversation, [...toChat(history), { role: 'user', content: request.content }], false);
    const message = this.store.conversations.addMessage({ conversationId: conversation.id, parentId: original.parentId, role: 'user', content: request.content });
    return { message, reply: await this.start(conversation, message.id, plan, '') };
  }

  /** The model goes on writing a reply: a new sibling that starts with the reply's text. */
  async continue(request: { conversationId: string; messageId: string }): Promise<ChatTurn> {
    const conversation = this.requireConversation(request.conversationId);
    const message = this.requireMessage(conversation.id, request.messageId, 'assistant');
    if (message.content === '') throw new EmergentError('INVALID_INPUT', 'There is no text to continue; regenerate the reply instead.');
    const history = this.store.conversations.pathTo(conversation.id, message.id);
    const plan = await this.plan(conversation, toChat(history), true);
    return this.start(conversation, message.parentId, plan, message.content);
  }

  /** For the context meter: the active path plus a draft, counted without loading the model. */
  async contextUsage(request: { conversationId: string; draft?: string | undefined }): Promise<MethodOutput<'chat.contextUsage'>> {
    const conversation = this.requireConversation(request.conversationId);
    const model = conversation.modelPath ?? conversation.modelId;
    const none = { tokens: null, contextSize: null, reserved: null, modelId: null };
    if (model === null) return none;
    const messages = withSystem(conversation, toChat(this.store.conversations.activePath(conversation.id)));
    if (request.draft !== undefined && request.draft !== '') messages.push({ role: 'user', content: request.draft });
    if (messages.length === 0) messages.push({ role: 'user', content: '' });
    const counted = await this.engine.countTokens(model, { messages }, { load: false });
    if (counted === null) return none;
    return { tokens: counted.tokens, contextSize: counted.contextSize, reserved: reserveFor(settingsOf(conversation), counted.contextSize), modelId: counted.modelId };
  }

  /** Settings, model and the messages that fit, decided before anything is written. */
  private async plan(conversation: Conversation, chat: ChatMessage[], continueLast: boolean): Promise<Plan> {
    const model = conversation.modelPath ?? conversation.modelId;
    if (model === null) {
      throw new EmergentError('NO_MODEL_CHOSEN', 'Choose a model for this conversation first (the model picker above the messages).');
    }
    const settings = settingsOf(conversation);
    const count = async (messages: ChatMessage[]) => {
      const counted = await this.engine.countTokens(model, { messages, continueLast }, { load: true });
      // load: true always counts (or throws the load's coded error).
      if (counted === null) throw new EmergentError('MODEL_NOT_LOADED', 'The model could not be loaded.');
      return counted;
    };
    let kept = chat;
    const counted = await count(withSystem(conversation, kept));
    const reserve = reserveFor(settings, counted.contextSize);
    let dropped = 0;
    if (counted.tokens + reserve > counted.contextSize) {
      if (conversation.contextOverflow === 'stop') {
        throw new EmergentError(
          'CONTEXT_FULL',
          `This conversation takes ${counted.tokens.toLocaleString('en')} of the model's ${counted.contextSize.toLocaleString('en')} tokens of context, ` +
            `leaving less than the ${reserve.toLocaleString('en')} kept for the reply. Start a new conversation, shorten the messages, ` +
            'or set the overflow policy to "Shift" in the chat settings so the oldest turns are left out.',
        );
      }
      // Shift: leave out the oldest whole turns (the kept part starts with a person's message,
      // as chat templates expect), as few as fit. Fewer messages never take more tokens, so a
      // binary search over where the kept part starts needs ~log2(turns) counts, not one per
      // message (a 5,000-message conversation would otherwise take minutes).
      const starts = chat.flatMap((message, index) => (index > 0 && message.role === 'user' ? [index] : []));
      if (starts.length === 0) starts.push(chat.length - 1);
      const measureFrom = (start: number) => count(withSystem(conversation, chat.slice(start)));
      const fits = async (start: number) => {
        const measured = await measureFrom(start);
        return measured.tokens + reserve <= measured.contextSize;
      };
      let low = 0;
      let high = starts.length - 1;
      if (!(await fits(starts[high] ?? 0))) {
        const last = await measureFrom(starts[high] ?? 0);
        throw new EmergentError(
          'CONTEXT_TOO_LARGE',
          `The newest message alone takes ${last.tokens.toLocaleString('en')} of ${last.contextSize.toLocaleString('en')} tokens, with ${reserve.toLocaleString('en')} kept for the reply. ` +
            'Shorten it, lower the max tokens setting, or load the model with a larger context.',
        );
      }
      while (low < high) {
        const middle = (low + high) >> 1;
        if (await fits(starts[middle] ?? 0)) high = middle;
        else low = middle + 1;
      }
      dropped = starts[high] ?? 0;
      kept = chat.slice(dropped);
    }
    return { model, settings, messages: withSystem(conversation, kept), continueLast, dropped };
  }

  /** Adds the empty reply and starts the run that fills it. */
  private async start(conversation: Conversation, parentId: string | null, plan: Plan, prefix: string): Promise<ChatTurn> {
    const { maxTokens, stop, ...sampling } = plan.settings;
    const messageId = timeOrderedId();
    const { runId, modelId } = await this.engine.startRun({
      model: plan.model,
      messages: plan.messages,
      continueLast: plan.continueLast,
      // Turns of one conversation reuse the evaluated prefix (the KV cache) of the last one.
      conversationKey: conversation.id,
      sampling,
      maxTokens: maxTokens ?? DEFAULT_MAX_TOKENS,
      ...(stop === undefined ? {} : { stop }),
      links: { conversationId: conversation.id, messageId },
    });
    this.library.markUsed(plan.model);
    // The run writes its first row on the next turn of the event loop (RunManager.start), so
    // the message it points to exists by then.
    const assistantMessage = this.store.conversations.addMessage({
      id: messageId,
      conversationId: conversation.id,
      parentId,
      role: 'assistant',
      content: prefix,
      modelId,
    });
    return { assistantMessage, runId, modelId, droppedMessages: plan.dropped };
  }

  private requireConversation(id: string): Conversation {
    const conversation = this.store.conversations.get(id);
    if (conversation === null || conversation.deletedAt !== null) throw new EmergentError('NOT_FOUND', `There is no conversation ${id}.`);
    return conversation;
  }

  private requireMessage(conversationId: string, messageId: string, role?: Message['role']): Message {
    const message = this.store.conversations.pathTo(conversationId, messageId).at(-1);
    if (message === undefined) throw new EmergentError('NOT_FOUND', `There is no message ${messageId} in conversation ${conversationId}.`);
    if (role !== undefined && message.role !== role) throw new EmergentError('INVALID_INPUT', `Message ${messageId} is not an ${role} message.`);
    return message;
  }
}

interface Plan {
  model: string;
  settings: GenerationSettings;
  messages: ChatMessage[];
  continueLast: boolean;
  dropped: number;
}

/** The conversation's saved settings; anything no longer valid is left to the defaults. */
function settingsOf(conversation: Conversation): GenerationSettings {
  const parsed = GenerationSettingsSchema.safeParse(conversation.sampling);
  if (parsed.success) return parsed.data;
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(conversation.sampling)) {
    if (GenerationSettingsSchema.safeParse({ [key]: value }).success) settings[key] = value;
  }
  return GenerationSettingsSchema.parse(settings);
}

/** Tokens kept free for the reply: max tokens, but never more than half the context. */
function reserveFor(settings: GenerationSettings, contextSize: number): number {
  return Math.min(settings.maxTokens ?? DEFAULT_MAX_TOKENS, Math.floor(contextSize / 2));
}

/** Messages as the model is sent them: replies that produced no text are left out. */
function toChat(messages: readonly Message[]): ChatMessage[] {
  return messages.filter((message) => message.role !== 'assistant' || message.content !== '').map(({ role, content }) => ({ role, content }));
}

function withSystem(conversation: Conversation, chat: ChatMessage[]): ChatMessage[] {
  return conversation.systemPrompt === '' ? [...chat] : [{ role: 'system', content: conversation.systemPrompt }, ...chat];
}

function titleFrom(content: string): string {
  const line = content.replace(/\s+/gu, ' ').trim();
  return line.length <= TITLE_CHARS ? line : `${line.slice(0, TITLE_CHARS - 1).trimEnd()}…`;
}
