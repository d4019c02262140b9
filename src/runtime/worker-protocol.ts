// Messages between WorkerRuntime (main thread) and runtime-worker (worker thread).
import type { Activation, Gpt2Dims, LensRequest, LensRow } from '../runtime/types.js';
import type { CachedTensor } from '../runtime/kv-cache.js';

/** A KV cache as plain data: it crosses the thread boundary by structured clone, so any thread may continue it. */
export interface WireCache {
  length: number;
  keys: CachedTensor[];
  values: CachedTensor[];
}

export type WorkerRequest =
  | { id: number; op: 'forward'; tokenIds: number[]; past?: WireCache; hooks: string[] }
  | { id: number; op: 'lens'; req: LensRequest }
  | { id: number; op: 'dispose' };

export interface WireForward {
  activations: Activation[];
  logits: Activation;
  present: WireCache;
  runMs: number;
}

export type WorkerError = { statusCode: number; code: string; title: string; detail: string } | { message: string };

export type WorkerReply =
  | { id: number; ok: true; forward?: WireForward; lens?: LensRow[] }
  | { id: number; ok: false; error: WorkerError };

export interface WorkerReady {
  ready: true;
  dims: Gpt2Dims;
  hookNames: string[];
}
