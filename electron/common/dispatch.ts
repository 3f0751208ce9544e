/**
 * The one place a call from outside becomes a call into the core: every shell (Electron IPC,
 * WebSocket, the in-memory pair) goes through `dispatchCall`, so validation and error shape
 * are identical everywhere.
 */
import type { z } from 'zod';
import { isMethodName, methods, type ContractImplementation } from './contract.js';
import { EmergentError, toErrorValue, type Result } from './errors.js';

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}

export async function dispatchCall(
  implementation: ContractImplementation,
  methodName: unknown,
  rawInput: unknown,
): Promise<Result<unknown>> {
  if (!isMethodName(methodName)) {
    const shown = typeof methodName === 'string' ? JSON.stringify(methodName.slice(0, 80)) : typeof methodName;
    return { ok: false, error: { code: 'UNKNOWN_METHOD', message: `There is no method ${shown}.` } };
  }
  const definition = methods[methodName];
  const parsed = definition.input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      error: { code: 'INVALID_INPUT', message: `Invalid input for ${methodName}: ${describeIssues(parsed.error)}` },
    };
  }
  try {
    // The contract maps each name to its own implementation; TypeScript cannot follow the
    // correlation through an indexed access, so the call goes through one narrow cast.
    const handler = implementation[methodName] as (input: unknown) => Promise<unknown>;
    const value = await handler(parsed.data);
    const checked = definition.output.safeParse(value);
    if (!checked.success) {
      throw new EmergentError('INTERNAL', `${methodName} produced an invalid result: ${describeIssues(checked.error)}`);
    }
    return { ok: true, value: checked.data };
  } catch (err) {
    return { ok: false, error: toErrorValue(err) };
  }
}
