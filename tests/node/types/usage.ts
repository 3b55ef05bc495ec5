// Compiled (not run) by tests/node/types.test.mjs: the declarations must describe the API as the README uses it.
import {
  init, flipVertical, resize, encodeJpeg, decodeImage, captureCanvas, createRecorder, VideoWriter,
  createUploader, createRestTransport, createS3Transport, makeSeekable,
} from '../../../js-glue/index.js';

export async function usage(canvas: HTMLCanvasElement, bytes: Uint8Array<ArrayBuffer>) {
  await init();
  const img = decodeImage(bytes);
  const small = resize(flipVertical(img), { width: 640, height: 640, fit: 'contain' });
  const jpeg: Uint8Array = encodeJpeg(small, { quality: 85 });
  const shot = await captureCanvas(canvas, { format: 'image/png', maxSize: 1920 });
  const rec = await createRecorder(canvas, { backend: 'wasm', codec: 'vp8', fps: 30 });
  const result = await rec.stop();
  const w = await VideoWriter.create({ codec: 'vp9', width: 64, height: 64, fps: 30 });
  w.addFrame(small);
  await w.finish();
  const uploader = createUploader({ transport: createRestTransport({ baseUrl: '/api/v1' }) });
  const s3 = createS3Transport({ endpoint: '/s3/multipart' });
  const fixed = await makeSeekable(new Blob([bytes]));
  return { jpeg, shot, result, uploader, s3, fixed };
}
