// Worker-thread entry of WorkerRuntime: loads a GPT-2 runtime in this thread and serves forward/lens requests.
// onnxruntime-node's run() is synchronous under a setImmediate, so running it here keeps the main event loop free.
import { parentPort, workerData } from 'node:worker_threads';
import { ProblemError } from '../errors/problem-error.js';
import { loadGpt2Runtime } from '../runtime/load.js';
import { OrtGpt2Runtime } from '../runtime/gpt2-runtime.js';
import { Gpt2KvCache } from '../runtime/kv-cache.js';
import type { WireCache, WorkerReply, WorkerRequest } from './worker-protocol.js';

const { dir, name, threads } = workerData as { dir: string; name: string; threads?: number };
const port = parentPort;
if (!port) throw new Error('runtime-worker must run in a worker thread');

const rt = await loadGpt2Runtime(dir, { name, threads });
if (!(rt instanceof OrtGpt2Runtime)) throw new Error('unexpected runtime class');
const owner = rt.emptyCache().owner;

const toWire = (c: Gpt2KvCache): WireCache => ({ length: c.length, keys: [...c.keys], values: [...c.values] });
const fromWire = (w: WireCache) => new Gpt2KvCache(owner, w.length, w.keys, w.values);

port.on('message', (m: WorkerRequest) => {
  void (async (): Promise<WorkerReply> => {
    try {
      if (m.op === 'forward') {
        const r = await rt.forward({ tokenIds: m.tokenIds, past: m.past ? fromWire(m.past) : undefined, hooks: m.hooks });
        return {
          id: m.id,
          ok: true,
          forward: { activations: [...r.activations.values()], logits: r.logits, present: toWire(r.present as Gpt2KvCache), runMs: r.runMs },
        };
      }
      if (m.op === 'lens') return { id: m.id, ok: true, lens: await rt.lens(m.req) };
      await rt.dispose();
      return { id: m.id, ok: true };
    } catch (err) {
      const p = err instanceof ProblemError ? err : undefined;
      return {
        id: m.id,
        ok: false,
        error: p
          ? { statusCode: p.statusCode, code: p.code, title: p.title, detail: p.detail }
          : { message: err instanceof Error ? err.message : String(err) },
      };
    }
  })().then((reply) => port.postMessage(reply));
});
port.postMessage({ ready: true, dims: rt.dims, hookNames: rt.hookNames });
