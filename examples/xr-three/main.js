// three.js + WebXR + <capture-button>. Outside XR the button captures the canvas (the renderer draws
// the frame itself, so high-resolution capture works); inside an immersive session it captures the
// XR frame through captureXRSession, from the session's own frame loop.
import * as THREE from 'three';
import { createDownloadLink, captureXRSession } from '/js-glue/index.js';
import '/web/capture-button.js';

const params = new URLSearchParams(location.search);
if (params.has('emulate')) {
  // Desktop emulation (Meta's IWER). Chromium exposes navigator.xr, hence forceInstall.
  const { XRDevice, metaQuest3 } = await import('/node_modules/iwer/build/iwer.module.js');
  const device = new XRDevice(metaQuest3, { stereoEnabled: true });
  device.installRuntime({ forceInstall: true });
  window.xrDevice = device;
}

const canvas = document.getElementById('scene');
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, alpha: true }); // no preserveDrawingBuffer
renderer.setPixelRatio(devicePixelRatio);
renderer.xr.enabled = true;

const scene = new THREE.Scene();
const background = new THREE.Color(0x202530);
scene.background = background;
const camera = new THREE.PerspectiveCamera(60, 16 / 9, 0.05, 50);
camera.position.set(0, 1.6, 2.2);
camera.lookAt(0, 1.2, -1);

scene.add(new THREE.HemisphereLight(0xffffff, 0x445566, 2));
const sun = new THREE.DirectionalLight(0xffffff, 2);
sun.position.set(2, 4, 1);
scene.add(sun);
const floor = new THREE.GridHelper(10, 20, 0x88aacc, 0x445566);
scene.add(floor);

const colours = [0xe53935, 0x43a047, 0x1e88e5, 0xfdd835, 0x8e24aa];
const boxes = colours.map((c, i) => {
  const m = new THREE.Mesh(new THREE.BoxGeometry(0.3, 0.3, 0.3), new THREE.MeshStandardMaterial({ color: c }));
  const a = (i / colours.length) * Math.PI * 2;
  m.position.set(Math.sin(a) * 1.2, 1.2 + 0.2 * Math.sin(a * 2), -1.5 + Math.cos(a) * 1.2);
  scene.add(m);
  return m;
});
const knot = new THREE.Mesh(new THREE.TorusKnotGeometry(0.25, 0.08, 128, 16), new THREE.MeshStandardMaterial({ color: 0xffffff, metalness: 0.3, roughness: 0.3 }));
knot.position.set(0, 1.3, -1.5);
scene.add(knot);

function size() {
  const r = canvas.getBoundingClientRect();
  if (renderer.xr.isPresenting) return;
  renderer.setSize(r.width, r.height, false);
  camera.aspect = r.width / r.height;
  camera.updateProjectionMatrix();
}
size();
addEventListener('resize', size);

let frames = 0;
renderer.setAnimationLoop((t) => {
  frames++;
  knot.rotation.x = t * 0.0005; knot.rotation.y = t * 0.0008;
  boxes.forEach((b, i) => { b.rotation.y = t * 0.001 * (i + 1); });
  renderer.render(scene, camera);
});
window.app = { renderer, scene, camera, frames: () => frames };

// ---- XR sessions ----
const $ = (id) => document.getElementById(id);
async function enter(mode) {
  const init = { optionalFeatures: ['local-floor'] };
  if (mode === 'immersive-ar') { init.optionalFeatures.push('dom-overlay'); init.domOverlay = { root: $('overlay') }; }
  const session = await navigator.xr.requestSession(mode, init);
  scene.background = mode === 'immersive-ar' ? null : background; // AR: the world shows through
  await renderer.xr.setSession(session);
  $('exit').hidden = false;
  $('status').textContent = `${mode} session running`;
  // A controller trigger takes a screenshot too (a DOM button is not visible in a headset).
  session.addEventListener('select', () => $('shot').capture());
  session.addEventListener('end', () => {
    scene.background = background;
    $('exit').hidden = true;
    $('status').textContent = 'session ended';
    size();
  });
  return session;
}
window.enterXR = enter;
$('exit').onclick = () => renderer.xr.getSession()?.end();
if (navigator.xr) {
  for (const [id, mode] of [['enter-vr', 'immersive-vr'], ['enter-ar', 'immersive-ar']]) {
    navigator.xr.isSessionSupported(mode).then((ok) => {
      $(id).disabled = !ok;
      $(id).onclick = () => enter(mode).catch((e) => { $('status').textContent = e.message; });
    });
  }
}

// ---- screenshots ----
const shot = $('shot');
// Inside a session: the XR frame (view chosen in the select). captureXRSession registers a session
// frame callback after three.js's, so it reads right after three.js drew the frame.
shot.xr = () => {
  const session = renderer.xr.getSession();
  if (!session) return null;
  const v = $('view').value;
  return { session, gl: renderer.getContext(), referenceSpace: renderer.xr.getReferenceSpace(), view: v === 'both' ? 'both' : Number(v) };
};
// Outside: the canvas. three.js draws the frame when asked, and resizes for high-resolution capture.
let saved = null;
shot.options = {
  thumbnail: 240,
  render: () => renderer.render(scene, camera),
  resize: (w, h) => {
    if (!saved) {
      saved = { ratio: renderer.getPixelRatio(), size: renderer.getSize(new THREE.Vector2()) };
      renderer.setPixelRatio(1);
      renderer.setSize(w, h, false);
    } else {
      renderer.setPixelRatio(saved.ratio);
      renderer.setSize(saved.size.x, saved.size.y, false);
      saved = null;
    }
  },
  metadata: { example: 'xr-three' },
};
window.captureXR = (options) => captureXRSession(renderer.xr.getSession(), { ...shot.xr(), ...options });

shot.addEventListener('capture', (e) => {
  const result = e.detail.result;
  const fig = document.createElement('figure');
  const img = document.createElement('img');
  img.src = URL.createObjectURL(result.thumbnail ? result.thumbnail.blob : result.blob);
  const { link } = createDownloadLink(result);
  const meta = document.createElement('pre');
  const m = result.metadata;
  meta.textContent = JSON.stringify({ size: [m.width, m.height], mode: m.device.sessionMode, pose: m.xr?.pose }, null, 1);
  fig.append(img, link, meta);
  $('gallery').prepend(fig);
});
shot.addEventListener('captureerror', (e) => { $('status').textContent = e.detail.error.message; });
