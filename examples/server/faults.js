// Fault injection for client tests: at a seeded rate, a protocol request gets a bad answer instead of
// (phase 'before': nothing is stored) or after (phase 'after': the work was done, the answer is lost or
// mangled) its normal handling. The PRNG is mulberry32, so one seed and one request order give the
// same faults every run. Off unless `faults.rate > 0`.
//
// Kinds:
//   500, 503         status with a JSON error body (503 adds Retry-After: 1)
//   reset            TCP reset, no response
//   stall            no response; the socket is destroyed after stallMs (default 30 s)
//   truncated        200 with the full Content-Length, half the JSON body, then the socket is closed
//   html             200 text/html (a captive-portal / proxy page)
//   nonjson          200 application/json whose body is not JSON
//   missingSessionId 200 {} from POST /videos/init (init only)
//   wrongChunkIndex  200 {received: true, chunkIndex: <index + 1>} from POST /videos/chunk (chunk only)
//   errorBody200     200 {error: ..., received: false}
export const FAULT_KINDS = Object.freeze([
  '500', '503', 'reset', 'stall', 'truncated', 'html', 'nonjson', 'missingSessionId', 'wrongChunkIndex', 'errorBody200',
]);
const ONLY_ON = { missingSessionId: 'init', wrongChunkIndex: 'chunk' };
export const FAULT_ROUTES = Object.freeze(['init', 'chunk', 'finalize', 'chunks', 'screenshot']);

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Parses --faults / FAULTS: JSON ({"rate":0.2,...}), a bare rate ("0.2"), or
 * "rate=0.2,seed=7,kinds=500+503+reset,phase=before,stallMs=2000,routes=chunk+finalize".
 */
export function parseFaults(spec) {
  if (spec === undefined || spec === null || spec === '' || spec === false) return null;
  if (typeof spec === 'object') return normalizeFaults(spec);
  const s = String(spec).trim();
  if (s.startsWith('{')) return normalizeFaults(JSON.parse(s));
  if (/^[0-9.]+$/.test(s)) return normalizeFaults({ rate: Number(s) });
  const out = {};
  for (const item of s.split(',')) {
    const [k, v = ''] = item.split('=').map((x) => x.trim());
    if (k === 'kinds' || k === 'routes') out[k] = v.split(/[+|]/).filter(Boolean);
    else if (k === 'phase') out.phase = v;
    else out[k] = Number(v);
  }
  return normalizeFaults(out);
}

export function normalizeFaults(f) {
  if (!f) return null;
  const rate = f.rate === undefined ? 0 : Number(f.rate);
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`faults.rate must be in [0, 1], got ${f.rate}`);
  const kinds = f.kinds ? [...f.kinds].map(String) : [...FAULT_KINDS];
  for (const k of kinds) if (!FAULT_KINDS.includes(k)) throw new RangeError(`faults: unknown kind "${k}" (known: ${FAULT_KINDS.join(', ')})`);
  const routes = f.routes ? [...f.routes] : [...FAULT_ROUTES];
  for (const r of routes) if (!FAULT_ROUTES.includes(r)) throw new RangeError(`faults: unknown route "${r}" (known: ${FAULT_ROUTES.join(', ')})`);
  const phase = f.phase || 'mixed';
  if (!['before', 'after', 'mixed'].includes(phase)) throw new RangeError(`faults.phase must be before, after or mixed, got ${phase}`);
  const seed = f.seed === undefined ? 1 : Number(f.seed);
  if (!Number.isFinite(seed)) throw new RangeError(`faults.seed must be a number, got ${f.seed}`);
  const stallMs = f.stallMs === undefined ? 30000 : Number(f.stallMs);
  return { rate, seed, kinds, routes, phase, stallMs };
}

const HTML = '<!doctype html><html><head><title>Sign in to the network</title></head><body><h1>Please sign in</h1></body></html>';

export class FaultInjector {
  constructor(options) {
    this.options = normalizeFaults(options) || { rate: 0, seed: 1, kinds: [], routes: [], phase: 'mixed', stallMs: 30000 };
    this.random = mulberry32(this.options.seed);
    this.log = []; // { n, route, kind, phase }
    this.timers = new Set();
    this.count = 0;
  }

