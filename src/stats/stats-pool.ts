// Summarise many tensors on two threads: a worker takes about half the values while the calling thread does the rest.
import { Worker } from 'node:worker_threads';
import { PRIMING_SAMPLES } from './prime.js';
import { checkBins, histogramFromCounts, histogramKernel, histogramScale, type HistogramResult } from './histogram.js';
import { MAX, MIN, STATS_SLOTS, statsFromKernel, statsKernel, type TensorStatsResult } from './tensor-stats.js';

export interface SummaryResult {
  stats: TensorStatsResult;
  histogram: HistogramResult;
}

/** Reply of the worker for one batch: kernel slots [jobs, STATS_SLOTS] and raw counts [jobs, bins + 1]. */
interface BatchReply {
  id: number;
  slots?: Float64Array;
  counts?: Int32Array;
  error?: string;
}

/**
 * The worker runs the very same kernels, shipped as source (both are self-contained functions), so a summary
 * is bit-for-bit the same on either thread. Input: one SharedArrayBuffer holding the tensors back to back.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const statsKernel = ${statsKernel.toString()};
const histogramKernel = ${histogramKernel.toString()};
const histogramScale = ${histogramScale.toString()};
const SLOTS = ${STATS_SLOTS};
// Type feedback for every branch before the first real tensor (see prime.ts).
for (let round = 0; round < 4; round++) {
  for (const values of ${JSON.stringify(PRIMING_SAMPLES.map((a) => Array.from(a, String)))}) {
    const sample = new Float32Array(values.map(Number));
    statsKernel(sample, new Float64Array(SLOTS));
    histogramKernel(sample, -7, 4 / 18, new Int32Array(5));
  }
}
parentPort.on('message', ({ id, buffer, starts, lengths, bins }) => {
  try {
    const data = new Float32Array(buffer);  // may be longer than this batch (a reused buffer)
    const slots = new Float64Array(lengths.length * SLOTS);
    const counts = new Int32Array(lengths.length * (bins + 1));
    for (let j = 0; j < lengths.length; j++) {
      const view = data.subarray(starts[j], starts[j] + lengths[j]);
      const out = slots.subarray(j * SLOTS, (j + 1) * SLOTS);
      statsKernel(view, out);
      const min = out[${MIN}], max = out[${MAX}];
      // Same rule as summarizeOne: no kernel when nothing is finite (min = +Inf) or min === max.
      if (max > min) histogramKernel(view, min, histogramScale(min, max, bins), counts.subarray(j * (bins + 1), (j + 1) * (bins + 1)));
    }
    parentPort.postMessage({ id, slots, counts }, [slots.buffer, counts.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.stack || err) });
  }
});
`;

/**
 * Largest shared buffer, kept between batches: the worker's lane is capped to it (a 128-token GPT-2-small trace puts
 * ~70 MB there; at 1024 tokens the rest stays in the calling thread rather than allocating and copying 1 GB).
 */
const MAX_SPARE_BYTES = 128 * 1024 * 1024;

/** One summary thread. Unref'd while idle so it never keeps the process alive; ref'd while a batch is out. */
export class StatsPool {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: BatchReply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private broken: Error | null = null;
  /**
   * The last batch's SharedArrayBuffer, kept for the next one: a fresh 70 MB buffer costs page faults and zeroing
   * (measured: the copy into it took 2-3x longer than into a reused one). A batch takes it or allocates its own.
   */
  private spare: SharedArrayBuffer | null = null;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (r: BatchReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      if (r.error) p.reject(new Error(`summary worker: ${r.error}`));
      else p.resolve(r);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`summary worker exited with code ${code}`)));
  }

  /** False once the worker has died; callers then summarise in-thread. */
  get usable(): boolean {
    return this.broken === null;
  }

  private fail(err: Error): void {
    this.broken ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /**
   * Stats + histogram of every tensor, in order. Tensors are split by size into two lanes of about equal values;
   * the worker's lane is copied into one SharedArrayBuffer (a memcpy, ~10x cheaper than summarising it), the
   * calling thread summarises its own lane meanwhile, then both are finalised here with the same functions.
   */
  async summarize(tensors: readonly Float32Array[], bins: number): Promise<SummaryResult[]> {
    checkBins(bins);
    if (this.broken) throw this.broken;
    const { mine, theirs } = splitLanes(tensors);
    let total = 0;
    for (const j of theirs) total += tensors[j].length;
    const bytes = total * Float32Array.BYTES_PER_ELEMENT;
    let buffer = this.spare;
    if (buffer !== null && buffer.byteLength >= bytes) this.spare = null;
    else buffer = new SharedArrayBuffer(bytes);
    const shared = new Float32Array(buffer, 0, total);
    const starts: number[] = [];
    let at = 0;
    for (const j of theirs) {
      starts.push(at);
      shared.set(tensors[j], at);
      at += tensors[j].length;
    }
    const id = this.nextId++;
    const reply = new Promise<BatchReply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.ref();
    this.worker.postMessage({ id, buffer, starts, lengths: theirs.map((j) => tensors[j].length), bins });

    const results = new Array<SummaryResult>(tensors.length);
    const slots = new Float64Array(STATS_SLOTS);
    for (const j of mine) results[j] = summarizeOne(tensors[j], bins, slots, null);
    const r = await reply;
    if (buffer.byteLength <= MAX_SPARE_BYTES && (this.spare === null || this.spare.byteLength < buffer.byteLength))
      this.spare = buffer;
    theirs.forEach((j, k) => {
      const out = r.slots!.subarray(k * STATS_SLOTS, (k + 1) * STATS_SLOTS);
      results[j] = summarizeOne(tensors[j], bins, out, r.counts!.subarray(k * (bins + 1), (k + 1) * (bins + 1)));
    });
    return results;
  }

  async close(): Promise<void> {
    this.fail(new Error('summary pool closed'));
    await this.worker.terminate();
  }
}

