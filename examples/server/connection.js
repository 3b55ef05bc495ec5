// What a request body may cost the server: it is read only as far as the answer needs it.
//
// - While a body is being received, a client that sends nothing for `bodyTimeoutMs` loses its
//   connection (node closes a socket whose timeout nobody handles). Once the body is complete the
//   timeout is off again: the server's own work (finalize, thumbnails) is not limited by it.
// - An answer sent before the body was complete (401, 413, a quota refusal, 404 for an upload of
//   another user ...) says `Connection: close`, and the connection is closed after the answer instead
//   of being kept alive, which would mean reading the rest of the body. Closing at once, with the
//   client's bytes still arriving, makes the kernel send a reset that many clients (fetch in Node, for
//   one) report as a network error without reading the answer in front of it; so the server first
//   lingers, discarding what still comes, for at most LINGER.ms in all, LINGER.idleMs without a byte
//   and LINGER.bytes, and closes as soon as the body is complete or the client stops sending.

export const LINGER = Object.freeze({ ms: 2000, idleMs: 500, bytes: 8 * 1024 * 1024 });

/** Arms the body timeout and the close-after-early-answer for one request (a fastify onRequest step). */
export function guardRequestBody(req, res, { bodyTimeoutMs, linger = LINGER }) {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
  if (!hasBody || req.complete) return;
  const socket = req.socket;
  socket.setTimeout(bodyTimeoutMs);
  req.once('end', () => { if (!socket.destroyed && !res.writableFinished) socket.setTimeout(0); });
  const writeHead = res.writeHead;
  res.writeHead = function writeHeadThenClose(...args) {
    if (!req.complete && this.shouldKeepAlive) {
      this.shouldKeepAlive = false; // node writes `Connection: close` and calls socket.destroySoon() after the answer
      socket.destroySoon = () => lingerThenClose(socket, req, linger);
    }
    return writeHead.apply(this, args);
  };
}

function lingerThenClose(socket, req, linger) {
  let closed = false;
  let seen = 0;
  let idle = null;
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(total);
    clearTimeout(idle);
    socket.off('data', onData);
    if (socket.destroyed) return;
    const hardStop = setTimeout(() => socket.destroy(), linger.ms);
    hardStop.unref?.();
    socket.once('close', () => clearTimeout(hardStop));
    socket.end(); // the answer, then FIN; destroyed once flushed
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  };
  const onData = (chunk) => {
    seen += chunk.length;
    if (req.complete || seen > linger.bytes) { close(); return; }
    clearTimeout(idle);
    idle = setTimeout(close, linger.idleMs);
  };
  const total = setTimeout(close, linger.ms);
  if (req.complete) { close(); return; }
  socket.on('data', onData);
  idle = setTimeout(close, linger.idleMs);
  // A body its handler stopped reading (a multipart over its limit) flows on, into the void.
  if (typeof req.isPaused === 'function' && req.isPaused()) req.resume();
}
