// Shared by the image codec tests: deterministic images, and Pillow (/usr/bin/python3) as the judge.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const JUDGE = fileURLToPath(new URL('./pil_judge.py', import.meta.url));

/**
 * Photo-like RGBA (opaque): overlapping low-frequency waves and gradients, a fine texture and +-4
 * deterministic grain, so JPEG has real detail to lose (our q90 is ~43 dB PSNR-Y on it, q30 ~34).
 */
export function smoothImage(width, height) {
  const data = new Uint8Array(width * height * 4);
  let seed = 12345;
  const grain = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return ((seed >>> 16) % 9) - 4; };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      const u = x / width, v = y / height;
      const texture = 14 * Math.sin(x * 0.9) * Math.sin(y * 0.7);
      data[p] = 128 + 80 * Math.sin(6.1 * u + 2.3 * v) + 30 * Math.cos(11 * v) + texture + grain();
      data[p + 1] = 120 + 70 * Math.sin(4.3 * v - 3.1 * u + 1) + 25 * Math.sin(17 * u * v) + texture + grain();
      data[p + 2] = 110 + 60 * Math.cos(5.7 * u * u + 3.3 * v) + 20 * Math.sin(9 * u) + texture + grain();
      data[p + 3] = 255;
    }
  }
  return { data, width, height };
}

/** xorshift noise in every byte (alpha too); `stride` may exceed width*4 (padding is noise as well). */
export function noiseImage(width, height, seed = 1, stride = width * 4) {
  const data = new Uint8Array(stride * height);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    data[i] = x >>> 24;
  }
  return { data, width, height, stride };
}

/** A flat UI-like image: panels, borders and "text" strokes in a few colours (opaque). */
export function flatImage(width, height) {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      let c = [246, 247, 249];
      if (y < 12) c = [32, 41, 58];
      else if (x % 50 === 0 || y % 40 === 0) c = [224, 227, 232];
      else if ((y % 40) > 20 && (y % 40) < 28 && (x % 7) < 4 && (x % 50) < 40) c = [60, 64, 67];
      data.set(c, p);
      data[p + 3] = 255;
    }
  }
  return { data, width, height };
}

/** The packed RGBA rows of an image (drops stride padding). */
export function packed(img) {
  const { width, height } = img;
  const stride = img.stride || width * 4;
  if (stride === width * 4) return new Uint8Array(img.data.buffer, img.data.byteOffset, width * height * 4);
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) out.set(img.data.subarray(y * stride, y * stride + width * 4), y * width * 4);
  return out;
}

/** PSNR of BT.601 luma between two packed RGBA buffers. */
export function psnrY(a, b) {
  let se = 0;
  const n = a.length / 4;
  for (let i = 0; i < a.length; i += 4) {
    const d = 0.299 * (a[i] - b[i]) + 0.587 * (a[i + 1] - b[i + 1]) + 0.114 * (a[i + 2] - b[i + 2]);
    se += d * d;
  }
  return se === 0 ? 99 : 10 * Math.log10((255 * 255 * n) / se);
}

/** A temporary directory, removed by the returned cleanup function. */
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'ck-image-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function python(args) {
  return execFileSync('/usr/bin/python3', [JUDGE, ...args], { encoding: 'utf8' });
}

/** Pillow's view of an encoded file against the reference image (see pil_judge.py judge). */
export function pillowJudge(dir, fileBytes, ref, name = 'out') {
  const file = join(dir, `${name}.bin`), raw = join(dir, `${name}.rgba`);
  writeFileSync(file, fileBytes);
  writeFileSync(raw, packed(ref));
  return JSON.parse(python(['judge', file, raw, String(ref.width), String(ref.height)]));
}

/** The reference image encoded by Pillow as `kind` (see pil_judge.py encode). */
export function pillowEncode(dir, ref, kind) {
  const raw = join(dir, `ref-${kind}.rgba`), out = join(dir, `pil-${kind}.bin`);
  writeFileSync(raw, packed(ref));
  python(['encode', raw, String(ref.width), String(ref.height), out, kind]);
  return new Uint8Array(readFileSync(out));
}

/** Pillow's decoding of a file, as packed RGBA. */
export function pillowDecode(dir, fileBytes, name = 'dec') {
  const file = join(dir, `${name}.bin`), raw = join(dir, `${name}.rgba`);
  writeFileSync(file, fileBytes);
  const info = JSON.parse(python(['decode', file, raw]));
  return { ...info, data: new Uint8Array(readFileSync(raw)) };
}
