// Record / Stop for a WebGL scene with capturekit's createRecorder. The app keeps its own render loop;
// the recorder takes each frame right after the app drew it (frames: 'auto').
import { createRecorder } from '/js-glue/index.js';
import { createCube } from '../shared/cube.js';

const $ = (id) => document.getElementById(id);
const canvas = $('scene');
const gl = canvas.getContext('webgl', { antialias: true }); // preserveDrawingBuffer: false (the default)

// A spinning cube, one (pastel) colour per face.
const draw = createCube(gl, [[1, 0.2, 0.2], [0.2, 1, 1], [0.2, 1, 0.2], [1, 0.2, 1], [0.2, 0.2, 1], [1, 1, 0.2]]);
function loop(t) { draw(t); requestAnimationFrame(loop); }
requestAnimationFrame(loop);

// ---- Record / Stop ----
let recorder = null;
let ticker = null;
let lastUrl = null;

function showStats(lines) { $('stats').textContent = lines.join('\n'); }

$('rec').onclick = async () => {
  $('error').textContent = '';
  $('rec').disabled = true;
  try {
    recorder = await createRecorder(canvas, {
      backend: $('backend').value, codec: $('codec').value, fps: Number($('fps').value), timing: $('timing').value,
      bitrate: 4_000_000, metadata: { example: 'recording' },
      onbackpressure: (b) => console.warn('recorder backpressure', b),
      onerror: (e) => { $('error').textContent = e.message; },
    });
  } catch (e) {
    $('error').textContent = e.message;
    $('rec').disabled = false;
    return;
  }
  $('stop').disabled = false;
  $('dot').classList.add('on');
  const started = performance.now();
  ticker = setInterval(() => showStats([
    `recording with ${recorder.backend} (${recorder.mimeType})`,
    `${((performance.now() - started) / 1000).toFixed(1)} s, ${recorder.frames} frames, ${(recorder.bytes / 1024).toFixed(0)} KiB, ${recorder.queued} queued`,
  ]), 250);
};

$('stop').onclick = async () => {
  $('stop').disabled = true;
  clearInterval(ticker);
  $('dot').classList.remove('on');
  try {
    const r = await recorder.stop();
    if (lastUrl) URL.revokeObjectURL(lastUrl);
    lastUrl = URL.createObjectURL(r.blob);
    $('out').src = lastUrl;
    const a = $('download');
    a.href = lastUrl; a.download = `recording-${new Date().toISOString().replace(/[:.]/g, '-')}.webm`; a.hidden = false;
    showStats([
      `${r.backend}: ${r.codec}, ${r.width}×${r.height}`,
      `${r.frames} frames in ${r.duration.toFixed(3)} s (${r.averageFps.toFixed(1)} fps), ${r.keyframes} keyframes`,
      `${(r.bytes / 1024).toFixed(0)} KiB${r.skippedFrames ? `, ${r.skippedFrames} frames skipped (encoder behind)` : ''}`,
    ]);
    window.lastRecording = r;
  } catch (e) {
    $('error').textContent = e.message;
  }
  recorder = null;
  $('rec').disabled = false;
};
document.body.dataset.ready = 'true';
