// A drawing board (2D canvas) with a <capture-button>. Strokes are kept as data, so the board can be
// redrawn at any size: that is what a high-resolution capture (scale 2) needs from a 2D canvas.
import { createDownloadLink } from '/js-glue/index.js';
import '/web/capture-button.js';

const canvas = document.getElementById('board');
const ctx = canvas.getContext('2d');
const strokes = [];
let current = null;

function size() {
  const r = canvas.getBoundingClientRect();
  canvas.width = Math.round(r.width * devicePixelRatio);
  canvas.height = Math.round(r.height * devicePixelRatio);
  draw();
}

// Draws everything in normalised coordinates, so any canvas size shows the same picture.
function draw() {
  const w = canvas.width; const h = canvas.height;
  const g = ctx.createLinearGradient(0, 0, 0, h);
  g.addColorStop(0, '#e8f1ff'); g.addColorStop(1, '#fff7e8');
  ctx.fillStyle = g; ctx.fillRect(0, 0, w, h);
  ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  for (const s of strokes) {
    ctx.strokeStyle = s.color; ctx.lineWidth = s.width * w;
    ctx.beginPath();
    s.points.forEach(([x, y], i) => (i ? ctx.lineTo(x * w, y * h) : ctx.moveTo(x * w, y * h)));
    ctx.stroke();
  }
}

const colours = ['#0a66c2', '#c2410a', '#16a34a', '#9333ea'];
canvas.addEventListener('pointerdown', (e) => {
  canvas.setPointerCapture(e.pointerId);
  current = { color: colours[strokes.length % colours.length], width: 0.012, points: [] };
  strokes.push(current);
  add(e);
});
canvas.addEventListener('pointermove', (e) => { if (current) add(e); });
canvas.addEventListener('pointerup', () => { current = null; });
function add(e) {
  const r = canvas.getBoundingClientRect();
  current.points.push([(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height]);
  draw();
}
document.getElementById('clear').onclick = () => { strokes.length = 0; draw(); };

// A starting picture.
for (let k = 0; k < 3; k++) {
  const pts = [];
  for (let i = 0; i <= 40; i++) pts.push([0.1 + 0.8 * (i / 40), 0.3 + 0.2 * k + 0.08 * Math.sin(i / 4 + k)]);
  strokes.push({ color: colours[k], width: 0.012, points: pts });
}
size();
addEventListener('resize', size);

const shot = document.getElementById('shot');
const $ = (id) => document.getElementById(id);
function updateOptions() {
  shot.options = {
    render: draw,
    scale: $('hires').checked ? 2 : 1,
    filters: $('stamp').checked ? [{ op: 'text', text: `capturekit · ${new Date().toLocaleDateString()}`, position: 'bottom-right', margin: 12 }] : [],
    metadata: { example: 'canvas2d', strokes: strokes.length },
  };
}
for (const id of ['stamp', 'hires']) $(id).addEventListener('change', updateOptions);
shot.addEventListener('click', updateOptions, { capture: true }); // fresh stroke count per capture
updateOptions();

shot.addEventListener('capture', (e) => {
  $('error').textContent = '';
  const result = e.detail.result;
  const fig = document.createElement('figure');
  const img = document.createElement('img');
  img.src = URL.createObjectURL(result.thumbnail ? result.thumbnail.blob : result.blob);
  const { link } = createDownloadLink(result);
  const cap = document.createElement('figcaption');
  cap.append(`${result.width}×${result.height}, ${(result.blob.size / 1024).toFixed(0)} KiB `, document.createElement('br'), link);
  fig.append(img, cap);
  $('gallery').prepend(fig);
});
shot.addEventListener('captureerror', (e) => { $('error').textContent = e.detail.error.message; });
