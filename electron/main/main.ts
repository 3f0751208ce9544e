/**
 * The Electron shell: app lifecycle, the one window, and the IPC binding. Security decisions
 * live in policy.ts and the binding in ipc.ts (both tested in plain Node); this file wires them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell, type WebContents } from 'electron';
import { createService, type Service } from '../core/service.js';
import { packageRoot, rendererDistDir } from '../core/version.js';
import { APP_NAME } from '../core/paths.js';
import { CONTENT_SECURITY_POLICY } from '../common/security.js';
import { bindContractToIpc, forwardEvents } from './ipc.js';
import {
  APP_ORIGIN_URL,
  APP_SCHEME,
  contentTypeOf,
  isAppDownload,
  isAppUrl,
  isExternalLinkAllowed,
  isTrustedSender,
  resolveAppFile,
} from './policy.js';

app.setName(APP_NAME);
const dataDirOverride = process.env['EMERGENT_DATA_DIR'];
if (dataDirOverride) app.setPath('userData', path.resolve(dataDirOverride));

// A second launch focuses the running window instead of opening a second store.
if (!app.requestSingleInstanceLock()) {
  app.quit();
  process.exit(0);
}

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

let mainWindow: BrowserWindow | null = null;
let service: Service | null = null;

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    title: APP_NAME,
    show: false,
    webPreferences: {
      preload: path.join(packageRoot(), 'dist', 'preload', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      // Middle-click must not open links in new windows behind the window-open handler's back.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(`${APP_ORIGIN_URL}index.html`);
  return window;
}

function serveRenderer(): void {
  const rendererDir = rendererDistDir();
  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(rendererDir, request.url);
    if (file === null || !fs.existsSync(file)) return new Response('Not found', { status: 404 });
    return new Response(await fs.promises.readFile(file), {
      headers: {
        'Content-Type': contentTypeOf(file),
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });
}

function hardenWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLinkAllowed(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

app.on('second-instance', () => {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
});

void app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  // Export saves a blob the renderer made (Electron asks where, with its save dialog).
  session.defaultSession.on('will-download', (event, item) => {
    if (!isAppDownload(item.getURL())) event.preventDefault();
  });
  // The app:// handler sets the CSP too; this covers every other response the window might get.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  serveRenderer();
  Menu.setApplicationMenu(null);

  try {
    service = await createService({ dataDir: app.getPath('userData'), shell: 'electron' });
  } catch (err) {
    // The store refused to open (a database from a newer Emergent, a damaged file): say so and stop.
    dialog.showErrorBox('Emergent cannot open its data', err instanceof Error ? err.message : String(err));
    app.exit(1);
    return;
  }
  const opened = service;
  bindContractToIpc(ipcMain, opened.implementation, (event) =>
    isTrustedSender(event.senderFrame, mainWindow?.webContents.mainFrame),
  );
  forwardEvents(opened.events, () => mainWindow?.webContents ?? null);

  mainWindow = createWindow();
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('activate', () => {
  if (app.isReady() && !mainWindow) mainWindow = createWindow();
});

// Dispose models and close the store before the process goes away.
let disposed = false;
app.on('before-quit', (event) => {
  if (disposed || !service) return;
  event.preventDefault();
  const closing = service;
  service = null;
  void closing.dispose().finally(() => {
    disposed = true;
    app.quit();
  });
});