  get enabled() {
    return this.options.rate > 0 && this.options.kinds.length > 0;
  }

  /** Decides the fault for one request on `route` (null: none). */
  decide(route) {
    if (!this.enabled || !this.options.routes.includes(route)) return null;
    this.count++;
    const r = this.random();
    const pick = this.random();
    const side = this.random();
    if (r >= this.options.rate) return null;
    const kinds = this.options.kinds.filter((k) => !ONLY_ON[k] || ONLY_ON[k] === route);
    if (!kinds.length) return null;
    const kind = kinds[Math.floor(pick * kinds.length)];
    const phase = this.options.phase === 'mixed' ? (side < 0.5 ? 'before' : 'after') : this.options.phase;
    return { n: this.count, route, kind, phase };
  }

  /** Wraps a route handler that returns a plain object (errors are thrown, never sent). */
  wrap(route, handler) {
    const injector = this;
    return async function faulty(request, reply) {
      const fault = injector.decide(route);
      if (!fault) return handler.call(this, request, reply);
      if (fault.phase === 'before') {
        const fields = await drain(request);
        injector.log.push(fault);
        return injector.apply(fault, request, reply, null, fields);
      }
      const result = await handler.call(this, request, reply); // a thrown error passes through unfaulted
      injector.log.push(fault);
      return injector.apply(fault, request, reply, result, {});
    };
  }

  apply(fault, request, reply, result, fields) {
    const { kind } = fault;
    const index = result?.chunkIndex ?? Number(fields.chunkIndex ?? request.body?.chunkIndex ?? 0);
    const body = result || { received: true, chunkIndex: Number.isFinite(index) ? index : 0, padding: 'x'.repeat(32) };
    reply.header('x-capturekit-fault', kind);
    switch (kind) {
      case '500':
        return reply.code(500).send({ error: 'injected fault: internal server error', statusCode: 500 });
      case '503':
        return reply.code(503).header('retry-after', '1').send({ error: 'injected fault: service unavailable', statusCode: 503 });
      case 'reset': {
        reply.hijack();
        const socket = request.raw.socket;
        if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
        else socket.destroy();
        return reply;
      }
      case 'stall': {
        reply.hijack();
        const socket = request.raw.socket;
        const timer = setTimeout(() => { this.timers.delete(timer); socket.destroy(); }, this.options.stallMs);
        timer.unref();
        this.timers.add(timer);
        socket.once('close', () => { clearTimeout(timer); this.timers.delete(timer); });
        return reply;
      }
      case 'truncated': {
        reply.hijack();
        const text = Buffer.from(JSON.stringify(body));
        const res = reply.raw;
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': text.length, 'x-capturekit-fault': kind });
        res.write(text.subarray(0, Math.max(1, text.length >> 1)), () => request.raw.socket.destroy());
        return reply;
      }
      case 'html':
        return reply.code(200).type('text/html; charset=utf-8').send(HTML);
      case 'nonjson':
        return reply.code(200).type('application/json; charset=utf-8').send('OK, got it\n');
      case 'missingSessionId': {
        const { sessionId, ...rest } = result || {};
        return reply.code(200).send(rest);
      }
      case 'wrongChunkIndex':
        return reply.code(200).send({ ...body, received: true, chunkIndex: (Number.isFinite(index) ? index : 0) + 1 });
      case 'errorBody200':
        return reply.code(200).send({ error: 'injected fault: the request failed', received: false });
      default:
        throw new Error(`unknown fault ${kind}`);
    }
  }

  close() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** Reads and discards the rest of a request body (multipart: keeps the small fields). */
async function drain(request) {
  const fields = {};
  if (typeof request.isMultipart === 'function' && request.isMultipart()) {
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') part.file.resume();
        else if (typeof part.value === 'string' && part.value.length < 256) fields[part.fieldname] = part.value;
      }
    } catch {
      // a malformed body is still a faulted request
    }
  }
  return fields;
}
