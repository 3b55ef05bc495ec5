// Audio: the wasm libopus encoder (OpusEncoder, wasm/audio/opus_encoder.h) in Node (the one build the
// audio module ships; a -msimd128 libopus measured within the noise of it), mono and stereo at 48 kHz, 20 ms frames, complexity 10 (libopus's default) and 5: encode
// speed as × real time (seconds of audio encoded per second of CPU), median of the runs, on 10 s of the
// tests' signal (a 440 Hz sine with clicks, tests/node/audio/audio-fixtures.mjs) plus a speech-like
// band of noise. Beside it, the size (gzip -9) of what audio adds to a page next to the video module.
// The comparison with the browser's AudioEncoder runs in Chromium (the recorder's benchmark), not here.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { OpusEncoder } from '../js-glue/audio/opus-encoder.js';
import { loadAudioVariant } from '../js-glue/audio.js';
import { sineWithClicks } from '../tests/node/audio/audio-fixtures.mjs';
import { fmt, measure, table } from './timing.js';

const SECONDS = 10;

function signal(channels) {
  const { pcm } = sineWithClicks(SECONDS, 48000, channels);
  // Add a noise band so the encoder has something other than a tone to spend bits on.
  let x = 12345;
  for (let i = 0; i < pcm.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    pcm[i] += ((x / 4294967296) - 0.5) * 0.1;
  }
  return pcm;
}

const gz = (file) => gzipSync(readFileSync(new URL(`../dist/${file}`, import.meta.url)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;

export default async function run({ report }) {
  const rows = [];
  for (const simd of [false]) {
    const module = await loadAudioVariant(simd);
    for (const channels of [1, 2]) {
      const pcm = signal(channels);
      for (const complexity of [10, 5]) {
        let bytes = 0;
        const t = measure(() => {
          const enc = new OpusEncoder(module, { sampleRate: 48000, channels, bitrate: 0, frameMs: 20, application: 'audio', complexity });
          try {
            bytes = 0;
            for (let at = 0; at < pcm.length; at += 4800 * channels) {
              for (const p of enc.encode(pcm.subarray(at, at + 4800 * channels))) bytes += p.data.length;
            }
            for (const p of enc.flush()) bytes += p.data.length;
          } finally {
            enc.close();
          }
        }, { warmup: 1, runs: 5 });
        rows.push([channels === 1 ? 'mono' : 'stereo', complexity, fmt(t, 0),
          `${fmt((SECONDS * 1000) / t, 0)}×`, fmt((bytes * 8) / SECONDS / 1000, 1)]);
      }
    }
  }
  report('Audio: wasm libopus encode speed (Node, 48 kHz, 20 ms frames, 10 s of audio)',
    table(['channels', 'complexity', 'ms for 10 s', '× real time', 'kb/s out'], rows) +
    '\n\nThe browser\'s AudioEncoder (Opus) is compared in Chromium by the recorder benchmark.');

  const sizes = [
    ['capturekit-audio (libopus encoder + glue)', 'capturekit-audio.wasm', 'capturekit-audio.mjs'],
    ['capturekit-video (libvpx + libwebm + glue)', 'capturekit-video.wasm', 'capturekit-video.mjs'],
    ['capturekit-video, SIMD build', 'capturekit-video-simd.wasm', 'capturekit-video-simd.mjs'],
  ].map(([name, wasm, glue]) => [name, kb(gz(wasm)), kb(gz(glue)), kb(gz(wasm) + gz(glue))]);
  report('Audio: module sizes (gzip -9), loaded only when PCM is encoded in wasm',
    table(['module', 'wasm', 'JS glue', 'total'], sizes) +
    '\n\nA recording without audio, or whose audio the browser\'s AudioEncoder encodes, loads only the video module.');
}
