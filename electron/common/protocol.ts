/**
 * Messages of the WebSocket binding (and the in-memory pair that tests use). JSON text frames.
 * A client sends `call`s with its own ids; the server answers each with a `result` and pushes
 * `event`s to every authenticated client.
 */
import { z } from 'zod';
import type { Result } from './errors.js';

export const CallMessageSchema = z.object({
  type: z.literal('call'),
  id: z.number().int().nonnegative(),
  method: z.string(),
  input: z.unknown(),
});
export type CallMessage = z.infer<typeof CallMessageSchema>;

export interface ResultMessage {
  type: 'result';
  /** null when the call was too malformed to carry an id. */
  id: number | null;
  result: Result<unknown>;
}

export interface EventMessage {
  type: 'event';
  event: string;
  payload: unknown;
}

export type ServerMessage = ResultMessage | EventMessage;

/** Query parameter and cookie that carry the per-launch token. */
export const TOKEN_PARAM = 'token';
export const TOKEN_COOKIE = 'emergent_token';
export const WEBSOCKET_PATH = '/ws';

/** Close code sent when a WebSocket arrives without a valid token (4000-4999 are ours). */
export const CLOSE_UNAUTHORIZED = 4401;
