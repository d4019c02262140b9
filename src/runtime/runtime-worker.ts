// Worker-thread entry of WorkerRuntime: loads a GPT-2 runtime in this thread, keeps its KV caches, serves requests.
// onnxruntime-node's run() computes synchronously on the calling thread, so doing it here keeps the main event loop free.
import { parentPort, workerData } from 'node:worker_threads';
import { loadModelRuntime } from './load.js';
import { OrtModelRuntime } from './ort-runtime.js';
import { unprocessable } from '../errors/problem-error.js';
import { cacheBuffers, cacheReleased, type OrtKvCache } from './kv-cache.js';
import type { RuntimeLogger } from './ort-guard.js';
import type { Activation } from './types.js';
// The worker thread's composition root: summaries are computed here, next to the activations (the main thread
// then receives a few kilobytes of summary instead of summarising hundreds of megabytes itself).
import { summarizeInPlace } from '../decode/summarize-forward.js';
import { warmSummaryHelper } from '../stats/parallel-summarize.js';
import {
  toWorkerError,
  type WorkerEvent,
  type WorkerInit,
  type WorkerReply,
  type WorkerRequest,
} from './worker-protocol.js';

const init = workerData as WorkerInit;
const unloaded = () => unprocessable('model_unloaded', `${init.name} has been unloaded; load it again.`);
const port = parentPort;
if (!port) throw new Error('runtime-worker must run in a worker thread');

/** Post to the main thread; a record that cannot be cloned (a log object holding a function, say) is reduced to text. */
function send(event: WorkerEvent, transfer: ArrayBuffer[] = []): void {
  try {
    port!.postMessage(event, transfer);
  } catch (err) {
    if (event.type === 'log') port!.postMessage({ ...event, obj: { unclonable: String(err) } });
    else if (event.type === 'reply')
      port!.postMessage({ type: 'reply', id: event.id, ok: false, error: toWorkerError(err) });
    else throw err;
  }
}

/** Log records go to the main thread's logger (pino there decides the level, format and destination). */
const logger: RuntimeLogger = {
  debug: (obj, msg) => send({ type: 'log', level: 'debug', obj, msg }),
  info: (obj, msg) => send({ type: 'log', level: 'info', obj, msg }),
  warn: (obj, msg) => send({ type: 'log', level: 'warn', obj, msg }),
  error: (obj, msg) => send({ type: 'log', level: 'error', obj, msg }),
};

/**
 * Activations leave by transfer: onnxruntime-node copies every fetched output into a fresh, ordinary JS
 * ArrayBuffer, so moving that buffer costs nothing and the main thread gets the values without a second copy.
 * A buffer that is shared with another output, is only partly this tensor's, or belongs to the cache (which
 * stays here) is copied once into its own buffer instead.
 */
function forTransfer(
  acts: Activation[],
  keep: ReadonlySet<ArrayBufferLike>,
): { acts: Activation[]; transfer: ArrayBuffer[] } {
  const seen = new Set<ArrayBufferLike>();
  const transfer: ArrayBuffer[] = [];
  const out = acts.map((a) => {
    const buf = a.data.buffer;
    const whole = a.data.byteOffset === 0 && a.data.byteLength === buf.byteLength;
    let data = a.data;
    if (!whole || seen.has(buf) || keep.has(buf) || !(buf instanceof ArrayBuffer)) data = a.data.slice(); // own buffer
    seen.add(data.buffer);
    transfer.push(data.buffer as ArrayBuffer);
    return { hook: a.hook, dims: [...a.dims], data };
  });
  return { acts: out, transfer };
}

async function main(): Promise<void> {
  let rt: OrtModelRuntime;
  try {
    const loaded = await loadModelRuntime(init.dir, {
      name: init.name,
      threads: init.threads,
      spinning: init.spinning,
      logger,
    });
    if (!(loaded instanceof OrtModelRuntime)) throw new Error('unexpected runtime class');
    rt = loaded;
    warmSummaryHelper();
  } catch (err) {
    send({ type: 'failed', error: toWorkerError(err) });
    return;
  }

  // The caches this worker made, by id. The main thread holds only { id, length } handles and says when to drop one.
  const caches = new Map<number, OrtKvCache>();
  let nextCacheId = 1;

  const handle = async (
    m: Exclude<WorkerRequest, { op: 'release' | 'close' }>,
  ): Promise<{ reply: WorkerReply; transfer?: ArrayBuffer[] }> => {
    if (m.op === 'forward') {
      // Looked up before the first await, so a `release` queued behind this request cannot pull the cache away.
      const past = m.past === undefined ? undefined : caches.get(m.past);
      if (m.past !== undefined && !past) throw cacheReleased(init.name, undefined, 'its worker no longer holds it');
      const r = await rt.forward({ tokenIds: m.tokenIds, past, hooks: m.hooks, interventions: m.interventions });
      const summary = m.summarize ? await summarizeInPlace(rt, r, m.summarize) : undefined;
      const present = r.present as OrtKvCache;
      const id = nextCacheId++;
      caches.set(id, present);
      const keep = cacheBuffers(present);
      const { acts, transfer } = forTransfer([...r.activations.values(), r.logits], keep);
      const logits = acts.pop() as Activation;
      return {
        reply: {
          type: 'reply',
          id: m.id,
          ok: true,
          forward: {
            activations: acts,
            logits,
            present: { id, length: present.length },
            runMs: r.runMs,
            ...(summary ? { summary } : {}),
          },
        },
        transfer,
      };
    }
    if (m.op === 'sweep') {
      const progress = (done: number, total: number) => send({ type: 'progress', id: m.id, done, total });
      return { reply: { type: 'reply', id: m.id, ok: true, sweep: await rt.sweep(m.job, progress) } };
    }
    if (m.op === 'lens') return { reply: { type: 'reply', id: m.id, ok: true, lens: await rt.lens(m.req) } };
    let bytes = 0;
    for (const c of caches.values()) bytes += c.byteLength;
    return { reply: { type: 'reply', id: m.id, ok: true, stats: { caches: caches.size, bytes } } };
  };

  const inFlight = new Set<Promise<void>>();
  let closing = false;
  port!.on('message', (m: WorkerRequest) => {
    if (m.op === 'release') {
      for (const id of m.caches) caches.delete(id);
      return;
    }
    if (m.op === 'close') {
      // Exit only between runs: a thread stopped while onnxruntime is inside run() takes the whole process down
      // (the native addon then throws into a dead JS environment), so finish what was received, then leave.
      closing = true;
      void Promise.allSettled([...inFlight])
        .then(() => rt.dispose())
        .finally(() => process.exit(0));
      return;
    }
    const work = (closing ? Promise.reject(unloaded()) : handle(m)).then(
      ({ reply, transfer }) => send(reply, transfer),
      (err: unknown) => send({ type: 'reply', id: m.id, ok: false, error: toWorkerError(err) }),
    );
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  });
  send({ type: 'ready', dims: rt.dims, hookNames: [...rt.hookNames] });
}

await main();
