// Sound as PCM for the wasm backend (libopus in the record Worker): the audio track goes through an
// AudioContext running at 48 kHz into an AudioWorklet (sources/pcm-tap-worklet.js) that posts batches
// of 10 ms of Float32 samples per channel. This works wherever Web Audio does, WebCodecs or not.
//
// The rate is chosen, not inherited: Opus takes 8, 12, 16, 24 or 48 kHz, and microphones deliver 44.1
// kHz as often as 48 kHz (Chromium's fake one: 44.1 kHz unless fed a file), so the context runs at 48 kHz
// and Web Audio resamples whatever the track delivers. The channels are the recording's (1 or 2): the
// worklet node mixes its input to that count (channelCountMode 'explicit').
//
// Time: each batch carries the context frame of its first sample. The browser says when a context time
// is heard (getOutputTimestamp: context time -> page time of playing it); a sample is processed
// baseLatency + outputLatency before it is heard, and that processing time is its page time here
// (measured in Chromium against the track's own capture times: 3 to 20 ms late, the delay of the input
// buffer in front of the graph, which Web Audio does not report). The context's clock and the page's
// drift apart slowly (about 1 ms/s measured with Chromium's fake devices); each batch is mapped afresh,
// and the writer follows the sample count within 20 ms and resynchronises beyond.
// Where getOutputTimestamp is missing or not running yet, the context's currentTime against
// performance.now() stands in. A batch is never put later than its arrival on this thread allows (its
// last sample was processed before the message came): the bound that holds when the browser's figures
// are stale (a busy machine, the first moments of the context).
export const PCM_SAMPLE_RATE = 48000;
const BATCH_FRAMES = 480; // 10 ms at 48 kHz

/** Whether this environment can capture PCM (AudioContext + AudioWorklet). */
export function canCapturePcm() {
  return typeof AudioContext === 'function' && typeof AudioWorkletNode === 'function';
}

export class PcmCapture {
  #context = null;
  #node = null;
  #source = null;
  #running = false;
  #onended = null;

  /**
   * @param {MediaStreamTrack} track the (mixed) audio track
   * @param {1|2} channels
   */
  constructor(track, channels) {
    this.track = track;
    this.channels = channels;
    this.sampleRate = PCM_SAMPLE_RATE;
  }

  /**
   * Starts: ondata(planes: Float32Array[] (one per channel), pageUs) for each batch, in order;
   * onended() once when the track ends.
   */
  async start(ondata, onerror, onended) {
    if (!canCapturePcm()) throw new Error('createRecorder: sound on backend "wasm" is captured with Web Audio (AudioContext and AudioWorklet), which this environment lacks');
    let ctx;
    try {
      ctx = new AudioContext({ sampleRate: PCM_SAMPLE_RATE, latencyHint: 'interactive' });
    } catch (err) {
      throw new Error(`createRecorder: sound on backend "wasm" needs an AudioContext at ${PCM_SAMPLE_RATE} Hz (the rate Opus takes), which this browser refused: ${err && err.message}`, { cause: err });
    }
    this.#context = ctx;
    await ctx.audioWorklet.addModule(new URL('./pcm-tap-worklet.js', import.meta.url));
    const node = new AudioWorkletNode(ctx, 'capturekit-pcm-tap', {
      numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
      channelCount: this.channels, channelCountMode: 'explicit', channelInterpretation: 'speakers',
      processorOptions: { channels: this.channels, batchFrames: BATCH_FRAMES },
    });
    this.#node = node;
    this.#running = true;
    node.port.onmessage = (e) => {
      if (!this.#running) return;
      try {
        // Never later than the batch's arrival here allows: its last sample was processed before now.
        const latest = (performance.now() - (e.data.planes[0].length / ctx.sampleRate) * 1000) * 1000;
        ondata(e.data.planes, Math.min(this.#pageUs(e.data.frame), latest));
      } catch (err) {
        this.stop();
        onerror(err);
      }
    };
    node.onprocessorerror = () => {
      if (!this.#running) return;
      this.stop();
      onerror(new Error('recorder: the audio capture (AudioWorklet) failed'));
    };
    this.#onended = () => { if (this.#running) onended(); };
    this.track.addEventListener('ended', this.#onended);
    this.#source = ctx.createMediaStreamSource(new MediaStream([this.track]));
    this.#source.connect(node);
    node.connect(ctx.destination); // pulled by the graph; it outputs silence
    if (ctx.state !== 'running') {
      await Promise.race([ctx.resume(), new Promise((r) => setTimeout(r, 1000))]);
      if (ctx.state !== 'running') throw new Error('createRecorder: the browser keeps the audio capture (AudioContext) suspended until the user interacts with the page; start the recording from a click');
    }
  }

  // Page time (µs) at which context frame `frame` was processed.
  #pageUs(frame) {
    const ctx = this.#context;
    const ts = typeof ctx.getOutputTimestamp === 'function' ? ctx.getOutputTimestamp() : null;
    let offsetMs; // page ms minus context ms, for the moment a sample is processed
    if (ts && ts.performanceTime > 0 && ts.contextTime > 0) {
      offsetMs = ts.performanceTime - ts.contextTime * 1000 - ((ctx.baseLatency || 0) + (ctx.outputLatency || 0)) * 1000;
    } else {
      offsetMs = performance.now() - ctx.currentTime * 1000 - (ctx.baseLatency || 0) * 1000;
    }
    return ((frame / ctx.sampleRate) * 1000 + offsetMs) * 1000;
  }

  stop() {
    this.#running = false;
    this.track?.removeEventListener('ended', this.#onended);
    try { this.#node?.port.postMessage('stop'); } catch { /* closed */ }
    try { this.#source?.disconnect(); } catch { /* gone */ }
    try { this.#node?.disconnect(); } catch { /* gone */ }
    if (this.#context) this.#context.close().catch(() => {});
    this.#context = null;
    this.#node = null;
    this.#source = null;
  }
}
