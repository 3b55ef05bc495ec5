// Serves the example site from the repository: /examples/, /js-glue/, /web/, /dist/ (wasm as
// application/wasm) and a few browser packages from node_modules that the examples import.
// Read-only, files only, no dot-files, every path resolved and checked to stay inside its mount.
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { httpError } from '../storage.js';
import { sendFile } from '../range.js';

export const DEFAULT_MOUNTS = ['examples', 'js-glue', 'web', 'dist', 'node_modules/three', 'node_modules/iwer', 'node_modules/idb'];

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css; charset=utf-8', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webm': 'video/webm', '.svg': 'image/svg+xml', '.map': 'application/json',
  '.md': 'text/markdown; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.ico': 'image/x-icon', '.glb': 'model/gltf-binary',
  '.d.ts': 'text/plain; charset=utf-8', '.webmanifest': 'application/manifest+json',
};
const SEGMENT_RE = /^[A-Za-z0-9_@][A-Za-z0-9_.@+-]*$/; // no leading dot: no '..', no dot-files

export default async function staticRoutes(app, { root, mounts = DEFAULT_MOUNTS }) {
  const rootDir = resolve(root);

  async function serve(request, reply, mount, rest) {
    const segments = rest.split('/').filter((s) => s !== '');
    for (const s of segments) if (!SEGMENT_RE.test(s)) throw httpError(404, 'not found');
    const base = resolve(rootDir, mount);
    let file = resolve(base, ...segments);
    if (file !== base && !file.startsWith(base + sep)) throw httpError(404, 'not found');
    let st = await stat(file).catch(() => null);
    if (st && st.isDirectory()) {
      if (!rest.endsWith('/') && rest !== '') return reply.redirect(`${request.url.split('?')[0]}/`);
      file = join(file, 'index.html');
      st = await stat(file).catch(() => null);
      if (!st && mount === 'examples') return reply.type('text/html; charset=utf-8').send(await listing(base, `/${mount}/`));
    }
    if (!st || !st.isFile()) throw httpError(404, 'not found');
    const type = TYPES[file.endsWith('.d.ts') ? '.d.ts' : extname(file).toLowerCase()] || 'application/octet-stream';
    return sendFile(request, reply, file, { type, cache: 'no-cache', etag: `${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}` });
  }

  async function listing(dir, prefix) {
    const names = (await readdir(dir, { withFileTypes: true }).catch(() => []))
      .filter((d) => !d.name.startsWith('.') && (d.isDirectory() || d.name.endsWith('.html')) && d.name !== 'server')
      .map((d) => (d.isDirectory() ? `${d.name}/` : d.name))
      .sort();
    const items = names.map((n) => `<li><a href="${prefix}${encodeURI(n)}">${n.replace(/[<>&"]/g, '')}</a></li>`).join('\n');
    return `<!doctype html><meta charset="utf-8"><title>capturekit examples</title>
<h1>capturekit examples</h1><ul>
${items || '<li>(no example pages yet)</li>'}
</ul><p>Upload API: see examples/server/README.md.</p>`;
  }

  for (const mount of mounts) {
    app.get(`/${mount}`, (request, reply) => reply.redirect(`/${mount}/`));
    app.get(`/${mount}/*`, (request, reply) => serve(request, reply, mount, request.params['*'] || ''));
  }
  app.get('/', (request, reply) => reply.redirect('/examples/'));
  app.get('/favicon.ico', (request, reply) => reply.code(204).send());
}
