// Bearer tokens: "token1:user1,token2:user2". Tokens are compared by their SHA-256 (a Map lookup on
// the digest, so the comparison time does not depend on how much of a guess was right).
import { createHash, randomBytes } from 'node:crypto';
import { USER_RE, httpError } from './storage.js';

const digest = (t) => createHash('sha256').update(t).digest('hex');
const TOKEN_CHARS = /^[\x21-\x7e]{8,512}$/; // visible ASCII, no spaces or commas inside a token

/** Parses "token:user,token:user" (or an array / object token->user) into a Map digest -> user. */
export function parseTokens(spec) {
  const pairs = [];
  if (typeof spec === 'string') {
    for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
      const at = item.lastIndexOf(':');
      if (at <= 0) throw new Error(`tokens: "${item}" is not token:user`);
      pairs.push([item.slice(0, at), item.slice(at + 1)]);
    }
  } else if (Array.isArray(spec)) {
    for (const p of spec) pairs.push(Array.isArray(p) ? p : [p.token, p.user]);
  } else if (spec && typeof spec === 'object') {
    pairs.push(...Object.entries(spec));
  }
  const map = new Map();
  for (const [token, user] of pairs) {
    if (typeof token !== 'string' || !TOKEN_CHARS.test(token) || token.includes(',')) {
      throw new Error('tokens: each token must be 8..512 visible ASCII characters without commas');
    }
    if (typeof user !== 'string' || !USER_RE.test(user)) {
      throw new Error(`tokens: user ${JSON.stringify(user)} must match ${USER_RE}`);
    }
    map.set(digest(token), user);
  }
  return map;
}

/** A fresh random dev token (128 bits) for user "dev", used when no tokens are configured. */
export function makeDevToken() {
  return `dev-${randomBytes(16).toString('base64url')}`;
}

/** The user for an Authorization header value, or null. */
export function userFor(tokens, header) {
  if (typeof header !== 'string') return null;
  const m = /^Bearer[ ]+([\x21-\x7e]{1,512})[ ]*$/i.exec(header);
  if (!m) return null;
  return tokens.get(digest(m[1])) || null;
}

/** A fastify onRequest hook that sets request.user or replies 401. */
export function bearerAuth(tokens) {
  return async function authenticate(request, reply) {
    const user = userFor(tokens, request.headers.authorization);
    if (!user) {
      reply.header('www-authenticate', 'Bearer realm="capturekit"');
      throw httpError(401, request.headers.authorization ? 'invalid bearer token' : 'missing bearer token');
    }
    request.user = user;
  };
}
