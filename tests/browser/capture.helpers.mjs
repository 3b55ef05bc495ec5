// Shared by the capture / XR / Vite browser tests: decoding with Pillow (an independent judge) and
// checking colour bands.
import { execFileSync } from 'node:child_process';

const PY = `
import sys, io, json, base64
from PIL import Image
im = Image.open(io.BytesIO(sys.stdin.buffer.read()))
fmt = im.format
im = im.convert('RGBA')
sys.stdout.write(json.dumps({'format': fmt, 'width': im.width, 'height': im.height, 'rgba': base64.b64encode(im.tobytes()).decode()}))
`;

/** Decodes PNG/JPEG bytes (Buffer or base64 string) with Pillow: { format, width, height, data }. */
export function decodeWithPillow(bytes) {
  const input = typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : Buffer.from(bytes);
  const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', PY], { input, maxBuffer: 1 << 30 }).toString());
  return { format: out.format, width: out.width, height: out.height, data: Buffer.from(out.rgba, 'base64') };
}

export function pixel(img, x, y) {
  const i = (y * img.width + x) * 4;
  return [img.data[i], img.data[i + 1], img.data[i + 2], img.data[i + 3]];
}

/**
 * Checks that `img` shows `bands` (RGB triples) top to bottom, sampling the middle of each band
 * (away from the edges, where JPEG blurs): every channel within `tol`. Returns a list of mismatches.
 */
export function bandMismatches(img, bands, { tol = 0, alpha = 255, columns = [0.1, 0.5, 0.9] } = {}) {
  const bad = [];
  const bh = img.height / bands.length;
  bands.forEach((c, i) => {
    for (const fy of [0.3, 0.5, 0.7]) {
      const y = Math.floor((i + fy) * bh);
      for (const fx of columns) {
        const x = Math.floor(fx * (img.width - 1));
        const p = pixel(img, x, y);
        const want = [...c, alpha];
        if (p.some((v, k) => Math.abs(v - want[k]) > tol)) bad.push({ band: i, x, y, got: p, want });
      }
    }
  });
  return bad;
}

/**
 * Every pixel of every band exactly (PNG): counts pixels that differ. When the band height is not
 * whole, the row at each fractional boundary may belong to either band and is skipped.
 */
export function exactBandErrors(img, bands) {
  let errors = 0;
  const bh = img.height / bands.length;
  for (let y = 0; y < img.height; y++) {
    if (!Number.isInteger(bh) && Math.floor(y / bh) !== Math.floor((y + 1) / bh)) continue;
    const band = bands[Math.min(bands.length - 1, Math.floor(y / bh))];
    for (let x = 0; x < img.width; x++) {
      const p = pixel(img, x, y);
      if (p[0] !== band[0] || p[1] !== band[1] || p[2] !== band[2] || p[3] !== 255) errors++;
    }
  }
  return errors;
}
