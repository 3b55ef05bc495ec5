// The AudioWorklet processor that hands a recording's sound to the page as PCM (sources/pcm-capture.js
// loads it with audioWorklet.addModule). It runs on the audio rendering thread: it copies its input
// (already mixed to the node's channel count by Web Audio) into batches of `batchFrames` samples per
// channel and posts each batch with the context frame of its first sample; the buffers are transferred,
// not copied. It produces no sound of its own. 'stop' on its port ends it.
//
// It imports nothing (worklet scope); outside a worklet (Node, a bundler's scan) it defines nothing.
if (typeof registerProcessor === 'function' && typeof AudioWorkletProcessor === 'function') {
  class PcmTap extends AudioWorkletProcessor {
    constructor(options) {
      super();
      const o = options.processorOptions || {};
      this.channels = o.channels === 2 ? 2 : 1;
      this.batchFrames = o.batchFrames > 0 ? o.batchFrames : 480;
      this.planes = null;
      this.filled = 0;
      this.first = 0;
      this.running = true;
      this.port.onmessage = (e) => { if (e.data === 'stop') this.running = false; };
    }

    process(inputs) {
      if (!this.running) return false;
      const input = inputs[0] || [];
      const n = input.length ? input[0].length : 128; // no input connected yet: a quantum of silence
      for (let i = 0; i < n;) {
        if (!this.planes) {
          this.planes = [];
          for (let c = 0; c < this.channels; c++) this.planes.push(new Float32Array(this.batchFrames));
          this.filled = 0;
          this.first = currentFrame + i;
        }
        const take = Math.min(n - i, this.batchFrames - this.filled);
        for (let c = 0; c < this.channels; c++) {
          const src = input[Math.min(c, input.length - 1)];
          if (src) this.planes[c].set(src.subarray(i, i + take), this.filled);
        }
        this.filled += take;
        i += take;
        if (this.filled === this.batchFrames) {
          this.port.postMessage({ frame: this.first, planes: this.planes }, this.planes.map((p) => p.buffer));
          this.planes = null;
        }
      }
      return true;
    }
  }
  registerProcessor('capturekit-pcm-tap', PcmTap);
}
