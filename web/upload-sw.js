// capturekit upload service worker: finishes uploads with Background Sync after the page is closed,
// where the browser has it (Chromium; elsewhere the next page load resumes the queue by itself).
//
// Bundle it with your app like any service worker that imports packages (it reaches `idb` through the
// IndexedDB store), serve the bundle from your origin and register it as a module worker:
//   navigator.serviceWorker.register('/upload-sw.js?wasm=/assets/capturekit-upload.wasm', { type: 'module' });
//   createUploader({ transport, backgroundSync: { persistToken: true } });
// The page's uploader stores its transport description (describe()) and, with persistToken, its token in
// IndexedDB, and registers the sync tag 'capturekit-upload:<name>' whenever work is pending or the
// connection drops. On 'sync' this worker runs the same Uploader against the same IndexedDB: it takes the
// upload lock only if no page holds it (Web Locks), so a page and the worker never upload at once.
// Query parameter `wasm`: where the upload module's .wasm is (default ../dist/capturekit-upload.wasm next to
// this file). The worker loads only that module: SHA-256, the chunk buffer and the queue.
import uploadFactory from '../dist/capturekit-upload.mjs';
import { initUpload } from '../js-glue/upload.js';
import { createUploader } from '../js-glue/upload/uploader.js';
import { createIdbStore } from '../js-glue/upload/store.js';
import { QueueStore } from '../js-glue/upload/queue-store.js';
import { transportFromDescription } from '../js-glue/upload/transports/index.js';

export const SYNC_PREFIX = 'capturekit-upload:';

function wasmUrl() {
  const q = new URL(self.location.href).searchParams.get('wasm');
  return q ? new URL(q, self.location.href) : new URL('../dist/capturekit-upload.wasm', import.meta.url);
}

/**
 * Runs the uploader of queue `name` until nothing is pending. Resolves true when done (or when a page is
 * uploading, which then finishes the work), false when time ran out with work left.
 */
export async function runBackgroundSync(name, { timeoutMs = 4 * 60 * 1000 } = {}) {
  const store = createIdbStore({ name: `capturekit-upload-${name}` });
  await store.open();
  let up = null;
  try {
    const config = await new QueueStore(store).config();
    if (!config || !config.transport) return true; // no page ever configured Background Sync for this queue
    await initUpload({ factory: uploadFactory, wasm: wasmUrl() });
    up = createUploader({
      name,
      store,
      transport: transportFromDescription(config.transport),
      token: config.token || '',
      queue: config.queue || {},
      retain: config.retain,
      keepCompleted: config.keepCompleted,
      minPartSize: config.minPartSize,
      persistStorage: false,
      backgroundSync: false,
      onlineEvents: self,
    });
    await up.ready;
    const startedAt = Date.now();
    const leader = up.role === 'leader';
    const idle = leader ? await up.runUntilIdle({ timeoutMs }) : true; // not leader: a page leads and uploads
    await logRun(store, { startedAt, endedAt: Date.now(), leader, idle, uploaded: up.getProgress().uploaded });
    return idle;
  } finally {
    if (up) await up.close();
    store.close();
  }
}

// The last runs, kept in the queue's store (its sync log) for the app and for debugging.
async function logRun(raw, entry) {
  const store = new QueueStore(raw);
  const log = await store.syncLog();
  log.push(entry);
  await store.commit([store.syncLogOp(log.slice(-20))]);
}

self.addEventListener('install', () => { self.skipWaiting(); });
self.addEventListener('activate', (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener('sync', (event) => {
  if (typeof event.tag !== 'string' || !event.tag.startsWith(SYNC_PREFIX)) return;
  const name = event.tag.slice(SYNC_PREFIX.length);
  event.waitUntil(runBackgroundSync(name).then((done) => {
    // Rejecting asks the browser to fire the sync again later (with its own backoff).
    if (!done) throw new Error('capturekit: uploads remain after this Background Sync run');
  }));
});

// A page can ask for a run where Background Sync is missing but the page is about to go away.
self.addEventListener('message', (event) => {
  const d = event.data;
  if (d && d.type === 'capturekit-upload-run' && typeof d.name === 'string') {
    event.waitUntil(runBackgroundSync(d.name).catch(() => {}));
  }
});
