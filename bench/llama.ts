// Bench section "llama": a random SmolLM2-135M-sized llama checkpoint (30 layers, GQA 9/3, vocab 49,152, bf16):
// one decode step streamed with every hook vs the plain decode step, and the logit lens at 49k and 152k vocabularies
// (one batched unembedding pass over every layer vs one pass per layer).
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { buildApp } from '../src/app.js';
import { loadModelRuntime } from '../src/runtime/load.js';
import type { ModelRuntime } from '../src/runtime/types.js';
import { WorkerRuntime } from '../src/runtime/worker-runtime.js';
import { argmax } from '../src/sampling/softmax.js';
import { median, type BenchContext, type BenchRow, type BenchSection } from './section.js';

const MODEL = 'smollm2-random';
const PROMPT = Array.from({ length: 16 }, (_, i) => 100 + ((i * 7919) % 40000)); // 16 ordinary token ids (vocab 49,152)
const GENERATOR = path.join(import.meta.dirname, '..', 'tools', 'checkpoint', 'make_random_llama.py');

/** A random checkpoint of a make_random_llama.py preset in bench/.cache/<folder>, written once. */
async function randomLlama(ctx: BenchContext, preset: string, folder: string): Promise<string> {
  const dir = path.join(ctx.cacheDir, folder);
  try {
    await access(path.join(dir, 'model.safetensors'));
  } catch {
    ctx.log(`writing a random ${preset} checkpoint to bench/.cache/${folder} ...`);
    await promisify(execFile)('/usr/bin/python3', [GENERATOR, '--preset', preset, '--out', dir, '--seed', '1'], {
      maxBuffer: 1 << 20,
    });
  }
  return dir;
}

/** Prefill + n greedy decode steps, logits only, no summaries, no sockets. Returns ms per decode step. */
async function plainDecode(rt: ModelRuntime, n: number): Promise<number> {
  let r = await rt.forward({ tokenIds: PROMPT, hooks: [] });
  const V = rt.dims.dVocab;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const past = r.present;
    const row = r.logits.data.subarray((r.logits.dims[0]! - 1) * V); // [d_vocab]
    r = await rt.forward({ tokenIds: [argmax(row)], past, hooks: [] });
    rt.release?.(past);
  }
  const ms = (performance.now() - t0) / n;
  rt.release?.(r.present);
  return ms;
}

/** One generation over the WebSocket; resolves with the wall ms and the done frame. */
async function stream(url: string, n: number, extra: Record<string, unknown>) {
  const ws = await new Promise<WebSocket>((res, rej) => {
    const s = new WebSocket(url);
    s.once('open', () => res(s));
    s.once('error', rej);
  });
  const t0 = performance.now();
  const done = await new Promise<Record<string, unknown>>((res, rej) => {
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as Record<string, unknown>;
      if (m.type === 'done') res(m);
      if (m.type === 'error') rej(new Error(String(m.message ?? m.detail)));
    });
    ws.send(JSON.stringify({ type: 'generate', id: `llama-${t0}`, token_ids: PROMPT, max_new_tokens: n, ...extra }));
  });
  const ms = performance.now() - t0;
  ws.close();
  return { ms, done };
}

interface StepSplit {
  /** Wall ms per streamed decode step (client-side). */
  ms: number;
  /** Of which inside onnxruntime / in the summaries, per step (the done frame's timings). */
  runMs: number;
  summarizeMs: number;
}

/**
 * Streamed ms per decode step: two generations of n1 < n2 tokens, the difference divided by n2 - n1, so the
 * prefill (and the prompt's frames) cancel out.
 */
async function streamedStep(url: string, n1: number, n2: number, extra: Record<string, unknown>): Promise<StepSplit> {
  const a = await stream(url, n1, extra);
  const b = await stream(url, n2, extra);
  const t = (r: typeof a) => r.done.timings as { run_ms: number; summarize_ms: number };
  const per = (x: number, y: number) => (y - x) / (n2 - n1);
  return {
    ms: per(a.ms, b.ms),
    runMs: per(t(a).run_ms, t(b).run_ms),
    summarizeMs: per(t(a).summarize_ms, t(b).summarize_ms),
  };
}

