// WorkerRuntime: the Gpt2Runtime contract served by N worker threads, each with its own onnxruntime sessions.
// Keeps the event loop free during forward passes and lets N passes run on N cores (memory: N copies of the weights).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ProblemError } from '../errors/problem-error.js';
import type { ForwardRequest, ForwardResult, Gpt2Dims, Gpt2Runtime, KvCache, LensRequest, LensRow } from '../runtime/types.js';
import type { WireCache, WorkerReady, WorkerReply, WorkerRequest } from './worker-protocol.js';

/** The main thread's view of a cache: plain data, immutable, usable by any worker (so any earlier cache can be branched). */
class WireKvCache implements KvCache {
  constructor(readonly wire: WireCache) {
    Object.freeze(this);
  }
  get length(): number {
    return this.wire.length;
  }
}

interface Slot {
  worker: Worker;
  busy: number;
  pending: Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>;
}

export interface WorkerRuntimeOptions {
  name: string;
  /** Worker threads, each a full copy of the sessions (default 1). */
  workers?: number;
  /** onnxruntime intra-op threads per worker (default: onnxruntime's). */
  threads?: number;
}

// tsx runs the .ts sources, the build runs .js: the worker entry has this file's extension.
const here = fileURLToPath(import.meta.url);
const ENTRY = new URL(`./runtime-worker${path.extname(here)}`, import.meta.url);
/**
 * Workers do not inherit tsx's loader hooks, and `--import tsx` in execArgv comes too late for a .ts entry on
 * Node 20: when running from source, boot through a tiny module that registers tsx first, then imports the entry.
 */
function workerEntry(): URL {
  if (path.extname(here) !== '.ts') return ENTRY;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(ENTRY.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

export class WorkerRuntime implements Gpt2Runtime {
  private nextId = 1;
  private constructor(
    readonly name: string,
    readonly dims: Gpt2Dims,
    readonly hookNames: readonly string[],
    private readonly slots: Slot[],
  ) {}

  /** Forward passes that can run at the same time (one per worker); the stream's gate reads it. */
  get parallelism(): number {
    return this.slots.length;
  }

  static async load(dir: string, opts: WorkerRuntimeOptions): Promise<WorkerRuntime> {
    const n = Math.max(1, opts.workers ?? 1);
    const slots: Slot[] = [];
    let ready: WorkerReady | undefined;
    for (let i = 0; i < n; i++) {
      const worker = new Worker(workerEntry(), { workerData: { dir, name: opts.name, threads: opts.threads } });
      const slot: Slot = { worker, busy: 0, pending: new Map() };
      ready = await new Promise<WorkerReady>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('message', (m: WorkerReady) => resolve(m));
      });
      worker.on('message', (r: WorkerReply) => {
        const p = slot.pending.get(r.id);
        slot.pending.delete(r.id);
        p?.resolve(r);
      });
      worker.on('error', (err) => {
        for (const p of slot.pending.values()) p.reject(err);
        slot.pending.clear();
      });
      slots.push(slot);
    }
    const r = ready as WorkerReady;
    return new WorkerRuntime(opts.name, r.dims, r.hookNames, slots);
  }

  /** The least busy worker (ties: the first). */
  private async call(make: (id: number) => WorkerRequest): Promise<WorkerReply> {
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    try {
      const reply = await new Promise<WorkerReply>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage(make(id));
      });
      if (!reply.ok) {
        const e = reply.error;
        throw 'code' in e ? new ProblemError(e.statusCode, e.code, e.title, e.detail) : new Error(e.message);
      }
      return reply;
    } finally {
      slot.busy--;
    }
  }

  async forward(req: ForwardRequest): Promise<ForwardResult> {
    const past = req.past === undefined ? undefined : req.past instanceof WireKvCache ? req.past.wire : undefined;
    if (req.past !== undefined && !past) throw new Error(`The KV cache passed to ${this.name} was not made by it.`);
    const reply = await this.call((id) => ({ id, op: 'forward', tokenIds: [...req.tokenIds], past, hooks: [...req.hooks] }));
    const f = reply.ok ? reply.forward : undefined;
    if (!f) throw new Error('worker returned no forward result');
    return {
      activations: new Map(f.activations.map((a) => [a.hook, a])),
      logits: f.logits,
      present: new WireKvCache(f.present),
      runMs: f.runMs,
    };
  }

  async lens(req: LensRequest): Promise<LensRow[]> {
    const reply = await this.call((id) => ({ id, op: 'lens', req }));
    return (reply.ok && reply.lens) || [];
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.slots.map((s) => s.worker.terminate()));
  }
}
