// Shared harness for browser tests: Debian's Chromium through playwright-core, and a static server
// for the repository on 127.0.0.1 (fixed port when a test needs a stable IndexedDB origin).
import { chromium } from 'playwright-core';
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

export function launchBrowser(options = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    ...options,
    args: [...CHROMIUM_ARGS, ...(options.args || [])],
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.webm': 'video/webm', '.svg': 'image/svg+xml',
};

/**
 * Serves files below `root` (default: the repository) on 127.0.0.1. `routes` maps a path to a handler
 * (req, res) for test-specific endpoints. Returns { server, url, close() }.
 */
export async function serveStatic({ root = ROOT, port = 0, routes = {} } = {}) {
  const server = http.createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (routes[path]) return routes[path](req, res);
    if (path === '/favicon.ico') { res.writeHead(204).end(); return; }
    const file = normalize(join(root, path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(normalize(root).replace(/\/$/, '') + sep) && file !== normalize(root)) {
      res.writeHead(403).end(); return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    server, url,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * Opens `url` in a new page of `context` and waits for the page's `window.ready`; page.errors collects
 * its uncaught errors (for pages that are opened again and again in one context, e.g. after a close).
 */
export async function openReadyPage(context, url) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => window.ready === true);
  return page;
}

/** Opens a page and collects its console errors and uncaught exceptions into page.errors. */
export async function openPage(browser, url, { contextOptions = {} } = {}) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  await page.goto(url);
  return page;
}

/**
 * Chromium's own <video> on a file's bytes (base64): its duration, what is seekable, where a seek to the
 * middle lands, and (play: true) how far 200 ms of playing from there got, with the picture's size.
 */
export function playInChromium(page, b64, { type = 'video/mp4', play = false } = {}) {
  return page.evaluate(async ([data, mime, andPlay]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const v = document.createElement('video');
    v.muted = true;
    document.body.appendChild(v);
    const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
    const once = (ev) => new Promise((resolve, reject) => {
      v.addEventListener(ev, resolve, { once: true });
      v.addEventListener('error', () => reject(new Error(`video error ${v.error?.code}: ${v.error?.message}`)), { once: true });
    });
    const loaded = once('loadedmetadata');
    v.src = url;
    await loaded;
    const duration = v.duration;
    const seekable = v.seekable.length ? [v.seekable.start(0), v.seekable.end(v.seekable.length - 1)] : null;
    const seeked = once('seeked');
    v.currentTime = duration / 2;
    await seeked;
    const at = v.currentTime;
    let played = null;
    if (andPlay) {
      await v.play();
      await new Promise((r) => setTimeout(r, 200));
      played = v.currentTime;
      v.pause();
    }
    const size = { width: v.videoWidth, height: v.videoHeight };
    URL.revokeObjectURL(url);
    v.remove();
    return { duration, seekable, at, ...(andPlay ? { played, ...size } : {}) };
  }, [b64, type, play]);
}
