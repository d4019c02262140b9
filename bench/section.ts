// The bench section contract: bench/run.ts imports every bench/*.ts that exports `section` and runs them in name order.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { makeRandomGpt2, RANDOM_PRESETS } from '../tools/checkpoint/make-random.js';

export interface BenchContext {
  /** Git-ignored folder for generated checkpoints (bench/.cache). */
  cacheDir: string;
  /** onnxruntime intra-op threads (ORT_THREADS; 0 = onnxruntime default). */
  threads: number;
  /** ORT_SPINNING=0: idle onnxruntime threads sleep instead of spinning (faster on a shared machine). */
  spinning: boolean;
  /** BENCH_QUICK=1: fewer repetitions and shorter sequences, for a smoke run. */
  quick: boolean;
  /** Progress line to stderr (stdout carries the tables). */
  log(line: string): void;
}

export interface BenchRow {
  /** What was measured, e.g. "traced+summaries @128". */
  case: string;
  /** Median wall-clock milliseconds. */
  ms: number;
  /** Free-form comparison, e.g. "1.21x plain". */
  note?: string;
}

export interface BenchSectionResult {
  rows: BenchRow[];
  /** Anything else worth keeping in the JSON result (targets, config, memory). */
  data?: Record<string, unknown>;
}

export interface BenchSection {
  name: string;
  run(ctx: BenchContext): Promise<BenchSectionResult>;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Wall-clock milliseconds of one call. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Median of `reps` timed calls after `warmup` untimed ones. */
export async function medianMs(fn: () => Promise<unknown>, reps: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Folder of the checkpoint every section measures: a random GPT-2-small-sized model (124M, fp32), written once. */
export async function randomGpt2Small(ctx: BenchContext): Promise<string> {
  const dir = path.join(ctx.cacheDir, 'gpt2-random');
  try {
    await access(path.join(dir, 'model.safetensors'));
  } catch {
    ctx.log('writing a random GPT-2-small checkpoint (124M, fp32) to bench/.cache/gpt2-random ...');
    await makeRandomGpt2(dir, { ...RANDOM_PRESETS.gpt2, dtype: 'F32', seed: 1 });
  }
  return dir;
}
