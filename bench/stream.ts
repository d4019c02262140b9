// Bench section "stream": tokens/s of a plain decode loop vs the WebSocket stream (one and four concurrent streams)
// on a random GPT-2-small (124M): in-process vs worker threads (MODEL_WORKERS), KV-cached decode steps, event-loop delay.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import WebSocket from 'ws';
import { buildApp } from '../src/app.js';
import { loadModelRuntime } from '../src/runtime/load.js';
import type { ModelRuntime } from '../src/runtime/types.js';
import { argmax } from '../src/sampling/softmax.js';
import { WorkerRuntime } from '../src/runtime/worker-runtime.js';
import { median, timed, type BenchContext, type BenchRow, type BenchSection, randomGpt2Small } from './section.js';

const PROMPT = Array.from({ length: 16 }, (_, i) => 1000 + ((i * 7919) % 40000)); // 16 ordinary token ids
const MODEL = 'gpt2-random';

/** (a) The floor: prefill + n greedy decode steps, logits only, no summaries, no sockets. Returns wall ms. */
async function plainLoop(rt: ModelRuntime, n: number): Promise<number> {
  const t0 = performance.now();
  let r = await rt.forward({ tokenIds: PROMPT, hooks: [] });
  const V = rt.dims.dVocab;
  for (let i = 0; i < n; i++) {
    const row = r.logits.data.subarray((r.logits.dims[0]! - 1) * V); // [d_vocab]
    if (i === n - 1) break; // the last token needs no forward pass (as in the stream)
    const past = r.present;
    r = await rt.forward({ tokenIds: [argmax(row)], past, hooks: [] });
    rt.release?.(past); // as the stream does: a worker frees the superseded cache now
  }
  rt.release?.(r.present);
  return performance.now() - t0;
}

/** Run `streams` generations at once over one socket each; resolves with wall ms and the done frames. */
async function streamRun(
  url: string,
  streams: number,
  n: number,
  extra: Record<string, unknown>,
): Promise<{ ms: number; done: Record<string, unknown>[] }> {
  const sockets = await Promise.all(
    Array.from(
      { length: streams },
      () =>
        new Promise<WebSocket>((res, rej) => {
          const ws = new WebSocket(url);
          ws.once('open', () => res(ws));
          ws.once('error', rej);
        }),
    ),
  );
  const t0 = performance.now();
  const done = await Promise.all(
    sockets.map(
      (ws, i) =>
        new Promise<Record<string, unknown>>((res, rej) => {
          ws.on('message', (d) => {
            const m = JSON.parse(String(d)) as Record<string, unknown>;
            if (m.type === 'done') res(m);
            if (m.type === 'error') rej(new Error(String(m.message)));
          });
          ws.send(
            JSON.stringify({
              type: 'generate',
              id: `bench-${i}-${t0}`,
              token_ids: PROMPT,
              max_new_tokens: n,
              ...extra,
            }),
          );
        }),
    ),
  );
  const ms = performance.now() - t0;
  for (const ws of sockets) ws.close();
  return { ms, done };
}

/** k concurrent plain decode loops spread over the given runtimes (1 = one shared session, 2 = a session pool). */
async function concurrentLoops(rts: ModelRuntime[], k: number, n: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: k }, (_, i) => plainLoop(rts[i % rts.length]!, n)));
  return performance.now() - t0;
}

/** One KV-cached decode step at `len` cached tokens, always branching from the same cache (median of `reps`). */
async function decodeStepMs(rt: ModelRuntime, len: number, reps: number): Promise<number> {
  const prefill = await rt.forward({
    tokenIds: Array.from({ length: len }, (_, i) => PROMPT[i % PROMPT.length]!),
    hooks: [],
  });
  const times: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const t0 = performance.now();
    const r = await rt.forward({ tokenIds: [PROMPT[i % PROMPT.length]!], past: prefill.present, hooks: [] });
    if (i > 0) times.push(performance.now() - t0); // the first is a warm-up
    rt.release?.(r.present);
  }
  rt.release?.(prefill.present);
  return median(times);
}

