// ModelRuntime on two onnxruntime sessions: the hooked forward graph (with KV cache) and the logit-lens graph.
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { assertFitsContext, assertTokenIds } from '../arch/token-rules.js';
import { badRequest, unprocessable } from '../errors/problem-error.js';
import { allHookNames, unknownHook } from '../hooks/catalogue.js';
import { INPUT_IDS, pastKey, pastValue, presentKey, presentValue } from '../graph/build-gpt2.js';
import { LENS_K, LENS_ROWS, LENS_TOP_IDS, LENS_TOP_PROBS, LENS_TRACK_IDS, LENS_TRACKED } from '../graph/build-lens.js';
import { cacheReleased, OrtKvCache, type CachedTensor } from './kv-cache.js';
import { guardedRun, type RuntimeLogger } from './ort-guard.js';
import { editFeeds } from '../interventions/feeds.js';
import { editKey, type EditSlot, slotOf } from '../interventions/types.js';
import { runSweepJob } from '../sweep/run-job.js';
import { releaseSweepSessions, type SweepSessions, sweepPieces } from '../sweep/sessions.js';
import type { SweepJob, SweepOutcome, SweepProgress } from '../sweep/types.js';
import { familyOf, kvHeadsOf, type ModelDims } from '../arch/model-dims.js';
import type {
  Activation,
  ForwardRequest,
  ForwardResult,
  ModelRuntime,
  KvCache,
  LensRequest,
  LensRow,
} from './types.js';

/**
 * Runs on the calling thread. onnxruntime-node's session.run() only defers the work with setImmediate and then
 * computes synchronously: while a forward pass runs, this thread's event loop answers nothing else. The server
 * therefore runs this class inside worker threads (src/runtime/worker-runtime.ts); in-process use is for tests,
 * tools and MODEL_WORKERS=0. Overlapping run() calls on one session are safe (each gets its own outputs) but
 * gain nothing here, since each one holds the thread until it finishes.
 */
export class OrtModelRuntime implements ModelRuntime {
  readonly hookNames: readonly string[];
  private readonly hookSet: ReadonlySet<string>;
  private readonly owner = Symbol('gpt2-runtime');
  /** Caches handed to release(): refused from then on, as a worker-backed runtime must (its tensors are gone). */
  private readonly released = new WeakSet<OrtKvCache>();
  private disposed = false;
  /** Edit-graph sessions by edit structure (editKey), most recently used last; created on first use. */
  private readonly editSessions = new Map<string, Promise<InferenceSession>>();
  /** The sweep pieces, opened on the first sweep and kept while the model is loaded. */
  private sweepSessions: Promise<SweepSessions> | null = null;

  constructor(
    readonly name: string,
    readonly dims: ModelDims,
    private readonly forwardSession: InferenceSession,
    private readonly lensSession: InferenceSession,
    private readonly logger?: RuntimeLogger,
    /** Opens a session over the forward graph with these edits (load.ts); absent: interventions are refused. */
    private readonly openEditSession?: (slots: EditSlot[]) => Promise<InferenceSession>,
    /** How many edit structures keep a session (least recently used closed first). */
    private readonly maxEditSessions = 4,
    /** Opens the sweep pieces (load.ts; GPT-2 graphs only); absent: sweeps are refused. */
    private readonly openSweepSessions?: () => Promise<SweepSessions>,
  ) {
    this.hookNames = Object.freeze(allHookNames(dims.nLayer, familyOf(dims)));
    this.hookSet = new Set(this.hookNames);
  }

  /** An empty cache for this model (forward() also accepts `past` omitted). */
  emptyCache(): OrtKvCache {
    return OrtKvCache.empty(this.owner, this.dims.nLayer, kvHeadsOf(this.dims), this.dims.dHead);
  }

  async forward(req: ForwardRequest): Promise<ForwardResult> {
    this.assertOpen();
    const d = this.dims;
    const past = this.checkCache(req.past);
    const ids = req.tokenIds;
    if (ids.length === 0) throw badRequest('empty_input', 'Give at least one token id to run the model on.');
    assertTokenIds(ids, d.dVocab);
    const n = past.length + ids.length;
    assertFitsContext(n, d.nCtx, this.name, `${past.length} cached + ${ids.length} new tokens = ${n}`);
    const unknown = req.hooks.filter((h) => !this.hookSet.has(h));
    if (unknown.length) throw unknownHook(unknown, d.nLayer, familyOf(d));

    // feeds: ids [pos] and past keys/values [head, past_pos, d_head]
    const feeds: Record<string, ort.Tensor> = {
      [INPUT_IDS]: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [ids.length]),
    };
    for (let i = 0; i < d.nLayer; i++) {
      feeds[pastKey(i)] = new ort.Tensor('float32', past.keys[i].data, [...past.keys[i].dims]);
      feeds[pastValue(i)] = new ort.Tensor('float32', past.values[i].data, [...past.values[i].dims]);
    }
    // fetch only what was asked (+ logits and the new cache); onnxruntime then skips nodes no fetch depends on
    const fetches = new Set<string>(req.hooks);
    fetches.add('logits');
    for (let i = 0; i < d.nLayer; i++) fetches.add(presentKey(i)).add(presentValue(i));

    const edits = req.interventions ?? [];
    let session = this.forwardSession;
    if (edits.length > 0) {
      session = await this.editSession(edits.map(slotOf));
      // per-call numbers of every edit: [pos, ...rest] over the new positions
      for (const f of editFeeds(edits, past.length, ids.length))
        feeds[f.name] = new ort.Tensor('float32', f.data, f.dims);
    }

