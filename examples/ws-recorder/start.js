#!/usr/bin/env node
// Standalone WebSocket recording server: node examples/ws-recorder/start.js [--port 8790]
// [--host 127.0.0.1] [--dir recordings]. Open http://HOST:PORT/ for a client page that sends 5 FPS
// JPEG snapshots of an animated canvas (or your camera) and gets a 30 FPS WebM back on the server.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { attachWsRecorder } from './ws-recorder.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8790' }, host: { type: 'string', default: '127.0.0.1' }, dir: { type: 'string', default: 'recordings' } } });
const here = fileURLToPath(new URL('.', import.meta.url));
const server = http.createServer(async (req, res) => {
  if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(await readFile(`${here}/index.html`));
  } else {
    res.writeHead(404).end('not found');
  }
});
const rec = attachWsRecorder(server, { dir: values.dir });
rec.onrecording = (r) => console.log(`recorded ${r.file}: ${r.frameCount} frames, ${r.duration.toFixed(2)} s, ${r.bytes} bytes (from ${r.snapshotCount} snapshots)`);
server.listen(Number(values.port), values.host, () => {
  const { port } = server.address();
  console.log(`ws-recorder on http://${values.host}:${port}/  (WebSocket ws://${values.host}:${port}/ws/record, files in ${rec.options.dir})`);
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, async () => { await rec.close(); server.close(); process.exit(0); });
