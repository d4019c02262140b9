// The KV cache as the runtime keeps it: per layer, keys and values [head, length, d_head] as returned by onnxruntime.
import { conflict, type ProblemError } from '../errors/problem-error.js';
import type { KvCache } from './types.js';

/** One layer's cached keys or values: [head, length, d_head], row-major float32. */
export interface CachedTensor {
  data: Float32Array;
  dims: readonly [number, number, number];
}

/**
 * Immutable by construction: the arrays come from onnxruntime outputs that nothing writes to afterwards,
 * and forward() builds a new cache from the new outputs instead of appending, so any earlier cache can be
 * branched from (the stream relies on that).
 */
export class OrtKvCache implements KvCache {
  constructor(
    /** Identifies the runtime that made it: a cache from another model has other shapes. */
    readonly owner: symbol,
    readonly length: number,
    readonly keys: readonly CachedTensor[],
    readonly values: readonly CachedTensor[],
  ) {
    Object.freeze(this);
  }

  /** An empty cache: every layer [head, 0, d_head]. */
  static empty(owner: symbol, nLayer: number, nHead: number, dHead: number): OrtKvCache {
    const none = (): CachedTensor => ({ data: new Float32Array(0), dims: [nHead, 0, dHead] });
    return new OrtKvCache(owner, 0, Array.from({ length: nLayer }, none), Array.from({ length: nLayer }, none));
  }

  /** Bytes held (keys + values of every layer). */
  get byteLength(): number {
    let n = 0;
    for (const t of [...this.keys, ...this.values]) n += t.data.byteLength;
    return n;
  }
}

/**
 * 409 cache_released: the cache was released (explicitly, or its worker stopped) and its tensors are gone.
 * A caller that still needs it re-runs the tokens it covered.
 */
export function cacheReleased(model: string, length: number | undefined, why = 'it was released'): ProblemError {
  const what = length === undefined ? 'The KV cache' : `The KV cache of ${length} token${length === 1 ? '' : 's'}`;
  return conflict(
    'cache_released',
    `${what} passed to ${model} no longer exists (${why}); run those tokens again to rebuild it.`,
    {
      ...(length === undefined ? {} : { cache_length: length }),
    },
  );
}

/** The buffers an in-thread cache holds (none for a handle to a cache held elsewhere): they must stay in this thread. */
export function cacheBuffers(cache: KvCache): Set<ArrayBufferLike> {
  if (!(cache instanceof OrtKvCache)) return new Set();
  return new Set([...cache.keys, ...cache.values].map((t) => t.data.buffer));
}
