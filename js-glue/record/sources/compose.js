// composeStreams({ screen, camera, layout, fps }): picture in picture. The camera is drawn over the
// screen into a canvas at `fps` (the screen's size; the camera in a corner at a fraction of the
// screen's width, its own aspect ratio kept), the sound of both streams is mixed through Web Audio into
// one track, and the result is one MediaStream that createRecorder records like any other.
//
// What it owns and stop() ends: the drawing loop, the canvas's track, the audio mix; the screen's and
// camera's tracks too with { stopTracks: true } (recordScreen-style ownership). When the screen's video
// ends ("Stop sharing"), the composed video track ends with it, so a recorder of it finishes the file.
// A camera that ends leaves the screen alone.
const W = 'composeStreams';
const CORNERS = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];
const isStream = (s) => typeof MediaStream === 'function' && s instanceof MediaStream;

/** The layout with defaults: { corner: 'bottom-right', size: 0.25 (of the screen's width), margin: 16 (px) }. */
export function normalizeLayout(layout) {
  if (layout === undefined) layout = {};
  if (layout === null || typeof layout !== 'object') throw new TypeError(`${W}: layout must be an object { corner?, size?, margin? }`);
  for (const k of Object.keys(layout)) {
    if (!['corner', 'size', 'margin'].includes(k)) throw new TypeError(`${W}: unknown layout option "${k}" (known: corner, size, margin)`);
  }
  const corner = layout.corner === undefined ? 'bottom-right' : layout.corner;
  if (!CORNERS.includes(corner)) throw new RangeError(`${W}: layout.corner must be one of ${CORNERS.join(', ')}, got ${JSON.stringify(corner)}`);
  const size = layout.size === undefined ? 0.25 : layout.size;
  if (typeof size !== 'number' || !(size > 0 && size <= 1)) throw new RangeError(`${W}: layout.size (the camera's width as a fraction of the screen's) must be in (0, 1], got ${size}`);
  const margin = layout.margin === undefined ? 16 : layout.margin;
  if (typeof margin !== 'number' || !Number.isFinite(margin) || margin < 0) throw new RangeError(`${W}: layout.margin (pixels) must be a number >= 0, got ${margin}`);
  return { corner, size, margin };
}

/** Where the camera goes on a screen of w x h: { x, y, width, height } (even, whole pixels). */
export function cameraRect(layout, w, h, camW, camH) {
  const width = Math.max(2, Math.round((w * layout.size) / 2) * 2);
  const height = Math.max(2, Math.round((width * (camH || 3)) / (camW || 4) / 2) * 2);
  const m = Math.round(layout.margin);
  const x = layout.corner.endsWith('left') ? m : w - width - m;
  const y = layout.corner.startsWith('top') ? m : h - height - m;
  return { x, y, width, height };
}

function playing(track) {
  const el = document.createElement('video');
  el.muted = true;
  el.playsInline = true;
  el.srcObject = new MediaStream([track]);
  const ready = new Promise((resolve, reject) => {
    if (el.readyState >= 2) { resolve(); return; }
    el.addEventListener('loadeddata', () => resolve(), { once: true });
    el.addEventListener('error', () => reject(new Error(`${W}: the ${track.label || track.kind} track cannot be played`)), { once: true });
  });
  el.play().catch(() => {});
  return { el, ready };
}

/**
 * A MediaStream of the camera over the screen with the sound of both; stop() ends what it owns.
 */
export class ComposedStream extends (typeof MediaStream === 'function' ? MediaStream : class {}) {
  #parts;

  /** @private use composeStreams() */
  constructor(tracks, parts) {
    super(tracks);
    this.#parts = parts;
    /** The canvas the picture is drawn into. */
    this.canvas = parts.canvas;
    /** The layout in use. */
    this.layout = parts.layout;
  }

