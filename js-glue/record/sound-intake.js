// Where a recording's sound meets its time line: the audio input's chunks (sources/audio.js) are put on
// the recording's time line (pauses taken out, through the same Timeline as the frames) and handed to
// the backend: AudioData to the webcodecs backend (AudioEncoder), PCM batches to the wasm backend (the
// record Worker's libopus). While the recording stops, the sound heard before stop() still comes in
// (audio arrives in batches), and stop() waits for it (half a second at most).
import { PCM_SAMPLE_RATE } from './sources/pcm-capture.js';

const EARLY_BATCHES = 400; // wasm: PCM held until the backend is open (4 s of 10 ms batches)

export class SoundIntake {
  #audio;
  #hooks;
  #early = [];
  #caughtUp = null;
  #untilUs = Infinity;
  /** Page time (µs) up to which sound has come in. */
  endUs = null;

  /**
   * @param {import('./sources/audio.js').AudioInput} audio
   * @param {{live(pageUs: number): boolean, map(pageUs: number): number|null, backend(): object|null,
   *   onerror(err: Error): void, onended(): void}} hooks
   */
  constructor(audio, hooks) {
    this.#audio = audio;
    this.#hooks = hooks;
  }

  /** Whether PCM capture (wasm) has started. */
  get capturing() { return this.#audio.capturingPcm; }

  #arrived(pageUs, seconds) {
    this.endUs = pageUs + seconds * 1e6;
    if (this.endUs >= this.#untilUs) this.#caughtUp?.();
  }

  /** webcodecs: AudioData to backend.encodeAudio(ad, t); the track's end to backend.endAudio(). */
  startEncoded() {
    const h = this.#hooks;
    this.#audio.start(
      (ad, pageUs) => {
        const t = h.live(pageUs) ? h.map(pageUs) : null;
        const backend = h.backend();
        if (t === null || !backend) { ad.close(); return; }
        this.#arrived(pageUs, ad.numberOfFrames / ad.sampleRate);
        backend.encodeAudio(ad, t);
      },
      (err) => h.onerror(err),
      () => {
        h.backend()?.endAudio();
        h.onended();
      },
    );
  }

  /** wasm: PCM batches (48 kHz) to backend.encodeAudio(planes, t), held until the backend is open. */
  startPcm() {
    const h = this.#hooks;
    return this.#audio.startPcm(this.#audio.channels,
      (planes, pageUs) => {
        const t = h.live(pageUs) ? h.map(pageUs) : null;
        if (t === null) return;
        const backend = h.backend();
        if (backend) backend.encodeAudio(planes, t);
        else {
          this.#early.push({ planes, t });
          if (this.#early.length > EARLY_BATCHES) this.#early.shift();
        }
        this.#arrived(pageUs, planes[0].length / PCM_SAMPLE_RATE);
      },
      (err) => h.onerror(err),
      () => h.onended());
  }

  /** wasm: the backend just opened: the sound captured before it goes in first. */
  flushEarly(backend) {
    for (const e of this.#early.splice(0)) backend.encodeAudio(e.planes, e.t);
  }

  /** Resolves once the sound up to page time `untilUs` has come in, or after `maxMs`. */
  async caughtUp(untilUs, maxMs = 500) {
    if (this.endUs >= untilUs) return;
    this.#untilUs = untilUs;
    await new Promise((resolve) => {
      this.#caughtUp = resolve;
      setTimeout(resolve, maxMs);
    });
  }
}
