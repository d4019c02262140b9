// One runtime worker thread of a WorkerRuntime: start (and restart after a crash), request/reply, release, teardown.
import { Worker } from 'node:worker_threads';
import { serviceUnavailable, unprocessable } from '../errors/problem-error.js';
import type { RuntimeLogger } from './ort-guard.js';
import type { ModelDims } from '../arch/model-dims.js';
import {
  fromWorkerError,
  type WorkerCacheStats,
  type WorkerEvent,
  type WorkerInit,
  type WorkerReply,
  type WorkerRequest,
} from './worker-protocol.js';
import { workerUrl } from './worker-url.js';

/** How long close() waits for a worker to finish its current work before terminating it. */
const CLOSE_GRACE_MS = 60_000;

export type OkReply = Extract<WorkerReply, { ok: true }>;
type Call = Exclude<WorkerRequest, { op: 'release' }>;

export interface WorkerModel {
  dims: ModelDims;
  hookNames: readonly string[];
}

export class WorkerSlot {
  private worker: Worker | null = null;
  private starting: Promise<WorkerModel> | null = null;
  private readonly pending = new Map<
    number,
    { resolve: (r: OkReply) => void; reject: (e: Error) => void; progress?: (done: number, total: number) => void }
  >();
  private nextId = 1;
  private closed = false;
  /**
   * The life of this slot's worker: bumped when a worker stops unexpectedly. Cache ids are only meaningful within
   * one life (a restarted worker starts with no caches and counts ids from 1 again), so handles carry it.
   */
  epoch = 0;
  /** Requests accepted and not yet answered, counted from the call (not the send) so back-to-back picks spread out. */
  busy = 0;

  constructor(
    readonly index: number,
    private readonly init: WorkerInit,
    private readonly logger?: RuntimeLogger,
  ) {}

  /** Start the worker unless one is running or starting: first use, and the next use after a crash. */
  start(): Promise<WorkerModel> {
    if (this.closed) return Promise.reject(this.unloaded());
    const restart = this.epoch > 0;
    this.starting ??= this.spawn().catch((err: unknown) => {
      this.starting = null; // the next call tries again
      if (!restart) throw err; // the first load: the caller (the registry) reports it
      // A restart that fails (say the checkpoint changed on disk) is the server's problem, not the request's.
      this.logger?.error({ model: this.init.name, worker: this.index, err }, 'model worker could not be restarted');
      throw serviceUnavailable(
        'model_load_failed',
        `The model "${this.init.name}" could not be restarted; the error was logged.`,
      );
    });
    return this.starting;
  }

  private spawn(): Promise<WorkerModel> {
    return new Promise<WorkerModel>((resolve, reject) => {
      const w = new Worker(workerUrl('runtime-worker', import.meta.url), { workerData: this.init });
      let ready = false;
      let lastError: Error | undefined;
      w.on('message', (e: WorkerEvent) => {
        if (e.type === 'reply') return this.settle(e);
        if (e.type === 'progress') return this.pending.get(e.id)?.progress?.(e.done, e.total);
        if (e.type === 'log') return this.logger?.[e.level]({ ...e.obj, worker: this.index }, e.msg);
        if (e.type === 'ready') {
          ready = true;
          this.worker = w;
          this.refIfBusy();
          return resolve({ dims: e.dims, hookNames: e.hookNames });
        }
        reject(fromWorkerError(e.error)); // 'failed': the checkpoint or onnxruntime refused; the worker is discarded
        void w.terminate();
      });
      w.on('error', (err) => {
        lastError = err; // an uncaught exception in the worker; 'exit' follows
      });
      w.on('exit', (code) => {
        if (this.worker === w) this.worker = null;
        if (!ready)
          return reject(lastError ?? new Error(`the ${this.init.name} worker exited with code ${code} while loading`));
        this.starting = null;
        if (this.closed) return this.failPending(this.unloaded());
        this.epoch++;
        this.logger?.error(
          { model: this.init.name, worker: this.index, exitCode: code, err: lastError },
          'model worker stopped unexpectedly; it restarts on next use',
        );
        this.failPending(
          serviceUnavailable(
            'model_worker_crashed',
            `The worker thread running ${this.init.name} stopped unexpectedly and this request was lost; it restarts on the next request, so try again.`,
          ),
        );
      });
    });
  }

  /** Send a request and wait for its reply. `epoch` (for a request naming a cache): refuse if the worker changed since. */
  async call(
    make: (id: number) => Call,
    epoch?: number,
    onLost?: () => Error,
    progress?: (done: number, total: number) => void,
  ): Promise<{ reply: OkReply; epoch: number }> {
    this.busy++;
    try {
      return await this.send(make, epoch, onLost, progress);
    } finally {
      this.busy--;
    }
  }

  private async send(
    make: (id: number) => Call,
    epoch?: number,
    onLost?: () => Error,
    progress?: (done: number, total: number) => void,
  ): Promise<{ reply: OkReply; epoch: number }> {
    await this.start();
    // Synchronous from here to postMessage: the worker cannot change between these checks and the send.
    if (this.closed) throw this.unloaded();
    if (epoch !== undefined && epoch !== this.epoch)
      throw (onLost ?? (() => new Error('cache from an earlier worker')))();
    const w = this.worker;
    if (!w)
      throw serviceUnavailable(
        'model_worker_crashed',
        `The worker thread running ${this.init.name} is not running; try again.`,
      );
    const id = this.nextId++;
    const sentIn = this.epoch;
    const reply = await new Promise<OkReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress });
      w.ref(); // a pending reply keeps the process alive; an idle worker does not (see refIfBusy)
      w.postMessage(make(id));
    });
    return { reply, epoch: sentIn };
  }

  /** Drop caches in the worker; ids from an earlier life of the slot are already gone with that worker. */
  release(epoch: number, caches: number[]): void {
    if (epoch === this.epoch && this.worker && !this.closed)
      this.worker.postMessage({ op: 'release', caches } satisfies WorkerRequest);
  }

  /** Caches the worker holds; a slot without a running worker holds none (and is not started for this). */
  async stats(): Promise<WorkerCacheStats> {
    if (!this.worker) return { caches: 0, bytes: 0 };
    const { reply } = await this.call((id) => ({ op: 'stats', id }));
    return reply.stats ?? { caches: 0, bytes: 0 };
  }

  /**
   * Stop the worker gracefully: it answers what it already received, releases its sessions and exits. Never
   * terminate() a worker that may be inside onnxruntime's run(): the addon then throws into a dead JS
   * environment and the whole process aborts. Only a worker still busy after CLOSE_GRACE_MS is terminated.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const w =
      this.worker ??
      (await this.starting?.then(
        () => this.worker,
        () => null,
      )) ??
      null;
    if (!w) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.ref();
    w.postMessage({ op: 'close' } satisfies WorkerRequest);
    const timer = setTimeout(() => {
      this.logger?.warn(
        { model: this.init.name, worker: this.index },
        'model worker did not stop in time; terminating it',
      );
      void w.terminate();
    }, CLOSE_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Whether a worker thread is alive for this slot. */
  get running(): boolean {
    return this.worker !== null;
  }

  private settle(r: WorkerReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    this.refIfBusy();
    if (r.ok) p.resolve(r);
    else p.reject(fromWorkerError(r.error));
  }

  private failPending(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  /** An idle worker must not keep the process alive (a forgotten dispose() would hang test runs and CLIs). */
  private refIfBusy(): void {
    if (!this.worker) return;
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private unloaded(): Error {
    return unprocessable('model_unloaded', `${this.init.name} has been unloaded; load it again.`);
  }
}