/**
 * In-thread summary of one tensor into `slots`; with `raw` given, the kernels already ran elsewhere (the worker)
 * and only the finalising is done here.
 */
export function summarizeOne(
  data: Float32Array,
  bins: number,
  slots: Float64Array,
  raw: Int32Array | null,
): SummaryResult {
  if (raw === null) statsKernel(data, slots);
  const stats = statsFromKernel(data.length, slots);
  const { min, max } = stats;
  if (min === null || max === null || min === max) {
    return { stats, histogram: histogramFromCounts(null, min, max, bins, stats.finiteCount) };
  }
  let counts = raw;
  if (counts === null) {
    counts = new Int32Array(bins + 1);
    histogramKernel(data, min, histogramScale(min, max, bins), counts);
  }
  return { stats, histogram: histogramFromCounts(counts, min, max, bins, 0) };
}

/**
 * Copying a value into the shared buffer costs about this fraction of summarising it (memcpy vs two passes), and
 * the calling thread pays it for the worker's whole lane; the split charges it so both threads finish together.
 */
const COPY_COST = 0.15;

/**
 * Largest tensors first, each to the lane that would finish first: values (+ copy cost for the caller's lane).
 * The worker's lane stays within `maxWorkerValues` (one reusable buffer); the caller takes whatever does not fit.
 */
export function splitLanes(
  tensors: readonly Float32Array[],
  maxWorkerValues = MAX_SPARE_BYTES / Float32Array.BYTES_PER_ELEMENT,
): { mine: number[]; theirs: number[] } {
  const order = tensors.map((_, j) => j).sort((a, b) => tensors[b].length - tensors[a].length);
  const mine: number[] = [];
  const theirs: number[] = [];
  let a = 0;
  let b = 0;
  for (const j of order) {
    const n = tensors[j].length;
    if (a + COPY_COST * b <= b || b + n > maxWorkerValues) {
      mine.push(j);
      a += n;
    } else {
      theirs.push(j);
      b += n;
    }
  }
  return { mine, theirs };
}

/**
 * A sensible threshold for callers that opt in: below ~4M values (a decode step, a prompt on a tiny model) the
 * round trip is not worth it. Not the default: on 2 shared, loaded cores the second thread measured 0.85-1.45x
 * (the copy plus contention with onnxruntime's threads and other processes eat the gain).
 */
export const POOL_MIN_VALUES = 4_000_000;

// One summary worker per process, created on the first large batch. Module state on purpose: it is a pure
// compute resource with no configuration, unref'd while idle; null once creating it has failed.
let sharedPool: StatsPool | null | undefined;

function sharedStatsPool(): StatsPool | null {
  if (sharedPool === undefined || (sharedPool !== null && !sharedPool.usable)) {
    try {
      sharedPool = new StatsPool();
    } catch {
      sharedPool = null;
    }
  }
  return sharedPool;
}

/**
 * Stats + histogram of every tensor, in order: on two threads when they hold at least `minValues` values (default:
 * never), else (or if the worker fails) in this thread. The results are the same either way: same kernels, same
 * finalising.
 */
export async function summarizeTensors(
  tensors: readonly Float32Array[],
  bins: number,
  minValues = Infinity,
): Promise<SummaryResult[]> {
  checkBins(bins);
  let total = 0;
  for (const t of tensors) total += t.length;
  const pool = total >= minValues ? sharedStatsPool() : null;
  if (pool) {
    try {
      return await pool.summarize(tensors, bins);
    } catch {
      // The worker died (it is replaced on the next call): summarise here instead.
    }
  }
  const slots = new Float64Array(STATS_SLOTS);
  return tensors.map((t) => summarizeOne(t, bins, slots, null));
}
