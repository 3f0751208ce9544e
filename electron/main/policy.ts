/**
 * The Electron shell's security decisions as plain functions, so they are tested in Node
 * without the Electron binary. main.ts only wires them to Electron's events.
 */
import path from 'node:path';

/** The renderer is loaded from this privileged, standard scheme, never from file://. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'emergent';
export const APP_ORIGIN_URL = `${APP_SCHEME}://${APP_HOST}/`;

/** True for URLs of our own renderer (app://emergent/...). */
export function isAppUrl(candidate: string): boolean {
  try {
    const url = new URL(candidate);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
  } catch {
    return false;
  }
}

/**
 * Downloads the window may start: files the renderer made itself (an exported conversation is
 * a blob: URL of our own origin). Anything else, a link in model output included, is refused.
 */
export function isAppDownload(candidate: string): boolean {
  if (!candidate.startsWith('blob:')) return false;
  return isAppUrl(candidate.slice('blob:'.length));
}

/** Links a person clicks may open in their browser only when they are https. */
export function isExternalLinkAllowed(candidate: string): boolean {
  try {
    return new URL(candidate).protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Maps an app:// request to a file inside the renderer folder, or null when the path would
 * escape it. Unknown extension-less paths fall back to index.html (client-side routes).
 */
export function resolveAppFile(rendererDir: string, requestUrl: string): string | null {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(requestUrl).pathname);
  } catch {
    return null;
  }
  const root = path.resolve(rendererDir);
  const relative = path.posix.normalize(pathname === '/' ? '/index.html' : pathname);
  const file = path.resolve(root, `.${relative}`);
  if (!file.startsWith(root + path.sep)) return null;
  return path.extname(file) === '' ? path.join(root, 'index.html') : file;
}

export interface SenderFrameLike {
  readonly url: string;
}

/**
 * An IPC call is trusted only from our window's main frame showing our own renderer; a
 * subframe, another window or a navigated page gets FORBIDDEN_SENDER.
 */
export function isTrustedSender(
  senderFrame: SenderFrameLike | null | undefined,
  mainFrame: SenderFrameLike | null | undefined,
): boolean {
  if (!senderFrame || !mainFrame || senderFrame !== mainFrame) return false;
  return isAppUrl(senderFrame.url);
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
}
