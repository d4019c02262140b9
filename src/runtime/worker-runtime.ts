// WorkerRuntime: the ModelRuntime contract served by N worker threads, each with its own onnxruntime sessions and KV caches.
// Keeps the event loop free during forward passes and lets N passes run on N cores (memory: N copies of the weights).
import { badRequest, unprocessable } from '../errors/problem-error.js';
import { cacheReleased } from './kv-cache.js';
import type { RuntimeLogger } from './ort-guard.js';
import type { ModelDims } from '../arch/model-dims.js';
import type { ForwardRequest, ForwardResult, ModelRuntime, KvCache, LensRequest, LensRow } from './types.js';
import type { WorkerCacheStats } from './worker-protocol.js';
import type { SweepJob, SweepOutcome, SweepProgress } from '../sweep/types.js';
import { WorkerSlot } from './worker-slot.js';

/**
 * The main thread's view of a cache: a handle. The tensors stay in the worker that computed them, so a decode
 * step sends one token id and gets back activations, never the cache (37 MB at 512 tokens for GPT-2 small).
 * Immutable like every KvCache: any handle can be continued again (branching), always on its own worker.
 */
class WorkerKvCache implements KvCache {
  constructor(
    readonly owner: symbol,
    readonly length: number,
    /** Index of the worker holding the tensors (affinity: forward with this as `past` runs there). */
    readonly slot: number,
    /** That worker's life when the cache was made; a restarted worker no longer has it. */
    readonly epoch: number,
    /** The worker's id for it. */
    readonly id: number,
  ) {
    Object.freeze(this);
  }
}

interface CacheRef {
  slot: number;
  epoch: number;
  id: number;
}

export interface WorkerRuntimeOptions {
  name: string;
  /** Worker threads, each a full copy of the sessions (default 1). */
  workers?: number;
  /** onnxruntime intra-op threads per worker (default: onnxruntime's, one per core). */
  threads?: number;
  /** onnxruntime intra-op spinning (see LoadOptions.spinning). */
  spinning?: boolean;
  /** Receives the workers' log records and crash reports (app.log). */
  logger?: RuntimeLogger;
}

export class WorkerRuntime implements ModelRuntime {
  private readonly owner = Symbol('worker-runtime');
  private readonly released = new WeakSet<WorkerKvCache>();
  /** A handle the caller dropped without release(): free its tensors in the worker once it is garbage-collected. */
  private readonly finalizer = new FinalizationRegistry<CacheRef>((ref) =>
    this.slots[ref.slot]?.release(ref.epoch, [ref.id]),
  );
  private disposed = false;

  private constructor(
    readonly name: string,
    readonly dims: ModelDims,
    readonly hookNames: readonly string[],
    private readonly slots: readonly WorkerSlot[],
  ) {}

  /** Forward passes that can run at the same time (one per worker); the stream's gate reads it. */
  get parallelism(): number {
    return this.slots.length;
  }

  /** Start every worker (in parallel) and wait until each has loaded the model; a failure stops them all. */
  static async load(dir: string, opts: WorkerRuntimeOptions): Promise<WorkerRuntime> {
    const n = Math.max(1, Math.floor(opts.workers ?? 1));
    const init = { dir, name: opts.name, threads: opts.threads, spinning: opts.spinning };
    const slots = Array.from({ length: n }, (_, i) => new WorkerSlot(i, init, opts.logger));
    const started = await Promise.allSettled(slots.map((s) => s.start()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled(slots.map((s) => s.close()));
      throw failed.reason;
    }
    const model = (started[0] as PromiseFulfilledResult<{ dims: ModelDims; hookNames: readonly string[] }>).value;
    return new WorkerRuntime(opts.name, Object.freeze({ ...model.dims }), Object.freeze([...model.hookNames]), slots);
  }

  async forward(req: ForwardRequest): Promise<ForwardResult> {
    this.assertOpen();
    const past = req.past === undefined ? undefined : this.checkCache(req.past);
    const slot = past ? this.slots[past.slot]! : this.leastBusy();
    const { reply, epoch } = await slot.call(
      (id) => ({
        op: 'forward',
        id,
        tokenIds: [...req.tokenIds],
        past: past?.id,
        hooks: [...req.hooks],
        ...(req.interventions?.length ? { interventions: [...req.interventions] } : {}),
        ...(req.summarize ? { summarize: req.summarize } : {}),
      }),
      past?.epoch,
      () => cacheReleased(this.name, past?.length, 'the worker holding it stopped and was restarted'),
    );
    const f = reply.forward;
    if (!f) throw new Error('the model worker returned no forward result');
    const present = new WorkerKvCache(this.owner, f.present.length, slot.index, epoch, f.present.id);
    this.finalizer.register(present, { slot: slot.index, epoch, id: f.present.id }, present);
    return {
      activations: new Map(f.activations.map((a) => [a.hook, a])),
      logits: f.logits,
      present,
      runMs: f.runMs,
      ...(f.summary ? { summary: f.summary } : {}),
    };
  }

  async lens(req: LensRequest): Promise<LensRow[]> {
    this.assertOpen();
    // rows [nRows, d_model] are copied to the worker (small: layers x positions rows); the caller keeps its array.
    const { reply } = await this.leastBusy().call((id) => ({ op: 'lens', id, req }));
    return reply.lens ?? [];
  }

  /** A sweep runs whole in one worker (its base run's cache never leaves it); progress arrives as it goes. */
  async sweep(job: SweepJob, onProgress?: SweepProgress): Promise<SweepOutcome> {
    this.assertOpen();
    const { reply } = await this.leastBusy().call((id) => ({ op: 'sweep', id, job }), undefined, undefined, onProgress);
    if (!reply.sweep) throw new Error('the model worker returned no sweep result');
    return reply.sweep;
  }

  /** Free a cache's tensors in its worker now. Idempotent; later use is a 409 cache_released; other runtimes' caches are ignored. */
  release(cache: KvCache): void {
    if (!(cache instanceof WorkerKvCache) || cache.owner !== this.owner || this.released.has(cache)) return;
    this.released.add(cache);
    this.finalizer.unregister(cache);
    this.slots[cache.slot]?.release(cache.epoch, [cache.id]);
  }

  /** Worker threads alive now (0 after dispose(); a crashed worker counts again once restarted). */
  get liveWorkers(): number {
    return this.slots.filter((s) => s.running).length;
  }

  /** Caches each worker holds right now (index = worker). */
  async cacheStats(): Promise<WorkerCacheStats[]> {
    return Promise.all(this.slots.map((s) => s.stats()));
  }

  /** Terminate the workers; calls in flight fail with 422 model_unloaded. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.allSettled(this.slots.map((s) => s.close()));
  }

  private leastBusy(): WorkerSlot {
    return this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private assertOpen(): void {
    if (this.disposed) throw unprocessable('model_unloaded', `${this.name} has been unloaded; load it again.`);
  }

  private checkCache(past: KvCache): WorkerKvCache {
    if (!(past instanceof WorkerKvCache) || past.owner !== this.owner) {
      throw badRequest('foreign_cache', `The KV cache passed to ${this.name} was made by another model or runtime.`);
    }
    if (this.released.has(past)) throw cacheReleased(this.name, past.length);
    if (past.epoch !== this.slots[past.slot]!.epoch) {
      throw cacheReleased(this.name, past.length, 'the worker holding it stopped and was restarted');
    }
    return past;
  }
}
