// A spinning cube in plain WebGL (no preserveDrawingBuffer) with a <capture-button> and a <record-button>.
import { init, createDownloadLink } from '/js-glue/index.js';
import '/web/capture-button.js';
import '/web/record-button.js';
import { createCube } from '../shared/cube.js';

const canvas = document.getElementById('scene');
const gl = canvas.getContext('webgl', { antialias: true }); // preserveDrawingBuffer: false (the default)

function fitCanvas() {
  const r = canvas.getBoundingClientRect();
  canvas.width = Math.round(r.width * devicePixelRatio);
  canvas.height = Math.round(r.height * devicePixelRatio);
}
fitCanvas();
addEventListener('resize', fitCanvas);

const drawCube = createCube(gl);
let now = 0;
const draw = () => drawCube(now);
function loop(t) { now = t; draw(); requestAnimationFrame(loop); }
requestAnimationFrame(loop);

// Screenshot button: draws the current frame itself (render), so a high-resolution capture
// (scale > 1) renders one frame into the larger canvas and restores it before the next paint.
await init();
const shot = document.getElementById('shot');
const $ = (id) => document.getElementById(id);
const logo = await makeLogo();
function updateOptions() {
  shot.options = {
    format: $('format').value,
    quality: Number($('quality').value),
    scale: Number($('scale').value),
    render: draw,
    thumbnail: 240,
    filters: $('watermark').checked ? [{ op: 'watermark', image: logo, position: 'bottom-right', margin: 16, opacity: 0.8 }] : [],
    metadata: { example: 'webgl' },
  };
}
for (const id of ['format', 'quality', 'scale', 'watermark']) $(id).addEventListener('change', updateOptions);
updateOptions();

shot.addEventListener('capture', (e) => addToGallery(e.detail.result));
shot.addEventListener('captureerror', (e) => { $('error').textContent = e.detail.error.message; });

// Record button: the recorder takes frames from this page's render loop by itself; Stop shows the
// recording for review (at most 60 s), and a kept one goes into the gallery.
const rec = document.getElementById('rec');
rec.metadata = { example: 'webgl' };
rec.addEventListener('recording', (e) => addVideoToGallery(e.detail.result));
rec.addEventListener('recordingerror', (e) => { $('error').textContent = e.detail.error.message; });

function addVideoToGallery(result) {
  $('error').textContent = '';
  const fig = document.createElement('figure');
  const video = document.createElement('video');
  video.src = URL.createObjectURL(result.blob);
  video.controls = true;
  video.muted = true;
  const { link } = createDownloadLink(result, { prefix: 'recording' });
  const cap = document.createElement('figcaption');
  cap.append(`${result.width}×${result.height}, ${result.duration.toFixed(1)} s, ${result.frames} frames (${result.backend}), ` +
    `${(result.blob.size / 1024).toFixed(0)} KiB `, document.createElement('br'), link);
  fig.append(video, cap);
  $('gallery').prepend(fig);
}

function addToGallery(result) {
  $('error').textContent = '';
  const fig = document.createElement('figure');
  const img = document.createElement('img');
  img.src = URL.createObjectURL(result.thumbnail ? result.thumbnail.blob : result.blob);
  const { link } = createDownloadLink(result);
  const cap = document.createElement('figcaption');
  cap.append(`${result.width}×${result.height}, ${(result.blob.size / 1024).toFixed(0)} KiB, main thread ${result.timing.mainThreadMs} ms `, document.createElement('br'), link);
  fig.append(img, cap);
  $('gallery').prepend(fig);
}

// A small logo for the image watermark, drawn once into ImageData.
async function makeLogo() {
  const c = new OffscreenCanvas(120, 36);
  const x = c.getContext('2d');
  x.fillStyle = 'rgba(0,0,0,0.55)'; x.beginPath(); x.roundRect(0, 0, 120, 36, 8); x.fill();
  x.fillStyle = '#fff'; x.font = 'bold 18px system-ui, sans-serif'; x.textBaseline = 'middle'; x.fillText('capturekit', 12, 19);
  return x.getImageData(0, 0, 120, 36);
}
