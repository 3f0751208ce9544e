import { spawn } from 'node:child_process';

/**
 * Opens a URL in the person's browser when there is one to open. Best effort: the URL has
 * already been printed, so a machine without a desktop loses nothing.
 */
export function openBrowser(url: string, platform: NodeJS.Platform = process.platform): boolean {
  let command: string;
  let args: string[];
  if (platform === 'darwin') {
    command = 'open';
    args = [url];
  } else if (platform === 'win32') {
    command = 'cmd';
    args = ['/c', 'start', '""', url];
  } else {
    if (!process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) return false;
    command = 'xdg-open';
    args = [url];
  }
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
