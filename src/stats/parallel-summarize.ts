// summarizeTensors on both cores: part of the tensors goes to a helper thread by transfer while this thread does the
// rest, then the buffers come back. Used where the summaries are computed (the model worker; in-process runtimes).
import { Worker } from 'node:worker_threads';
import { workerUrl } from '../runtime/worker-url.js';
import { summarizeTensors, type SummaryResult } from './summarize.js';

export interface SummaryJob {
  id: number;
  tensors: Float32Array[];
  bins: number;
}

export type SummaryReply =
  | { id: number; tensors: Float32Array[]; results: SummaryResult[] }
  | { id: number; tensors: Float32Array[]; error: string };

/** Below this many values in all, one thread is faster: the round trip (~0.2 ms) costs more than half the work. */
export const PARALLEL_MIN_VALUES = 1 << 19;

/** One helper per thread that summarises, started on first use; unref'd, so it never keeps the process alive. */
let helper: { worker: Worker; pending: Map<number, (r: SummaryReply) => void>; next: number } | null = null;
/** Set when a helper failed with an error (not a clean exit): from then on everything is summarised in this thread. */
let helperFailed = false;

function startHelper() {
  const worker = new Worker(workerUrl('summary-worker', import.meta.url));
  worker.unref();
  const h = { worker, pending: new Map<number, (r: SummaryReply) => void>(), next: 1 };
  worker.on('message', (r: SummaryReply) => {
    h.pending.get(r.id)?.(r);
    h.pending.delete(r.id);
  });
  // A helper that dies fails what it holds (its buffers went with it); after an error none is started again.
  const fail = (why: string) => {
    if (helper === h) helper = null;
    for (const [id, settle] of h.pending) settle({ id, tensors: [], error: why });
    h.pending.clear();
  };
  worker.on('error', (err) => {
    helperFailed = true;
    fail(String(err));
  });
  worker.on('exit', (code) => fail(`the summary helper exited with code ${code}`));
  return h;
}

/** Start the helper now (at model load), so the first large summary does not wait for the thread to boot. */
export function warmSummaryHelper(): void {
  helper ??= startHelper();
}

/**
 * A tensor can travel when it is the whole of a plain ArrayBuffer that no other tensor of the list and nothing in
 * `keep` (e.g. a KV cache that stays in this thread) uses: then transferring it moves no bytes.
 */
function movable(list: readonly Float32Array[], keep: ReadonlySet<ArrayBufferLike>): boolean[] {
  const uses = new Map<ArrayBufferLike, number>();
  for (const t of list) uses.set(t.buffer, (uses.get(t.buffer) ?? 0) + 1);
  return list.map(
    (t) =>
      t.buffer instanceof ArrayBuffer &&
      t.byteOffset === 0 &&
      t.byteLength === t.buffer.byteLength &&
      uses.get(t.buffer) === 1 &&
      !keep.has(t.buffer),
  );
}

/**
 * summarizeTensors(tensors, bins), split between this thread and the helper by value count (largest movable tensors
 * to the helper until it has about half). The tensors the helper summarised come back in new views over the same
 * memory: `tensors[j]` is replaced, and the old view is detached; the caller re-reads its tensors from the array.
 */
export async function summarizeInParallel(
  tensors: Float32Array[],
  bins: number,
  keep: ReadonlySet<ArrayBufferLike> = new Set(),
): Promise<SummaryResult[]> {
  const total = tensors.reduce((n, t) => n + t.length, 0);
  if (total < PARALLEL_MIN_VALUES || helperFailed) return summarizeTensors(tensors, bins);
  const canMove = movable(tensors, keep);
  const order = tensors.map((_, j) => j).sort((a, b) => tensors[b].length - tensors[a].length);
  const away: number[] = [];
  let share = 0;
  for (const j of order) {
    if (!canMove[j] || share + tensors[j].length > total / 2) continue;
    away.push(j);
    share += tensors[j].length;
  }
  if (away.length === 0) return summarizeTensors(tensors, bins);
  warmSummaryHelper();
  const h = helper as NonNullable<typeof helper>;
  const id = h.next++;
  const sent = away.map((j) => tensors[j]);
  const reply = new Promise<SummaryReply>((resolve) => h.pending.set(id, resolve));
  h.worker.postMessage(
    { id, tensors: sent, bins } satisfies SummaryJob,
    sent.map((t) => t.buffer as ArrayBuffer),
  );
  const awayAt = new Map(away.map((j, i) => [j, i]));
  const local = summarizeTensors(
    tensors.filter((_, j) => !awayAt.has(j)),
    bins,
  );
  const r = await reply;
  if ('error' in r) throw new Error(`summary helper: ${r.error}`);
  let k = 0;
  return tensors.map((_, j) => {
    const i = awayAt.get(j);
    if (i === undefined) return local[k++];
    tensors[j] = r.tensors[i];
    return r.results[i];
  });
}
