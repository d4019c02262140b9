// Bench section "stream": tokens/s of a plain decode loop vs the WebSocket stream (one and four concurrent streams)
// on a random GPT-2-small (124M), plus how concurrent forward passes should share one model.
import { access, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import WebSocket from 'ws';
import { buildApp } from '../src/app.js';
import { loadGpt2Runtime } from '../src/runtime/load.js';
import type { Gpt2Runtime } from '../src/runtime/types.js';
import { argmax } from '../src/sampling/softmax.js';
import { makeRandomGpt2, RANDOM_PRESETS } from '../tools/checkpoint/make-random.js';
import { WorkerRuntime } from '../src/stream/worker-runtime.js';
import type { BenchContext, BenchRow, BenchSection } from './section.js';

const PROMPT = Array.from({ length: 16 }, (_, i) => 1000 + ((i * 7919) % 40000)); // 16 ordinary token ids
const MODEL = 'gpt2-random';

async function checkpoint(ctx: BenchContext): Promise<string> {
  const dir = path.join(ctx.cacheDir, MODEL);
  try {
    await access(path.join(dir, 'model.safetensors'));
  } catch {
    ctx.log('writing a random GPT-2-small checkpoint (124M, fp32) to bench/.cache/gpt2-random ...');
    await makeRandomGpt2(dir, { ...RANDOM_PRESETS.gpt2, dtype: 'F32', seed: 1 });
  }
  return dir;
}

/** (a) The floor: prefill + n greedy decode steps, logits only, no summaries, no sockets. Returns wall ms. */
async function plainLoop(rt: Gpt2Runtime, n: number): Promise<number> {
  const t0 = performance.now();
  let r = await rt.forward({ tokenIds: PROMPT, hooks: [] });
  const V = rt.dims.dVocab;
  for (let i = 0; i < n; i++) {
    const row = r.logits.data.subarray((r.logits.dims[0]! - 1) * V); // [d_vocab]
    if (i === n - 1) break; // the last token needs no forward pass (as in the stream)
    r = await rt.forward({ tokenIds: [argmax(row)], past: r.present, hooks: [] });
  }
  return performance.now() - t0;
}

/** Run `streams` generations at once over one socket each; resolves with wall ms and the done frames. */
async function streamRun(url: string, streams: number, n: number, extra: Record<string, unknown>): Promise<{ ms: number; done: Record<string, unknown>[] }> {
  const sockets = await Promise.all(
    Array.from({ length: streams }, () => new Promise<WebSocket>((res, rej) => {
      const ws = new WebSocket(url);
      ws.once('open', () => res(ws));
      ws.once('error', rej);
    })),
  );
  const t0 = performance.now();
  const done = await Promise.all(
    sockets.map((ws, i) => new Promise<Record<string, unknown>>((res, rej) => {
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as Record<string, unknown>;
        if (m.type === 'done') res(m);
        if (m.type === 'error') rej(new Error(String(m.message)));
      });
      ws.send(JSON.stringify({ type: 'generate', id: `bench-${i}-${t0}`, token_ids: PROMPT, max_new_tokens: n, ...extra }));
    })),
  );
  const ms = performance.now() - t0;
  for (const ws of sockets) ws.close();
  return { ms, done };
}

/** k concurrent plain decode loops spread over the given runtimes (1 = one shared session, 2 = a session pool). */
async function concurrentLoops(rts: Gpt2Runtime[], k: number, n: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: k }, (_, i) => plainLoop(rts[i % rts.length]!, n)));
  return performance.now() - t0;
}