/** The logit lens as /trace and the stream call it: every stage's rows in one pass, or one pass per stage. */
async function lensMs(
  rt: ModelRuntime,
  stages: number,
  positions: number,
  reps: number,
  perStage: boolean,
): Promise<number> {
  const { dModel } = rt.dims;
  const rows = new Float32Array(stages * positions * dModel).map((_, i) => Math.sin(i) * 0.5); // [stages*pos, d_model]
  const one = async () => {
    if (!perStage) return rt.lens({ rows, nRows: stages * positions, topK: 10, trackIds: [1, 2] });
    for (let s = 0; s < stages; s++) {
      const part = rows.subarray(s * positions * dModel, (s + 1) * positions * dModel);
      await rt.lens({ rows: part, nRows: positions, topK: 10, trackIds: [1, 2] });
    }
  };
  await one();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await one();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function serve(models: string, ctx: BenchContext) {
  const app = await buildApp({
    logger: false,
    config: {
      MODELS_DIR: models,
      DEFAULT_MODEL: MODEL,
      SERVE_WEB: false,
      MAX_NEW_TOKENS: 1024,
      ORT_THREADS: ctx.threads,
      MODEL_LOADING: 'eager',
      MODEL_WORKERS: 1,
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  return { app, url: `ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/stream` };
}

async function run(ctx: BenchContext) {
  const rows: BenchRow[] = [];
  const reps = ctx.quick ? 2 : 4;
  const [n1, n2] = ctx.quick ? [4, 12] : [8, 40];
  const threads = ctx.threads || undefined;
  const data: Record<string, unknown> = { target: { streamedAllHooksOverPlainStep: 1.6 }, promptTokens: 16, n1, n2 };
  const dir = await randomLlama(ctx, 'smollm2-135m', MODEL);

  // The decode step as the server runs it (one worker thread), plain vs streamed with every hook; interleaved.
  ctx.log('llama: plain decode steps vs streamed steps with every hook');
  const wrt = await WorkerRuntime.load(dir, { name: MODEL, workers: 1, threads });
  const models = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-bench-llama-'));
  await symlink(dir, path.join(models, MODEL), 'dir');
  const srv = await serve(models, ctx);
  const plainSteps: number[] = [];
  const variants = { allHooks: [] as StepSplit[], allHooksLens: [] as StepSplit[], overview: [] as StepSplit[] };
  try {
    await plainDecode(wrt, 2);
    await stream(srv.url, 2, { hooks: ['*'], logit_lens: false });
    for (let r = 0; r < reps; r++) {
      plainSteps.push(await plainDecode(wrt, n2 - n1));
      variants.allHooks.push(await streamedStep(srv.url, n1, n2, { hooks: ['*'], logit_lens: false }));
      variants.allHooksLens.push(await streamedStep(srv.url, n1, n2, { hooks: ['*'], logit_lens: true }));
      variants.overview.push(await streamedStep(srv.url, n1, n2, { logit_lens: false }));
    }
  } finally {
    await srv.app.close();
    await wrt.dispose();
    await rm(models, { recursive: true, force: true });
  }
  const plain = median(plainSteps);
  rows.push({
    case: 'decode step, plain (logits only, 1 worker)',
    ms: plain,
    note: `${(1000 / plain).toFixed(1)} tok/s`,
  });
  const decodeStep: Record<string, unknown> = { plainMs: plain, plainSamples: plainSteps };
  for (const [key, label, target] of [
    ['allHooks', 'every hook, no lens', ' (target 1.6x)'],
    ['allHooksLens', 'every hook + logit lens', ''],
    ['overview', 'overview hooks, no lens', ''],
  ] as const) {
    const xs = variants[key];
    const ms = median(xs.map((x) => x.ms));
    const runMs = median(xs.map((x) => x.runMs));
    const summarizeMs = median(xs.map((x) => x.summarizeMs));
    rows.push({
      case: `decode step streamed, ${label}`,
      ms,
      note: `${(ms / plain).toFixed(2)}x plain${target}; in onnxruntime ${runMs.toFixed(1)} ms, summaries ${summarizeMs.toFixed(1)} ms`,
    });
    decodeStep[key] = { ms, overPlain: ms / plain, runMs, summarizeMs, samples: xs };
  }
  data.decodeStep = decodeStep;

  // The logit lens: rows = (n_layer + 1) stages x positions through ln_final + unembedding + softmax + top-k.
  const lensData: Record<string, unknown> = {};
  // Qwen2.5-0.5B has 24 layers (25 stages); its lens checkpoint keeps the widths (d_model 896, vocab 151,936) with
  // 2 layers, since the lens reads only ln_final and the unembedding.
  for (const [preset, folder, stages, label] of [
    ['smollm2-135m', MODEL, 31, 'SmolLM2-135M: vocab 49,152, 31 stages'],
    ['qwen2.5-0.5b-lens', 'qwen2.5-lens-random', 25, 'Qwen2.5-0.5B: vocab 151,936, 25 stages'],
  ] as const) {
    const lensDir = await randomLlama(ctx, preset, folder);
    ctx.log(`llama: logit lens, ${label}`);
    const rt = await loadModelRuntime(lensDir, { name: folder, threads });
    try {
      for (const positions of ctx.quick ? [1] : [1, 16]) {
        const batched = await lensMs(rt, stages, positions, reps, false);
        const perStage = await lensMs(rt, stages, positions, reps, true);
        rows.push({
          case: `logit lens @${positions} pos, one pass (${label})`,
          ms: batched,
          note: `${stages * positions} rows; one pass per stage: ${perStage.toFixed(1)} ms (${(perStage / batched).toFixed(2)}x)`,
        });
        lensData[`${folder}@${positions}`] = { batchedMs: batched, perStageMs: perStage };
      }
    } finally {
      await rt.dispose();
    }
  }
  data.lens = lensData;
  return { rows, data };
}

export const section: BenchSection = { name: 'llama', run };
