// Test helpers: read a reference dump (tools/reference/gpt2_reference.py) and compare float arrays with a stated tolerance.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../../src/checkpoint/safetensors.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
export const TINY = path.join(FIXTURES, 'tiny-gpt2');
export const TINY_FP16 = path.join(FIXTURES, 'tiny-gpt2-fp16');

export interface Reference {
  ids: number[];
  greedyIds: number[];
  lensTrackIds: number[];
  lensTopK: number;
  tensors: Map<string, { dims: number[]; data: Float32Array }>;
}

export async function loadReference(file: string): Promise<Reference> {
  const f = await readSafetensors(path.join(FIXTURES, 'reference', file));
  const tensors = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of f.tensors) tensors.set(t.name, { dims: t.shape, data: await f.readFloat32(t.name) });
  return {
    ids: JSON.parse(f.metadata.ids),
    greedyIds: JSON.parse(f.metadata.greedy_ids),
    lensTrackIds: JSON.parse(f.metadata.lens_track_ids),
    lensTopK: Number(f.metadata.lens_top_k),
    tensors,
  };
}

/**
 * Worst violation of |a - e| <= atol + rtol * |e| (0 = all within), with the index; infinities must match exactly
 * and NaN is always a violation. Returns a sentence for the failure message.
 */
export function compare(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
): { ok: boolean; why: string } {
  if (actual.length !== expected.length) return { ok: false, why: `length ${actual.length} != ${expected.length}` };
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) || Number.isNaN(e)) return { ok: false, why: `NaN at ${i}` };
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) return { ok: false, why: `at ${i}: ${a} vs ${e}` };
      continue;
    }
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  return at < 0
    ? { ok: true, why: '' }
    : { ok: false, why: `at ${at}: ${actual[at]} vs ${expected[at]} (excess ${worst.toExponential(2)})` };
}

/** Largest |a - e| over finite entries. */
export function maxAbsDiff(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < e.length; i++) if (Number.isFinite(e[i])) m = Math.max(m, Math.abs(a[i] - e[i]));
  return m;
}
