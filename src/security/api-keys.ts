// Optional API keys: which key a request presents, whether it is one of API_KEYS, and the client it names.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Shortest key API_KEYS accepts: a guessable key is no protection. */
export const MIN_API_KEY_LENGTH = 16;

/** The key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>` (the first wins). */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m) return m[1];
  }
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x.trim() !== '') return x.trim();
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
