// Optional API keys: which key a request presents, whether it is one of API_KEYS, and the client it names.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Shortest key API_KEYS accepts: a guessable key is no protection. */
export const MIN_API_KEY_LENGTH = 16;

/**
 * WebSocket subprotocol that carries a key from a browser, which cannot set headers on an upgrade:
 * `tensortrace.key.<base64url of the key>`, offered next to `tensortrace` (WS_SUBPROTOCOL), which the server
 * selects, so the key is never echoed.
 */
export const KEY_PROTOCOL_PREFIX = 'tensortrace.key.';
export const WS_SUBPROTOCOL = 'tensortrace';

/**
 * The key a request presents: `Authorization: Bearer <key>`, `X-API-Key: <key>`, or (a WebSocket upgrade) the
 * `tensortrace.key.<base64url>` subprotocol; the first wins.
 */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m) return m[1];
  }
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x.trim() !== '') return x.trim();
  const protocols = headers['sec-websocket-protocol'];
  if (typeof protocols === 'string') {
    const offered = protocols.split(',').map((p) => p.trim());
    const k = offered.find((p) => p.startsWith(KEY_PROTOCOL_PREFIX))?.slice(KEY_PROTOCOL_PREFIX.length);
    if (k) return Buffer.from(k, 'base64url').toString('utf8');
  }
  return undefined;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The configured keys, compared in constant time (digests of equal length, every key checked), so the reply time
 * does not tell how much of a guess was right. `identity` names the client by a short digest, never the key.
 */
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** The client identity (`key:<12 hex>`) of a valid key, or undefined. */
  identify(key: string | undefined): string | undefined {
    if (key === undefined) return undefined;
    const d = digest(key);
    let match = false;
    for (const k of this.digests) match = timingSafeEqual(d, k) || match;
    return match ? `key:${d.toString('hex').slice(0, 12)}` : undefined;
  }
}
