/**
 * The renderer's shared state: the route, the theme, the engine's status and the connection.
 * This is the one place where the core's events, the page's hash and the refresh timer become
 * reactive state; components read it through context and call its methods, never the client.
 */
import { on } from 'svelte/events';
import type { ContractClient } from '../../../electron/common/client.js';
import type { AppInfo, EngineStatus, Theme } from '../../../electron/common/contract.js';
import { EmergentError } from '../../../electron/common/errors.js';
import type { ConnectionState, ConnectionStateSource } from '../transport/index.js';
import { DEFAULT_PANEL, panelFromHash, panelHash, type PanelId } from './panels.js';
import { applyTheme } from './theme.js';

/** The engine pushes state changes only; memory figures are asked for on this period. */
const ENGINE_REFRESH_MS = 5_000;

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting';

export interface AppStateOptions {
  client: ContractClient;
  /** null inside Electron, whose bridge cannot disconnect. */
  connection: ConnectionStateSource | null;
  /** The theme main.ts already applied from the cache, shown until the core's setting arrives. */
  theme: Theme;
}

export class AppState {
  route = $state<PanelId>(DEFAULT_PANEL);
  theme = $state<Theme>('system');
  /** CPU threads for inference; null lets the engine choose per model. */
  threads = $state<number | null>(null);
  /** null until the core first answers. */
  engine = $state.raw<EngineStatus | null>(null);
  info = $state.raw<AppInfo | null>(null);
  /** null inside Electron. */
  connection = $state<ConnectionStatus | null>(null);
  /** The last failure a person should know about, shown until dismissed. */
  problem = $state<string | null>(null);
  /**
   * Bumped on every navigation; the panel heading focuses itself when it changes, so screen
   * readers announce the new panel. It stays 0 on first load, leaving focus at the page's start.
   */
  headingFocusRequests = $state(0);

  readonly #client: ContractClient;
  readonly #connectionSource: ConnectionStateSource | null;
  #hasConnected = false;
  /** Counts engine.state events, so an engine.status answer older than an event cannot win. */
  #engineEvents = 0;
  /** Theme writes not yet answered; while there are any, settings echoes would flicker the theme. */
  #themeWrites = 0;

  constructor(options: AppStateOptions) {
    this.#client = options.client;
    this.#connectionSource = options.connection;
    this.theme = options.theme;
    this.connection = options.connection ? 'connecting' : null;
    // Before the first render, so the panel in the address bar is the one drawn first.
    this.#followLocation();
  }

  /** The contract client, for panel states (like ChatState) that own their own calls and events. */
  get client(): ContractClient {
    return this.#client;
  }

  /** Subscribes to the core, the page and the refresh timer; returns what stops them. */
  start(): () => void {
    const stops = [
      // Before the first call or subscription, which is what opens the socket.
      this.#connectionSource?.onState((state) => this.#onConnectionState(state)),
      this.#client.on('engine.state', (status) => {
        this.#engineEvents++;
        this.engine = status;
      }),
      this.#client.on('settings.changed', (settings) => {
        if (this.#themeWrites === 0) this.#showTheme(settings.theme);
        this.threads = settings.threads;
      }),
      on(window, 'hashchange', () => {
        this.#followLocation();
        this.focusPanelHeading();
      }),
    ];
    // Each refresh is also what retries a dropped connection.
    const timer = setInterval(() => void this.#refreshEngine(), ENGINE_REFRESH_MS);
    void Promise.all([this.#loadInfo(), this.#loadSettings(), this.#refreshEngine()]);
    return () => {
      clearInterval(timer);
      for (const stop of stops) stop?.();
    };
  }

  /** Links, the back button and this all go through the hash, so history keeps every step. */
  navigate(panel: PanelId): void {
    if (panel === this.route) this.focusPanelHeading();
    else location.hash = panelHash(panel);
  }

  focusPanelHeading(): void {
    this.headingFocusRequests++;
  }

  /** Applies the theme at once and saves it; a failed save puts the previous theme back. */
  async setTheme(theme: Theme): Promise<void> {
    const before = this.theme;
    this.#showTheme(theme);
    this.#themeWrites++;
    try {
      const saved = await this.#client.call('settings.update', { theme });
      if (this.#themeWrites === 1) this.#showTheme(saved.theme);
    } catch (err) {
      if (this.#themeWrites === 1) this.#showTheme(before);
      this.#report('The theme could not be saved', err);
    } finally {
      this.#themeWrites--;
    }
  }

  /** Saves the thread override (null: automatic); models loaded from now on use it. */
  async setThreads(threads: number | null): Promise<void> {
    const before = this.threads;
    this.threads = threads;
    try {
      this.threads = (await this.#client.call('settings.update', { threads })).threads;
    } catch (err) {
      this.threads = before;
      this.#report('The thread setting could not be saved', err);
    }
  }

  dismissProblem(): void {
    this.problem = null;
  }

  #followLocation(): void {
    const panel = panelFromHash(location.hash);
    // An empty or unknown hash becomes the default panel's, without adding a history entry.
    if (panel === null) history.replaceState(history.state, '', panelHash(DEFAULT_PANEL));
    this.route = panel ?? DEFAULT_PANEL;
  }

  #showTheme(theme: Theme): void {
    this.theme = theme;
    applyTheme(theme);
  }

  #onConnectionState(state: ConnectionState): void {
    if (state !== 'open') {
      this.connection = this.#hasConnected ? 'reconnecting' : 'connecting';
      return;
    }
    this.connection = 'connected';
    // Events pushed while the socket was down are lost: ask for what they would have said.
    if (this.#hasConnected) void Promise.all([this.#loadSettings(), this.#refreshEngine()]);
    this.#hasConnected = true;
  }

  async #loadInfo(): Promise<void> {
    try {
      this.info = await this.#client.call('app.info', {});
    } catch (err) {
      this.#report('App information could not be read', err);
    }
  }

  async #loadSettings(): Promise<void> {
    try {
      const settings = await this.#client.call('settings.get', {});
      if (this.#themeWrites === 0) this.#showTheme(settings.theme);
      this.threads = settings.threads;
    } catch (err) {
      this.#report('Settings could not be read', err);
    }
  }

  async #refreshEngine(): Promise<void> {
    const eventsBefore = this.#engineEvents;
    try {
      const status = await this.#client.call('engine.status', {});
      if (this.#engineEvents === eventsBefore) this.engine = status;
    } catch (err) {
      // A dropped socket already shows as the connection state, and the next refresh retries.
      if (err instanceof EmergentError && err.code === 'TRANSPORT_CLOSED') return;
      this.#report('The engine status could not be read', err);
    }
  }

  #report(what: string, err: unknown): void {
    this.problem = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  }
}