/** An app on `models` with the given overrides, listening on loopback; returns its /stream URL and a closer. */
async function streamServer(models: string, ctx: BenchContext, config: Record<string, string | number>) {
  const app = await buildApp({
    logger: false,
    config: {
      MODELS_DIR: models,
      DEFAULT_MODEL: MODEL,
      SERVE_WEB: false,
      MAX_NEW_TOKENS: 1024,
      ORT_THREADS: ctx.threads,
      MODEL_LOADING: 'eager',
      WS_MAX_GENERATIONS: 64,
      // Every stream of the bench comes from this one process: lift the per-client share.
      WS_MAX_GENERATIONS_PER_CLIENT: 64,
      WS_MAX_CONNECTIONS_PER_CLIENT: 64,
      ...config,
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  return { app, url: `ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/stream` };
}

/** One stream with the event-loop delay recorded (server and client share this process: an upper bound). */
async function measuredStream(url: string, n: number, extra: Record<string, unknown>) {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const r = await streamRun(url, 1, n, extra);
  loop.disable();
  const delay = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
  return {
    ...r,
    delay,
    delayNote: `loop delay p50 / p99 / max ${delay.p50.toFixed(1)} / ${delay.p99.toFixed(1)} / ${delay.max.toFixed(1)} ms`,
  };
}

async function run(ctx: BenchContext) {
  const n = ctx.quick ? 16 : 64;
  const dir = await randomGpt2Small(ctx);
  const rows: BenchRow[] = [];
  const data: Record<string, unknown> = {
    targets: { streamOverPlainPerToken: 1.25, fourStreamsOverOne: 1.5 },
    newTokens: n,
    promptTokens: 16,
  };
  const tps = (tokens: number, ms: number) => `${((tokens / ms) * 1000).toFixed(1)} tok/s`;
  const threads = ctx.threads || undefined;

  // (a) The floor, in-process and through one worker thread (what the server now uses): the difference is
  // the message round trip, the activations moving between threads, and nothing else.
  ctx.log('stream: plain decode loops, in-process vs one worker thread');
  const rt = await loadModelRuntime(dir, { name: MODEL, threads });
  const wrt = await WorkerRuntime.load(dir, { name: MODEL, workers: 1, threads });
  await plainLoop(rt, 4); // warm-up
  await plainLoop(wrt, 4);
  const plain: number[] = [];
  const viaWorker: number[] = [];
  for (let i = 0; i < 2; i++) {
    plain.push(await plainLoop(rt, n)); // interleaved: the shared machine's load hits both alike
    viaWorker.push(await plainLoop(wrt, n));
  }
  const plainMs = Math.min(...plain);
  const workerPlainMs = Math.min(...viaWorker);
  rows.push({ case: `(a) plain decode loop, ${n} tokens, in-process`, ms: plainMs, note: tps(n, plainMs) });
  rows.push({
    case: `(a) plain decode loop, ${n} tokens, 1 worker thread`,
    ms: workerPlainMs,
    note: `${tps(n, workerPlainMs)}, ${(workerPlainMs / plainMs).toFixed(2)}x in-process`,
  });
  data.plainTokPerS = (n / plainMs) * 1000;
  data.workerPlainOverPlain = workerPlainMs / plainMs;

  const len = ctx.quick ? 128 : 512;
  const reps = ctx.quick ? 5 : 9;
  const stepLocal = await decodeStepMs(rt, len, reps);
  const stepWorker = await decodeStepMs(wrt, len, reps);
  rows.push({ case: `decode step with KV cache @${len}, in-process`, ms: stepLocal });
  rows.push({
    case: `decode step with KV cache @${len}, 1 worker thread`,
    ms: stepWorker,
    note: `${(stepWorker / stepLocal).toFixed(2)}x in-process (the cache stays in the worker)`,
  });
  data.decodeStep = { len, inProcessMs: stepLocal, workerMs: stepWorker };

  ctx.log('stream: 4 concurrent decode loops (one in-process session vs 2 worker threads x 1 intra-op thread)');
  const serialMs = await timed(async () => {
    for (let i = 0; i < 4; i++) await plainLoop(rt, n);
  });
  const sharedMs = await concurrentLoops([rt], 4, n);
  await rt.dispose();
  await wrt.dispose();
  const pool = await WorkerRuntime.load(dir, { name: MODEL, workers: 2, threads: 1 });
  await plainLoop(pool, 4);
  const poolMs = await concurrentLoops([pool], 4, n);
  await pool.dispose();
  rows.push({ case: `4 decode loops, in-process, one at a time`, ms: serialMs, note: tps(4 * n, serialMs) });
  rows.push({
    case: `4 decode loops, in-process, concurrent`,
    ms: sharedMs,
    note: `${tps(4 * n, sharedMs)}, ${(serialMs / sharedMs).toFixed(2)}x serial`,
  });
  rows.push({
    case: `4 decode loops, 2 workers x 1 thread`,
    ms: poolMs,
    note: `${tps(4 * n, poolMs)}, ${(serialMs / poolMs).toFixed(2)}x serial`,
  });

  const models = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-bench-'));
  await symlink(dir, path.join(models, MODEL), 'dir');
  const allHooks = { hooks: ['*'], logit_lens: false };
  // (b) and (c) as the server runs by default (MODEL_WORKERS=1), with the model on the main thread (MODEL_WORKERS=0,
  // the old behaviour) and with two single-threaded workers. All three servers are up at once and measured in
  // turn, rep by rep, so a change in the shared machine's load does not favour whichever ran first.
  const setups: { label: string; key: string; config: Record<string, number> }[] = [
    { label: '1 worker (default)', key: 'workers1', config: { MODEL_WORKERS: 1 } },
    { label: 'in-process (MODEL_WORKERS=0)', key: 'workers0', config: { MODEL_WORKERS: 0 } },
    { label: '2 workers x 1 thread', key: 'workers2', config: { MODEL_WORKERS: 2, ORT_THREADS: 1 } },
  ];
  const servers: Awaited<ReturnType<typeof streamServer>>[] = [];
  try {
    for (const s of setups) servers.push(await streamServer(models, ctx, s.config));
    for (const srv of servers) await streamRun(srv.url, 1, 4, allHooks); // warm-up
    ctx.log('stream: one stream per set-up, interleaved');
    const ones: Awaited<ReturnType<typeof measuredStream>>[][] = setups.map(() => []);
    for (let rep = 0; rep < 2; rep++)
      for (const [i, srv] of servers.entries()) ones[i]!.push(await measuredStream(srv.url, n, allHooks));
    const best = ones.map((runs) => runs.reduce((a, b) => (b.ms < a.ms ? b : a)));
    for (const [i, s] of setups.entries()) {
      const one = best[i]!;
      rows.push({
        case: `(b) stream, all hooks, ${s.label}`,
        ms: one.ms,
        note: `${tps(n, one.ms)}, ${(one.ms / plainMs).toFixed(2)}x plain; ${one.delayNote}`,
      });
    }
    data.streamOverPlain = best[0]!.ms / plainMs;
    data.doneTimingsOneStream = best[0]!.done[0]?.timings;
    const lens = await streamRun(servers[0]!.url, 1, n, { hooks: ['*'], logit_lens: true });
    rows.push({
      case: `(b') stream, all hooks + logit lens, ${setups[0]!.label}`,
      ms: lens.ms,
      note: `${tps(n, lens.ms)}, ${(lens.ms / plainMs).toFixed(2)}x plain`,
    });
    data.streamLensOverPlain = lens.ms / plainMs;
    const light = await streamRun(servers[0]!.url, 1, n, { logit_lens: false });
    rows.push({
      case: `(b'') stream, overview hooks, no lens, ${setups[0]!.label}`,
      ms: light.ms,
      note: `${tps(n, light.ms)}, ${(light.ms / plainMs).toFixed(2)}x plain`,
    });
    ctx.log('stream: 4 concurrent streams per set-up');
    for (const [i, s] of setups.entries()) {
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      const four = await streamRun(servers[i]!.url, 4, n, allHooks);
      loop.disable();
      const one = best[i]!;
      rows.push({
        case: `(c) 4 concurrent streams, ${s.label}`,
        ms: four.ms,
        note: `${tps(4 * n, four.ms)} total, ${((4 * one.ms) / four.ms).toFixed(2)}x its one stream, ${((4 * best[0]!.ms) / four.ms).toFixed(2)}x the default's; loop delay max ${(loop.max / 1e6).toFixed(1)} ms`,
      });
      data[s.key] = { oneMs: one.ms, fourMs: four.ms, fourOverOne: (4 * one.ms) / four.ms, loopDelayMs: one.delay };
    }
  } finally {
    await Promise.allSettled(servers.map((srv) => srv.app.close()));
    await rm(models, { recursive: true, force: true });
  }
  return { rows, data };
}

export const section: BenchSection = { name: 'stream', run };
