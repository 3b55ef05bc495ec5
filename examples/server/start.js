#!/usr/bin/env node
// CLI entry (`npm start`): the reference upload server plus the example site. Flags: --help.
import { createServer } from './server.js';
import { resolveConfig, USAGE } from './config.js';

let config;
try {
  config = resolveConfig();
} catch (e) {
  console.error(`capturekit server: ${e.message}\n\n${USAGE}`);
  process.exit(2);
}
if (config.help) {
  console.log(USAGE);
  process.exit(0);
}

const { listen, options } = config;
const loopback = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(listen.host);
const app = createServer(options);

// Last line of defence: every request's errors are caught where they happen (fastify's error handler,
// the tus wrapper), so an exception that still reaches the process is a bug, not a client's doing.
// It is logged in full, with its stack, and counted (app.capturekit.uncaught); it does not end the
// process, because the request that raised it must not take every other user's requests with it.
let uncaught = 0;
const report = (kind) => (err) => {
  uncaught++;
  app.capturekit.uncaught = uncaught;
  console.error(`capturekit server: ${kind} #${uncaught} (the process keeps running; this is a bug to fix):`, err);
  app.log.error({ err, kind }, 'uncaught error');
};
process.on('uncaughtException', report('uncaught exception'));
process.on('unhandledRejection', report('unhandled rejection'));

try {
  await app.listen(listen);
} catch (e) {
  // Listening runs the start-up first (data directory, database migrations, retention): say which failed.
  console.error(`capturekit server: cannot start on ${listen.host}:${listen.port}: ${e.message}`);
  process.exit(1);
}
const { port } = app.server.address();
const shownHost = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
const url = `http://${shownHost}:${port}`;
const ck = app.capturekit;
console.log(`capturekit server listening on ${url}/`);
console.log(`  examples   ${url}/examples/`);
console.log(`  REST       ${url}/videos/init  ${url}/screenshots/upload  (also under /api/v1)`);
console.log(`  tus        ${url}/files/`);
if (ck.options.s3) console.log(`  S3         ${url}/s3/multipart  (presigned parts to bucket ${ck.options.s3.bucket}${ck.options.s3.endpoint ? ` at ${ck.options.s3.endpoint}` : ''})`);
console.log(`  data dir   ${ck.options.dataDir}`);
if (ck.options.database) {
  console.log(`  database   ${new URL(ck.options.database).host} (state in PostgreSQL)`);
  for (const m of ck.migrations) console.log(`  database   ${m}`);
}
if (ck.devToken) {
  console.log(`  dev token  ${ck.devToken}   (user "dev"; Authorization: Bearer <token>; set --tokens for others)`);
  if (!loopback) console.log('  warning: listening beyond loopback with a dev token; pass --tokens for real use');
}
if (!loopback && !ck.options.publicUrl) console.log('  warning: no --public-url: URLs in answers follow the client\'s Host header; set it for real use');
if (ck.faults.enabled) console.log(`  faults     ${JSON.stringify(ck.options.faults)}`);
if (ck.options.retentionDays > 0) console.log(`  retention  ${ck.options.retentionDays} days (checked at start and hourly)`);

// SIGTERM / SIGINT: graceful shutdown (no new connections, requests in flight finish within
// --shutdown-timeout, then exit 0). A second signal exits at once (1).
let closing = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (closing) process.exit(1);
    closing = true;
    console.log(`capturekit server: ${signal}, finishing the requests in flight (at most ${ck.options.shutdownTimeoutMs} ms)`);
    try {
      const { finished, left } = await ck.shutdown();
      console.log(`capturekit server: stopped${finished ? '' : ` (${left} request(s) cut off after the timeout)`}`);
      process.exit(0);
    } catch (e) {
      console.error('capturekit server: shutdown failed:', e);
      process.exit(1);
    }
  });
}
