// Text watermarks (browser only): the text is rasterised by the browser's canvas (fonts, shaping
// and anti-aliasing are the browser's job) into an RGBA mark, which the wasm composite blends.
import { MAX_SIDE, checkNumber } from '../validate.js';
import { composite, compositeOptions } from './composite.js';

function canvas(width, height) {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(width, height);
  if (typeof document === 'object' && document && typeof document.createElement === 'function') {
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    return c;
  }
  throw new Error('capturekit: text watermarks need a browser canvas (OffscreenCanvas or document), ' +
    'and this runtime (Node?) has neither; composite() an RGBA mark you rendered yourself instead');
}

function checkString(v, name, { empty = false } = {}) {
  if (typeof v !== 'string') throw new TypeError(`${name} must be a string, got ${v === null ? 'null' : typeof v}`);
  if (!empty && v.length === 0) throw new RangeError(`${name} must not be empty`);
  return v;
}

function textOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`textWatermark: options must be an object { text, font?, color?, shadow? }, got ${options === null ? 'null' : typeof options}`);
  }
  const { text, font = '24px sans-serif', color = 'rgba(255, 255, 255, 0.85)', shadow } = options;
  checkString(text, 'textWatermark: text');
  checkString(font, 'textWatermark: font');
  checkString(color, 'textWatermark: color');
  let s = null;
  if (shadow !== undefined && shadow !== null && shadow !== false) {
    const o = shadow === true ? {} : shadow;
    if (typeof o !== 'object') throw new TypeError(`textWatermark: shadow must be an object { color?, blur?, offsetX?, offsetY? } or true, got ${typeof o}`);
    s = {
      color: checkString(o.color ?? 'rgba(0, 0, 0, 0.6)', 'textWatermark: shadow.color'),
      blur: checkNumber(o.blur ?? 2, 'textWatermark: shadow.blur', { min: 0, max: 100 }),
      offsetX: checkNumber(o.offsetX ?? 1, 'textWatermark: shadow.offsetX', { min: -100, max: 100 }),
      offsetY: checkNumber(o.offsetY ?? 1, 'textWatermark: shadow.offsetY', { min: -100, max: 100 }),
    };
  }
  return { text, font, color, shadow: s };
}

/**
 * Renders text into a tightly sized RGBA mark (straight alpha, as getImageData returns it).
 * Needs OffscreenCanvas or a document (throws an Error in Node).
 * @param {{text: string, font?: string, color?: string,
 *          shadow?: true|{color?: string, blur?: number, offsetX?: number, offsetY?: number}}} options
 *   font is a CSS font ('24px sans-serif' by default), color a CSS colour (translucent white by default).
 * @returns {{data: Uint8ClampedArray, width: number, height: number}}
 */
export function renderTextMark(options) {
  const { text, font, color, shadow } = textOptions(options);
  const ctx = canvas(1, 1).getContext('2d');
  ctx.font = font;
  const m = ctx.measureText(text);
  const ascent = Math.ceil(m.actualBoundingBoxAscent ?? m.fontBoundingBoxAscent ?? 0);
  const descent = Math.ceil(m.actualBoundingBoxDescent ?? m.fontBoundingBoxDescent ?? 0);
  const left = Math.ceil(m.actualBoundingBoxLeft ?? 0);
  const right = Math.ceil(m.actualBoundingBoxRight ?? m.width);
  // Room for anti-aliasing and the shadow on every side.
  const pad = 1 + (shadow ? Math.ceil(shadow.blur * 2 + Math.max(Math.abs(shadow.offsetX), Math.abs(shadow.offsetY))) : 0);
  const width = Math.min(MAX_SIDE, Math.max(1, left + right + 2 * pad));
  const height = Math.min(MAX_SIDE, Math.max(1, ascent + descent + 2 * pad));
  const c = canvas(width, height);
  const g = c.getContext('2d');
  g.font = font;
  g.fillStyle = color;
  g.textBaseline = 'alphabetic';
  if (shadow) {
    g.shadowColor = shadow.color;
    g.shadowBlur = shadow.blur;
    g.shadowOffsetX = shadow.offsetX;
    g.shadowOffsetY = shadow.offsetY;
  }
  g.fillText(text, pad + left, pad + ascent);
  const { data } = g.getImageData(0, 0, width, height);
  return { data, width, height };
}

/**
 * Draws text over an image as a watermark: renderTextMark() then composite(). Browser only.
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @param {{text: string, font?: string, color?: string, shadow?: true|object,
 *          position?: string, margin?: number, opacity?: number}} options
 * @returns {{data: Uint8ClampedArray, width: number, height: number, stride: number}}
 */
export function textWatermark(image, options) {
  const place = compositeOptions(options === null || typeof options !== 'object' ? undefined : {
    position: options.position, margin: options.margin, opacity: options.opacity,
  });
  return composite(image, renderTextMark(options), place);
}