  /** Where the camera is drawn now: { x, y, width, height } in the canvas. */
  get cameraRect() { return this.#parts.rect(); }

  /** The screen's and the camera's tracks (what stopTracks stops). */
  get inputs() { return this.#parts.inputs.slice(); }

  /** Stops drawing, the composed tracks and the mix (and the inputs' tracks with stopTracks). Idempotent. */
  stop() {
    const p = this.#parts;
    if (p.stopped) return;
    p.stopped = true;
    clearTimeout(p.timer);
    p.screen.track.removeEventListener('ended', p.onScreenEnded);
    for (const t of p.owned) t.stop();
    for (const v of [p.screen, p.camera]) if (v) { v.el.pause(); v.el.srcObject = null; }
    if (p.context) p.context.close().catch(() => {});
    if (p.stopTracks) for (const t of p.inputs) t.stop();
  }
}

/**
 * @param {{screen: MediaStream, camera: MediaStream, layout?: {corner?: string, size?: number, margin?: number},
 *   fps?: number, stopTracks?: boolean}} options
 * @returns {Promise<ComposedStream>} resolves once both videos play
 */
export async function composeStreams(options) {
  if (options === null || typeof options !== 'object') throw new TypeError(`${W}: options must be an object { screen, camera, layout?, fps?, stopTracks? }`);
  for (const k of Object.keys(options)) {
    if (!['screen', 'camera', 'layout', 'fps', 'stopTracks'].includes(k)) throw new TypeError(`${W}: unknown option "${k}" (known: screen, camera, layout, fps, stopTracks)`);
  }
  const { screen, camera } = options;
  if (!isStream(screen)) throw new TypeError(`${W}: options.screen must be a MediaStream (getDisplayMedia)`);
  if (!isStream(camera)) throw new TypeError(`${W}: options.camera must be a MediaStream (getUserMedia)`);
  const screenTrack = screen.getVideoTracks()[0];
  const cameraTrack = camera.getVideoTracks()[0];
  if (!screenTrack) throw new TypeError(`${W}: options.screen has no video track`);
  if (!cameraTrack) throw new TypeError(`${W}: options.camera has no video track`);
  if (screenTrack.readyState === 'ended') throw new Error(`${W}: the screen's video track has already ended`);
  const layout = normalizeLayout(options.layout);
  const fps = options.fps === undefined ? 30 : options.fps;
  if (typeof fps !== 'number' || !(fps >= 1 && fps <= 120)) throw new RangeError(`${W}: fps must be a number in 1..120, got ${fps}`);
  if (options.stopTracks !== undefined && typeof options.stopTracks !== 'boolean') throw new TypeError(`${W}: stopTracks must be a boolean`);
  if (typeof document === 'undefined' || typeof HTMLCanvasElement !== 'function') throw new Error(`${W}: needs a page (a canvas and video elements)`);

  const s = playing(screenTrack);
  const c = playing(cameraTrack);
  const parts = { screen: { track: screenTrack, el: s.el }, camera: { track: cameraTrack, el: c.el }, layout, stopped: false, timer: 0,
    context: null, stopTracks: !!options.stopTracks, inputs: [...screen.getTracks(), ...camera.getTracks()], rect: () => null };
  const cleanup = () => { for (const v of [s, c]) { v.el.pause(); v.el.srcObject = null; } parts.context?.close().catch(() => {}); };
  try {
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`${W}: the screen or the camera delivered no picture within 10 s`)), 10_000));
    await Promise.race([Promise.all([s.ready, c.ready]), timeout]);
  } catch (err) {
    cleanup();
    throw err;
  }
  const canvas = document.createElement('canvas');
  canvas.width = s.el.videoWidth & ~1;
  canvas.height = s.el.videoHeight & ~1;
  parts.canvas = canvas;
  const g = canvas.getContext('2d', { alpha: false });
  parts.rect = () => cameraRect(layout, canvas.width, canvas.height, c.el.videoWidth, c.el.videoHeight);
  const draw = () => {
    if (parts.stopped) return;
    if (screenTrack.readyState === 'ended') { parts.onScreenEnded?.(); return; } // stopped by the page: no 'ended' event
    const t0 = performance.now();
    g.drawImage(s.el, 0, 0, canvas.width, canvas.height);
    if (cameraTrack.readyState === 'live' && c.el.videoWidth) {
      const r = parts.rect();
      g.drawImage(c.el, r.x, r.y, r.width, r.height);
    }
    parts.timer = setTimeout(draw, Math.max(0, 1000 / fps - (performance.now() - t0)));
  };
  draw();
  const video = canvas.captureStream(fps).getVideoTracks()[0];
  const tracks = [video];
  parts.owned = [video];

  // Sound: one track as it is; several mixed (48 kHz, stereo).
  const audio = [...screen.getAudioTracks(), ...camera.getAudioTracks()].filter((t) => t.readyState === 'live');
  if (audio.length === 1) tracks.push(audio[0]);
  else if (audio.length > 1) {
    try {
      const ctx = new AudioContext({ sampleRate: 48000 });
      parts.context = ctx;
      const dest = ctx.createMediaStreamDestination();
      dest.channelCount = 2;
      for (const t of audio) ctx.createMediaStreamSource(new MediaStream([t])).connect(dest);
      if (ctx.state !== 'running') await Promise.race([ctx.resume(), new Promise((r) => setTimeout(r, 1000))]);
      if (ctx.state !== 'running') throw new Error(`${W}: the browser keeps the audio mix (AudioContext) suspended until the user interacts with the page; compose from a click`);
      tracks.push(dest.stream.getAudioTracks()[0]);
      parts.owned.push(tracks[1]);
    } catch (err) {
      parts.stopped = true;
      clearTimeout(parts.timer);
      video.stop();
      cleanup();
      throw err;
    }
  }
  const out = new ComposedStream(tracks, parts);
  // "Stop sharing" the screen ends the picture: the composed video ends too (a recorder sees it end).
  parts.onScreenEnded = () => out.stop();
  screenTrack.addEventListener('ended', parts.onScreenEnded);
  return out;
}