async function run(ctx: BenchContext) {
  const n = ctx.quick ? 16 : 64;
  const dir = await checkpoint(ctx);
  const rows: BenchRow[] = [];
  const data: Record<string, unknown> = { targets: { streamOverPlainPerToken: 1.25, fourStreamsOverOne: 1.5 }, newTokens: n, promptTokens: 16 };
  const tps = (tokens: number, ms: number) => `${((tokens / ms) * 1000).toFixed(1)} tok/s`;

  const rt = await loadGpt2Runtime(dir, { name: MODEL, threads: ctx.threads || undefined });
  await plainLoop(rt, 4); // warm-up
  const plainMs = Math.min(await plainLoop(rt, n), await plainLoop(rt, n));
  rows.push({ case: `(a) plain decode loop, ${n} tokens`, ms: plainMs, note: tps(n, plainMs) });
  data.plainTokPerS = (n / plainMs) * 1000;

  ctx.log('stream: concurrency on one model without the server (single session serial / concurrent, session pool)');
  const serial = async () => {
    const t0 = performance.now();
    for (let i = 0; i < 4; i++) await plainLoop(rt, n);
    return performance.now() - t0;
  };
  const serialMs = await serial();
  const sharedMs = await concurrentLoops([rt], 4, n);
  const rt2 = await loadGpt2Runtime(dir, { name: `${MODEL}-2`, threads: ctx.threads || undefined });
  await plainLoop(rt2, 4);
  const poolMs = await concurrentLoops([rt, rt2], 4, n);
  await rt2.dispose();
  rows.push({ case: `4 decode loops, one session, one at a time`, ms: serialMs, note: tps(4 * n, serialMs) });
  rows.push({ case: `4 decode loops, one session, concurrent runs`, ms: sharedMs, note: `${tps(4 * n, sharedMs)}, ${(serialMs / sharedMs).toFixed(2)}x serial` });
  rows.push({ case: `4 decode loops, pool of 2 sessions`, ms: poolMs, note: `${tps(4 * n, poolMs)}, ${(serialMs / poolMs).toFixed(2)}x serial` });
  await rt.dispose();

  const models = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-bench-'));
  await symlink(dir, path.join(models, MODEL), 'dir');
  const app = await buildApp({
    logger: false,
    config: { MODELS_DIR: models, DEFAULT_MODEL: MODEL, SERVE_WEB: false, MAX_NEW_TOKENS: 1024, ORT_THREADS: ctx.threads, MODEL_LOADING: 'eager', WS_MAX_GENERATIONS: 64 },
  });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    const url = `ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/stream`;
    const allHooks = { hooks: ['*'], logit_lens: false };
    await streamRun(url, 1, 4, allHooks); // warm-up
    // The server and the client share this process, so the delay histogram covers both: an upper bound.
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const one = await streamRun(url, 1, n, allHooks);
    loop.disable();
    rows.push({ case: `(b) stream, all hooks summarised, ${n} tokens`, ms: one.ms, note: `${tps(n, one.ms)}, ${(one.ms / plainMs).toFixed(2)}x plain per token` });
    rows.push({
      case: '    event-loop delay during (b): p50 / p99 / max',
      ms: loop.percentile(99) / 1e6,
      note: `${(loop.percentile(50) / 1e6).toFixed(1)} / ${(loop.percentile(99) / 1e6).toFixed(1)} / ${(loop.max / 1e6).toFixed(1)} ms`,
    });
    data.eventLoopDelayMs = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    data.streamOverPlain = one.ms / plainMs;
    const lens = await streamRun(url, 1, n, { hooks: ['*'], logit_lens: true });
    rows.push({ case: `(b') stream, all hooks + logit lens`, ms: lens.ms, note: `${tps(n, lens.ms)}, ${(lens.ms / plainMs).toFixed(2)}x plain` });
    const light = await streamRun(url, 1, n, { logit_lens: false });
    rows.push({ case: `(b'') stream, default overview hooks, no lens`, ms: light.ms, note: `${tps(n, light.ms)}, ${(light.ms / plainMs).toFixed(2)}x plain` });
    for (const limit of [1, 2]) {
      app.streamHub.setForwardConcurrency(limit);
      const four = await streamRun(url, 4, n, allHooks);
      rows.push({
        case: `(c) 4 concurrent streams, gate ${limit}`,
        ms: four.ms,
        note: `${tps(4 * n, four.ms)} total, ${((4 * one.ms) / four.ms).toFixed(2)}x one stream`,
      });
      data[`fourOverOne@gate${limit}`] = (4 * one.ms) / four.ms;
    }
    data.doneTimingsOneStream = one.done[0]?.timings;

    // (d) The same stream with the model in worker threads (the registry hands out a WorkerRuntime instead).
    const registry = app.models as unknown as { get: (name: string) => Promise<Gpt2Runtime> };
    const inProcessGet = registry.get;
    for (const [workers, threads] of [[1, ctx.threads || undefined], [2, 1]] as const) {
      const wrt = await WorkerRuntime.load(dir, { name: MODEL, workers, threads });
      registry.get = async () => wrt;
      app.streamHub.setForwardConcurrency(undefined); // the gate follows wrt.parallelism
      await streamRun(url, 1, 4, allHooks);
      const wl = monitorEventLoopDelay({ resolution: 5 });
      wl.enable();
      const w1 = await streamRun(url, 1, n, allHooks);
      wl.disable();
      const w4 = await streamRun(url, 4, n, allHooks);
      const label = `${workers} worker${workers > 1 ? 's' : ''}${threads ? ` x ${threads} thread` : ''}`;
      rows.push({
        case: `(d) stream in ${label}, 1 stream`,
        ms: w1.ms,
        note: `${tps(n, w1.ms)}, ${(w1.ms / plainMs).toFixed(2)}x plain; loop delay p50 ${(wl.percentile(50) / 1e6).toFixed(1)} ms, max ${(wl.max / 1e6).toFixed(1)} ms`,
      });
      rows.push({ case: `(d) stream in ${label}, 4 streams`, ms: w4.ms, note: `${tps(4 * n, w4.ms)} total, ${((4 * w1.ms) / w4.ms).toFixed(2)}x its one stream, ${((4 * one.ms) / w4.ms).toFixed(2)}x (b)` });
      data[`worker${workers}`] = { oneMs: w1.ms, fourMs: w4.ms, loopDelayP50Ms: wl.percentile(50) / 1e6 };
      registry.get = inProcessGet;
      await wrt.dispose();
    }
  } finally {
    await app.close();
    await rm(models, { recursive: true, force: true });
  }
  return { rows, data };
}

export const section: BenchSection = { name: 'stream', run };
