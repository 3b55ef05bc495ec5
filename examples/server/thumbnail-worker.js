// The thumbnail worker (a worker_threads Worker started by thumbnails.js). It owns its own capturekit
// wasm core, so the memory a decode grows (wasm memory never shrinks) belongs to this thread and is
// given back when the pool ends the thread; and a slow decode never holds the server's event loop.
//
// One job at a time: { id, path | bytes, width, height, quality, maxPixels }
//   1. probeImage: format and size from the header, after the structure check; no pixel decoded;
//   2. width x height over maxPixels: answered as a 'budget' failure, nothing decoded;
//   3. decodeImage (with maxPixels, checked again in wasm before any allocation) -> thumbnail -> encodeJpeg.
// First message { ready: true } once the wasm is loaded. Answer: { id, ok: true, jpeg (transferred ArrayBuffer), width, height, sourceWidth, sourceHeight, pixels }
//      or { id, ok: false, kind: 'budget' | 'image' | 'unavailable', error, sourceWidth?, sourceHeight? }.
import { parentPort } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';

const glue = import('../../js-glue/index.js').then(async (m) => {
  await m.initImage(); // the image module only: a thumbnail needs no upload code
  parentPort.postMessage({ ready: true }); // from here on, time spent is the image's
  return m;
});
glue.catch(() => {}); // answered per job: a wasm that cannot load is no image's fault

const FORMAT_NAMES = { 'image/png': 'PNG', 'image/jpeg': 'JPEG' };

async function run(job) {
  let m;
  try {
    m = await glue;
  } catch (e) {
    return { ok: false, kind: 'unavailable', error: `capturekit wasm did not load: ${e.message}` };
  }
  const bytes = job.bytes ? new Uint8Array(job.bytes) : new Uint8Array(await readFile(job.path));
  let info;
  try {
    info = m.probeImage(bytes);
  } catch (e) {
    return { ok: false, kind: 'image', error: e.message };
  }
  const pixels = info.width * info.height;
  const source = { sourceWidth: info.width, sourceHeight: info.height };
  if (pixels > job.maxPixels) {
    const mpx = (n) => `${(n / 1e6).toFixed(1)} Mpx`;
    return {
      ok: false, kind: 'budget', ...source,
      error: `the ${FORMAT_NAMES[info.format] || 'image'} is ${info.width}x${info.height} (${mpx(pixels)}), over the thumbnail pixel budget of ${job.maxPixels} pixels (${mpx(job.maxPixels)})`,
    };
  }
  let image;
  try {
    image = m.decodeImage(bytes, { maxPixels: job.maxPixels });
  } catch (e) {
    return { ok: false, kind: 'image', error: e.message, ...source };
  }
  const small = await m.thumbnail(image, { width: job.width, height: job.height });
  const jpeg = await m.encodeJpeg(small, { quality: job.quality });
  const out = jpeg.buffer.byteLength === jpeg.byteLength ? jpeg.buffer : jpeg.slice().buffer;
  return { ok: true, jpeg: out, width: small.width, height: small.height, ...source, pixels };
}

parentPort.on('message', async (job) => {
  let answer;
  try {
    answer = await run(job);
  } catch (e) {
    answer = { ok: false, kind: 'image', error: e && e.message ? e.message : String(e) };
  }
  parentPort.postMessage({ id: job.id, ...answer }, answer.jpeg ? [answer.jpeg] : []);
});