    const t0 = performance.now();
    const out = await guardedRun(session, feeds, [...fetches], {
      model: this.name,
      graph: edits.length > 0 ? 'forward+edits' : 'forward',
      logger: this.logger,
    });
    const runMs = performance.now() - t0;

    const activation = (hook: string): Activation => ({
      hook,
      dims: out[hook].dims,
      data: out[hook].data as Float32Array,
    });
    const cached = (name: string): CachedTensor => {
      const t = out[name];
      return { data: t.data as Float32Array, dims: [t.dims[0], t.dims[1], t.dims[2]] };
    };
    const activations = new Map<string, Activation>();
    for (const h of req.hooks) activations.set(h, activation(h));
    const present = new OrtKvCache(
      this.owner,
      past.length + ids.length,
      Array.from({ length: d.nLayer }, (_, i) => cached(presentKey(i))),
      Array.from({ length: d.nLayer }, (_, i) => cached(presentValue(i))),
    );
    return { activations, logits: activation('logits'), present, runMs };
  }

  async lens(req: LensRequest): Promise<LensRow[]> {
    this.assertOpen();
    const d = this.dims;
    if (!Number.isInteger(req.nRows) || req.nRows < 0 || req.rows.length !== req.nRows * d.dModel) {
      throw badRequest(
        'invalid_lens_rows',
        `Logit lens rows must be [nRows, ${d.dModel}]; got ${req.rows.length} values for ${req.nRows} rows.`,
      );
    }
    if (!Number.isInteger(req.topK) || req.topK < 1 || req.topK > d.dVocab) {
      throw badRequest('invalid_top_k', `top_k must be an integer in [1, ${d.dVocab}].`);
    }
    const track = req.trackIds ?? [];
    assertTokenIds(track, d.dVocab, 'trackIds');
    if (req.nRows === 0) return [];
    const feeds = {
      [LENS_ROWS]: new ort.Tensor('float32', req.rows, [req.nRows, d.dModel]),
      [LENS_K]: new ort.Tensor('int64', BigInt64Array.from([BigInt(req.topK)]), [1]),
      [LENS_TRACK_IDS]: new ort.Tensor('int64', BigInt64Array.from(track, BigInt), [track.length]),
    };
    const out = await guardedRun(this.lensSession, feeds, [LENS_TOP_PROBS, LENS_TOP_IDS, LENS_TRACKED], {
      model: this.name,
      graph: 'lens',
      logger: this.logger,
    });
    const probs = out[LENS_TOP_PROBS].data as Float32Array; // [rows, k]
    const topIds = out[LENS_TOP_IDS].data as BigInt64Array; // [rows, k]
    const tracked = out[LENS_TRACKED].data as Float32Array; // [rows, tracked]
    const k = req.topK;
    const m = track.length;
    return Array.from({ length: req.nRows }, (_, r) => ({
      topIds: Array.from(topIds.subarray(r * k, (r + 1) * k), Number),
      topProbs: Array.from(probs.subarray(r * k, (r + 1) * k)),
      tracked: Array.from(tracked.subarray(r * m, (r + 1) * m)),
    }));
  }

  async sweep(job: SweepJob, onProgress?: SweepProgress): Promise<SweepOutcome> {
    this.assertOpen();
    const open = this.openSweepSessions;
    if (!open) {
      throw unprocessable('sweep_unsupported', `${this.name} was loaded without sweep support (GPT-2 graphs only).`);
    }
    const pieces = async () => {
      this.sweepSessions ??= open();
      this.sweepSessions.catch(() => {
        this.sweepSessions = null;
      });
      return sweepPieces(await this.sweepSessions, this.dims, this.name, this.logger);
    };
    return runSweepJob(job, this.dims, (req) => this.forward(req), pieces, onProgress);
  }

  /** The garbage collector frees the arrays once nothing refers to the cache; this only makes later use a 409. */
  release(cache: KvCache): void {
    if (cache instanceof OrtKvCache && cache.owner === this.owner) this.released.add(cache);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const edits = [...this.editSessions.values()].map((p) => p.then((s) => s.release()).catch(() => undefined));
    this.editSessions.clear();
    const sweep = this.sweepSessions?.then(releaseSweepSessions).catch(() => undefined);
    await Promise.all([sweep, this.forwardSession.release(), this.lensSession.release(), ...edits]);
  }

  /** The session for an edit structure: cached, least recently used closed beyond maxEditSessions. */
  private editSession(slots: EditSlot[]): Promise<InferenceSession> {
    if (!this.openEditSession) {
      throw unprocessable('interventions_unsupported', `${this.name} was loaded without intervention support.`);
    }
    const key = editKey(slots);
    let p = this.editSessions.get(key);
    if (p) this.editSessions.delete(key);
    else {
      p = this.openEditSession(slots);
      p.catch(() => this.editSessions.delete(key));
    }
    this.editSessions.set(key, p);
    while (this.editSessions.size > this.maxEditSessions) {
      const [oldest, old] = this.editSessions.entries().next().value as [string, Promise<InferenceSession>];
      this.editSessions.delete(oldest);
      old.then((s) => s.release()).catch(() => undefined);
    }
    return p;
  }

  private assertOpen(): void {
    if (this.disposed) throw unprocessable('model_unloaded', `${this.name} has been unloaded; load it again.`);
  }

  private checkCache(past: ForwardRequest['past']): OrtKvCache {
    if (past === undefined) return this.emptyCache();
    if (!(past instanceof OrtKvCache) || past.owner !== this.owner) {
      throw badRequest('foreign_cache', `The KV cache passed to ${this.name} was made by another model or runtime.`);
    }
    if (this.released.has(past)) throw cacheReleased(this.name, past.length);
    return past;
  }
}
