// The upload transports behind one adapter interface (see http.js for the interface).
import { createRestTransport } from './rest.js';
import { createTusTransport } from './tus.js';
import { createMultipartTransport } from './multipart.js';
import { createS3Transport } from './s3.js';

export { createRestTransport, createTusTransport, createMultipartTransport, createS3Transport };
export { UploadError, httpRequest, kindForStatus, parseRetryAfter } from './http.js';

/** Videos through one transport, screenshots through another (e.g. tus for videos, multipart for screenshots). */
export function combineTransports({ video, screenshot }) {
  for (const [k, t] of [['video', video], ['screenshot', screenshot]]) {
    if (!t || typeof t.init !== 'function' || typeof t.uploadScreenshot !== 'function') {
      throw new TypeError(`combineTransports: ${k} must be a transport (createRestTransport, createTusTransport, ...)`);
    }
  }
  return {
    name: `${video.name}+${screenshot.name}`,
    supports: { video: !!video.supports?.video, screenshot: !!screenshot.supports?.screenshot },
    ...(video.capabilities ? { capabilities: { ...video.capabilities } } : {}), // recordings go through `video`
    init: (ctx) => video.init(ctx),
    uploadPart: (ctx) => video.uploadPart(ctx),
    listParts: (ctx) => video.listParts(ctx),
    finalize: (ctx) => video.finalize(ctx),
    uploadScreenshot: (ctx) => screenshot.uploadScreenshot(ctx),
    describe: () => ({ protocol: 'combined', video: video.describe(), screenshot: screenshot.describe() }),
  };
}

/** Rebuilds a transport from describe()'s JSON (the service worker does this with what the page stored). */
export function transportFromDescription(d, extra = {}) {
  if (!d || typeof d !== 'object') throw new TypeError('transportFromDescription: a description object is required');
  switch (d.protocol) {
    case 'rest': return createRestTransport({ ...d, ...extra });
    case 'tus': return createTusTransport({ ...d, ...extra });
    case 'multipart': return createMultipartTransport({ ...d, ...extra });
    case 's3': return createS3Transport({ ...d, ...extra });
    case 'combined': return combineTransports({ video: transportFromDescription(d.video, extra), screenshot: transportFromDescription(d.screenshot, extra) });
    default: throw new RangeError(`transportFromDescription: unknown protocol ${JSON.stringify(d.protocol)}`);
  }
}
