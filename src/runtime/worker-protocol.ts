// Messages between WorkerRuntime (main thread) and runtime-worker (worker thread).
import { ProblemError } from '../errors/problem-error.js';
import type { ResolvedIntervention } from '../interventions/types.js';
import type { SweepJob, SweepOutcome } from '../sweep/types.js';
import type { ModelDims } from '../arch/model-dims.js';
import type { Activation, LensRequest, LensRow, SummarizeSpec } from './types.js';

/**
 * Main -> worker. `forward.past` names a cache the worker keeps (never the tensors themselves: a GPT-2-small
 * cache is 37 MB at 512 tokens). `release` and `close` carry no id and get no reply: after `close` the worker
 * answers what it already received, releases its sessions and exits.
 */
export type WorkerRequest =
  | {
      op: 'forward';
      id: number;
      tokenIds: number[];
      past?: number;
      hooks: string[];
      interventions?: ResolvedIntervention[];
      summarize?: SummarizeSpec;
    }
  | { op: 'lens'; id: number; req: LensRequest }
  | { op: 'sweep'; id: number; job: SweepJob }
  | { op: 'stats'; id: number }
  | { op: 'release'; caches: number[] }
  | { op: 'close' };

/** What the main thread learns about a cache that stays in the worker. */
export interface WireCacheRef {
  /** Worker-local id; the worker's Map id -> OrtKvCache holds the tensors. */
  id: number;
  length: number;
}

export interface WireForward {
  /** Float32Array buffers arrive transferred (moved), not copied. */
  activations: Activation[];
  logits: Activation;
  present: WireCacheRef;
  runMs: number;
  /** The summaries asked for by `forward.summarize`, computed in the worker (ForwardResult.summary). */
  summary?: { spec: SummarizeSpec; value: unknown; ms: number };
}

/** Caches a worker holds right now (release semantics are tested on this). */
export interface WorkerCacheStats {
  caches: number;
  bytes: number;
}

/** A ProblemError's fields (kept across the thread boundary), or a plain failure. */
export type WorkerError =
  | { statusCode: number; code: string; title: string; detail: string; extra: Record<string, unknown> }
  | { message: string };

export type WorkerReply =
  | {
      type: 'reply';
      id: number;
      ok: true;
      forward?: WireForward;
      lens?: LensRow[];
      stats?: WorkerCacheStats;
      sweep?: SweepOutcome;
    }
  | { type: 'reply'; id: number; ok: false; error: WorkerError };

/** Worker -> main, besides replies: start-up outcome and log records for the main thread's logger. */
export type WorkerEvent =
  | WorkerReply
  /** A sweep's cells done / total, before its reply. */
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'ready'; dims: ModelDims; hookNames: string[] }
  | { type: 'failed'; error: WorkerError }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: object; msg?: string };

/** workerData of a runtime worker. */
export interface WorkerInit {
  dir: string;
  name: string;
  threads?: number;
  spinning?: boolean;
}

/** Errors cross the boundary as data: a ProblemError keeps its status, code and extra fields (4xx stay 4xx). */
export function toWorkerError(err: unknown): WorkerError {
  if (err instanceof ProblemError) {
    return {
      statusCode: err.statusCode,
      code: err.code,
      title: err.title,
      detail: err.detail,
      extra: { ...err.extra },
    };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

export function fromWorkerError(e: WorkerError): Error {
  return 'code' in e ? new ProblemError(e.statusCode, e.code, e.title, e.detail, e.extra) : new Error(e.message);
}
