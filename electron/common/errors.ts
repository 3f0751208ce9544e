/**
 * Errors cross every boundary as values with a stable code (scripts and tests match on it)
 * and a message a person can act on. Never a stack trace.
 */
export const ERROR_CODES = [
  // The boundary itself
  'INVALID_MESSAGE',
  'UNKNOWN_METHOD',
  'INVALID_INPUT',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'FORBIDDEN_SENDER',
  'TRANSPORT_CLOSED',
  'TIMEOUT',
  'PORT_IN_USE',
  'RENDERER_NOT_BUILT',
  // The core
  'NOT_IMPLEMENTED',
  'ENGINE_UNAVAILABLE',
  'INTERNAL',
  // Models and the engine
  'MODEL_NOT_FOUND',
  'MODEL_NOT_GGUF',
  'MODEL_CORRUPT',
  'MODEL_TRUNCATED',
  'MODEL_UNSUPPORTED',
  'MODEL_LOAD_FAILED',
  'MODEL_CRASHED_BEFORE',
  'MODEL_NOT_LOADED',
  'MODEL_DISPOSED',
  'INSUFFICIENT_MEMORY',
  'CONTEXT_TOO_LARGE',
  'CONTEXT_FULL',
  'NO_MODEL_CHOSEN',
  'RUN_NOT_FOUND',
  'INVALID_JSON_SCHEMA',
  // The store
  'STORE_FROM_FUTURE',
  'STORE_OUTDATED',
  'STORE_CORRUPT',
  'STORE_FULL',
  'NOT_FOUND',
  'ARCHIVE_INVALID',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorValue {
  code: ErrorCode;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorValue };

/** Thrown inside the core and the clients; converted to an ErrorValue at a boundary. */
export class EmergentError extends Error {
  override readonly name = 'EmergentError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  toValue(): ErrorValue {
    return { code: this.code, message: this.message };
  }

  static fromValue(value: ErrorValue): EmergentError {
    return new EmergentError(value.code, value.message);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Anything thrown becomes an ErrorValue; unknown failures keep their message but get INTERNAL. */
export function toErrorValue(err: unknown): ErrorValue {
  if (err instanceof EmergentError) return err.toValue();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message: `Unexpected failure: ${message}` };
}
