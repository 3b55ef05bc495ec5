// recordScreen / recordCamera: ask the user for a screen or the camera (sources/stream.js says how, and
// turns a refusal into a clear Error) and record it; the recorder owns those tracks and stops them at the
// end.
import { createRecorder } from './recorder.js';
import { describe, normalizeRecorderOptions } from './options.js';
import { openCamera, openScreen } from './sources/stream.js';

/**
 * Asks the user for a screen, window or tab (getDisplayMedia, with its sound where the browser offers
 * it) and records it; the recorder owns the tracks and stops them at the end. options: createRecorder's,
 * plus video / audio (MediaTrackConstraints or booleans for getDisplayMedia) and microphone (true or
 * constraints: the user's voice mixed in).
 */
export async function recordScreen(options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError(`recordScreen: options must be an object, got ${describe(options)}`);
  const { video = true, audio = true, microphone, ...rest } = options;
  normalizeRecorderOptions({ ...rest, audio: microphone }, 'stream'); // bad options fail before the browser asks
  const stream = await openScreen({ video, audio });
  try {
    return await createRecorder(stream, { ...rest, ...(microphone ? { audio: microphone } : {}), stopTracks: true });
  } catch (err) {
    for (const t of stream.getTracks()) t.stop();
    throw err;
  }
}

/**
 * Asks the user for the camera (and the microphone unless audio: false) and records them; the recorder
 * owns the tracks and stops them at the end. options: createRecorder's, plus video / audio
 * (MediaTrackConstraints or booleans for getUserMedia).
 */
export async function recordCamera(options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError(`recordCamera: options must be an object, got ${describe(options)}`);
  const { video = true, audio = true, ...rest } = options;
  normalizeRecorderOptions(rest, 'stream');
  const stream = await openCamera({ video, audio });
  try {
    return await createRecorder(stream, { ...rest, stopTracks: true });
  } catch (err) {
    for (const t of stream.getTracks()) t.stop();
    throw err;
  }
}
