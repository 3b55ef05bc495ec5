// Audio input: where a recording's sound comes from. options.audio (true: the microphone through
// getUserMedia; MediaTrackConstraints; a MediaStream; an audio MediaStreamTrack) and a stream source's
// own audio tracks (a camera's microphone, a tab's sound) become ONE audio track: a single track as it
// is, several (microphone + tab audio) mixed through Web Audio (an AudioContext at 48 kHz, every track
// into one MediaStreamAudioDestinationNode, stereo).
//
// webcodecs: a MediaStreamTrackProcessor hands over AudioData; each chunk keeps its own capture time
// (AudioData.timestamp: Chromium stamps it on the page clock; TrackClock in stream.js maps any other
// clock), the same kind of time the video frames carry, so sound and picture meet on one time line.
// Counting samples only smooths the stamps' jitter (under JITTER_US): a track that drops chunks (a busy
// machine: Chromium's fake microphone lost 40 to 70 ms in 10 s at load average 4) keeps its place, and
// the gap it leaves is filled with silence by the encoder's caller (backends/webcodecs.js), so the sound
// never runs early. The chunks are then encoded to Opus by record/audio-encoder.js.
// wasm: the track is captured as PCM at 48 kHz by an AudioWorklet (sources/pcm-capture.js) and encoded
// to Opus by libopus in the record Worker.
// mediarecorder: the track goes into MediaRecorder's stream.
import { TrackClock, openMicrophone } from './stream.js';
import { PcmCapture } from './pcm-capture.js';

const JITTER_US = 1_500;
const isTrack = (t) => typeof MediaStreamTrack === 'function' && t instanceof MediaStreamTrack;
const isStream = (s) => typeof MediaStream === 'function' && s instanceof MediaStream;

/**
 * The audio to record: the stream source's audio tracks plus options.audio, or null (no sound).
 * Tracks this opened itself (the microphone for audio: true) are stopped by release().
 */
export async function openAudio(option, streamAudio = [], what = 'createRecorder') {
  const tracks = [...streamAudio];
  let owned = [];
  if (option === true || (option && !isTrack(option) && !isStream(option) && typeof option === 'object')) {
    const mic = await openMicrophone(option, what);
    owned = mic.getAudioTracks();
    tracks.push(...owned);
  } else if (isTrack(option)) {
    tracks.push(option);
  } else if (isStream(option)) {
    tracks.push(...option.getAudioTracks());
  }
  const live = tracks.filter((t, i) => t.readyState !== 'ended' && tracks.indexOf(t) === i);
  if (!live.length) return null;
  const input = new AudioInput(live, owned);
  try {
    await input.open();
  } catch (err) {
    input.release();
    throw err;
  }
  return input;
}

export class AudioInput {
  #owned;
  #context = null;
  #reader = null;
  #clock = new TrackClock();
  #next = null;
  #pcm = null;

  constructor(tracks, owned) {
    this.tracks = tracks;
    this.#owned = owned;
    /** The one track recorded (the mix when there are several). */
    this.track = null;
  }

  /** wasm: whether the PCM capture has started. */
  get capturingPcm() { return this.#pcm !== null; }

  async open() {
    if (this.tracks.length === 1) {
      this.track = this.tracks[0];
      return;
    }
    if (typeof AudioContext !== 'function') throw new Error('createRecorder: several audio tracks are mixed with Web Audio (AudioContext), which is missing here; pass one audio track');
    const ctx = new AudioContext({ sampleRate: 48000 });
    this.#context = ctx;
    const dest = ctx.createMediaStreamDestination();
    dest.channelCount = 2;
    for (const t of this.tracks) ctx.createMediaStreamSource(new MediaStream([t])).connect(dest);
    if (ctx.state !== 'running') {
      await Promise.race([ctx.resume(), new Promise((r) => setTimeout(r, 1000))]);
      if (ctx.state !== 'running') throw new Error('createRecorder: the browser keeps the audio mix (AudioContext) suspended until the user interacts with the page; start the recording from a click');
    }
    this.track = dest.stream.getAudioTracks()[0];
  }

  /** Channels the recorded track has (the mix is stereo). */
  get channels() {
    if (this.#context) return 2;
    const s = typeof this.track.getSettings === 'function' ? this.track.getSettings() : {};
    return s.channelCount === 1 ? 1 : s.channelCount >= 2 ? 2 : 1;
  }

  /** The recorded track's sample rate (the mix runs at 48 kHz). */
  get sampleRate() {
    if (this.#context) return this.#context.sampleRate;
    const s = typeof this.track.getSettings === 'function' ? this.track.getSettings() : {};
    return s.sampleRate || 48000;
  }

  /**
   * webcodecs: reads the track's AudioData and calls ondata(audioData, pageTimeUs) for each chunk (the
   * callee closes it); onended() once if the track ends before stop().
   */
  start(ondata, onerror, onended) {
    if (typeof MediaStreamTrackProcessor !== 'function') throw new Error('createRecorder: recording sound with backend "webcodecs" needs MediaStreamTrackProcessor; use backend "mediarecorder"');
    const reader = new MediaStreamTrackProcessor({ track: this.track }).readable.getReader();
    this.#reader = reader;
    (async () => {
      for (;;) {
        let r;
        try {
          r = await reader.read();
        } catch (err) {
          if (this.#reader) onerror(new Error(`recorder: reading the audio track failed: ${err && err.message}`, { cause: err }));
          return;
        }
        if (r.done) {
          if (this.#reader) onended();
          return;
        }
        const ad = r.value;
        if (!this.#reader) { ad.close(); return; }
        try {
          ondata(ad, this.#stamp(ad));
        } catch (err) {
          ad.close();
          onerror(err);
          return;
        }
      }
    })();
  }

  /**
   * wasm: captures the track as PCM (48 kHz, `channels`) and calls ondata(planes, pageTimeUs) for each
   * batch (Float32Array per channel); onended() once if the track ends before stop().
   */
  async startPcm(channels, ondata, onerror, onended) {
    this.#pcm = new PcmCapture(this.track, channels);
    await this.#pcm.start(ondata, onerror, onended);
  }

  // Page time of a chunk: its capture time; the counted time (the previous chunk's end) when the two
  // differ by jitter only.
  #stamp(ad) {
    const dur = (ad.numberOfFrames / ad.sampleRate) * 1e6;
    // The chunk is complete (and can arrive) only at its end: map its end, then step back.
    const mapped = this.#clock.map(ad.timestamp + dur) - dur;
    let t = this.#next;
    if (t === null || Math.abs(mapped - t) > JITTER_US) t = mapped;
    this.#next = t + dur;
    return t;
  }

  stop() {
    const reader = this.#reader;
    this.#reader = null;
    if (reader) reader.cancel().catch(() => {});
    this.#pcm?.stop();
    this.#pcm = null;
  }

  /** Stops the tracks this opened (the microphone) and closes the mix. */
  release() {
    this.stop();
    for (const t of this.#owned) t.stop();
    if (this.#context) this.#context.close().catch(() => {});
    this.#context = null;
  }
}
