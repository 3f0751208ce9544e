/**
 * The one description of everything the renderer (or any other client) can ask of the core,
 * and everything the core pushes back. Every shell binds it generically; types are derived
 * from the schemas, so adding a method is one entry here plus its implementation in
 * electron/core/service.ts.
 */
import { z } from 'zod';

/** A method: its input and output schemas and one line for `--help` and docs. */
export interface MethodDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly summary: string;
  readonly input: I;
  readonly output: O;
}

function method<I extends z.ZodType, O extends z.ZodType>(definition: MethodDefinition<I, O>): MethodDefinition<I, O> {
  return definition;
}

const NoInput = z.object({}).strict();

export const ThemeSchema = z.enum(['system', 'light', 'dark']);
export type Theme = z.infer<typeof ThemeSchema>;

export const SettingsSchema = z.object({
  theme: ThemeSchema,
});
export type Settings = z.infer<typeof SettingsSchema>;

export const AppInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  shell: z.enum(['electron', 'headless']),
  platform: z.string(),
  dataDir: z.string(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export const BackendSchema = z.enum(['cpu', 'cuda', 'vulkan', 'metal']);
export type Backend = z.infer<typeof BackendSchema>;

export const EngineStatusSchema = z.object({
  /** `starting` until llama.cpp's bindings are loaded; `unavailable` if they could not be. */
  state: z.enum(['starting', 'ready', 'unavailable']),
  backend: BackendSchema.nullable(),
  devices: z.array(z.string()),
  /** Why a GPU was not used although one was asked for, shown as a warning, not an error. */
  warning: z.string().nullable(),
  loadedModels: z.array(z.object({ id: z.string(), name: z.string() })),
  memory: z.object({
    ramTotalBytes: z.number().nonnegative(),
    ramFreeBytes: z.number().nonnegative(),
    vramTotalBytes: z.number().nonnegative().nullable(),
    vramUsedBytes: z.number().nonnegative().nullable(),
  }),
});
export type EngineStatus = z.infer<typeof EngineStatusSchema>;

export const methods = {
  'app.info': method({
    summary: 'Name, version, shell and data directory of the running app.',
    input: NoInput,
    output: AppInfoSchema,
  }),
  'engine.status': method({
    summary: 'Inference backend, devices, loaded models and memory.',
    input: NoInput,
    output: EngineStatusSchema,
  }),
  'settings.get': method({
    summary: 'The current settings.',
    input: NoInput,
    output: SettingsSchema,
  }),
  'settings.update': method({
    summary: 'Change some settings; returns all of them.',
    input: SettingsSchema.partial().strict(),
    output: SettingsSchema,
  }),
} as const;

export const events = {
  'engine.state': EngineStatusSchema,
  'settings.changed': SettingsSchema,
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
/** What a caller passes (before defaults are applied). */
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
/** What the implementation receives (after validation and defaults). */
export type MethodParsedInput<M extends MethodName> = z.output<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<Methods[M]['output']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

export const METHOD_NAMES = Object.keys(methods) as MethodName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isMethodName(value: unknown): value is MethodName {
  return typeof value === 'string' && Object.hasOwn(methods, value);
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && Object.hasOwn(events, value);
}

/**
 * Largest serialized call a shell accepts. Documents travel as text, so this is generous;
 * anything bigger is refused with PAYLOAD_TOO_LARGE before it is parsed.
 */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** The implementation every shell binds: one async function per method. */
export type ContractImplementation = {
  [M in MethodName]: (input: MethodParsedInput<M>) => Promise<MethodOutput<M>>;
};

/** How the core pushes events; each shell forwards them to its clients. */
export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;
