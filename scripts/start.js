#!/usr/bin/env node
/**
 * `npm start`: the desktop app when Electron can run here, the headless shell in the browser
 * otherwise. `npm install` never downloads Electron's binary (package.json allowScripts keeps
 * electron's install script from running, since it fails the whole install offline), so the
 * first start fetches it, once.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);

function ensureBuilt() {
  if (fs.existsSync(path.join(root, 'dist', 'electron', 'cli', 'index.js')) && fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

/** The Electron executable, downloading it first if needed; or the reason it cannot run. */
function electronExecutable() {
  const electronDir = path.join(root, 'node_modules', 'electron');
  if (!fs.existsSync(path.join(electronDir, 'install.js'))) return { reason: 'the electron package is not installed' };
  const findBinary = () => {
    try {
      const binary = require('electron');
      return typeof binary === 'string' && fs.existsSync(binary) ? binary : null;
    } catch {
      return null;
    }
  };
  let binary = findBinary();
  if (!binary) {
    process.stderr.write('Fetching the Electron binary (first start only)...\n');
    const install = spawnSync(process.execPath, ['install.js'], {
      cwd: electronDir,
      encoding: 'utf8',
      timeout: 5 * 60_000,
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
    });
    binary = findBinary();
    if (!binary) {
      const detail = `${install.stderr ?? ''}${install.error?.message ?? ''}`;
      const firstLine = detail.split('\n').find((line) => /error|ENOTFOUND|EAI_AGAIN|ECONN/i.test(line)) ?? 'download failed';
      return { reason: `its binary could not be downloaded (${firstLine.trim()})` };
    }
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  }
  return { binary };
}

ensureBuilt();
const electron = electronExecutable();
if ('binary' in electron) {
  const child = spawn(electron.binary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
} else {
  process.stderr.write(
    `\nEmergent could not start as a desktop app: Electron cannot run on this machine because ${electron.reason}. ` +
      'It is starting in your browser instead, with everything the desktop app has; the address it prints below ' +
      'opens it (a browser opens by itself when there is one). To get the desktop window later, make the ' +
      'download reachable (or set ELECTRON_MIRROR to a mirror you can reach), run ' +
      '`node node_modules/electron/install.js`, and `npm start` again.\n\n',
  );
  const child = spawn(process.execPath, [path.join(root, 'bin', 'emergent.js'), 'serve', ...process.argv.slice(2)], { stdio: 'inherit' });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code) => process.exit(code ?? 0));
}
