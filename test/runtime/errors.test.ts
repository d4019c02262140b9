// The runtime's typed errors: bad ids, unknown hooks, context overflow, foreign caches, bad lens requests, unloaded models.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemError } from '../../src/errors/problem-error.js';
import { loadModelRuntime } from '../../src/runtime/load.js';
import type { ModelRuntime } from '../../src/runtime/types.js';
import { TINY } from './reference.js';

let rt: ModelRuntime;
beforeAll(async () => {
  rt = await loadModelRuntime(TINY, { name: 'tiny', threads: 1 });
});
afterAll(() => rt?.dispose());

async function problem(p: Promise<unknown>): Promise<{ status: number; code: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProblemError);
  const e = err as ProblemError;
  return { status: e.statusCode, code: e.code };
}

describe('forward errors', () => {
  it.each([
    [{ tokenIds: [], hooks: [] }, 400, 'empty_input'],
    [{ tokenIds: [50257], hooks: [] }, 400, 'token_id_out_of_range'],
    [{ tokenIds: [-1], hooks: [] }, 400, 'token_id_out_of_range'],
    [{ tokenIds: [1.5], hooks: [] }, 400, 'token_id_out_of_range'],
    [{ tokenIds: [1], hooks: ['blocks.3.hook_resid_pre'] }, 400, 'unknown_hook'],
    [{ tokenIds: [1], hooks: ['blocks.0.attn.hook_rot_q'] }, 400, 'unknown_hook'],
    [{ tokenIds: Array(65).fill(1), hooks: [] }, 400, 'prompt_too_long'],
    [{ tokenIds: [1], hooks: [], past: { length: 0 } }, 400, 'foreign_cache'],
  ])('%j -> %i %s', async (req, status, code) => {
    expect(await problem(rt.forward(req))).toEqual({ status, code });
  });

  it('context overflow counts cached tokens', async () => {
    const first = await rt.forward({ tokenIds: Array(60).fill(5), hooks: [] });
    expect(await problem(rt.forward({ tokenIds: [1, 2, 3, 4, 5], past: first.present, hooks: [] }))).toEqual({
      status: 400,
      code: 'prompt_too_long',
    });
    const ok = await rt.forward({ tokenIds: [1, 2, 3, 4], past: first.present, hooks: [] });
    expect(ok.present.length).toBe(64);
  });

  it('a cache from another runtime is refused', async () => {
    const other = await loadModelRuntime(TINY, { name: 'other', threads: 1 });
    const res = await other.forward({ tokenIds: [1], hooks: [] });
    await other.dispose();
    expect(await problem(rt.forward({ tokenIds: [2], past: res.present, hooks: [] }))).toEqual({
      status: 400,
      code: 'foreign_cache',
    });
    expect(await problem(other.forward({ tokenIds: [2], hooks: [] }))).toEqual({ status: 422, code: 'model_unloaded' });
  });
});

describe('lens errors', () => {
  const rows = new Float32Array(32);
  it.each([
    [{ rows, nRows: 2, topK: 5 }, 'invalid_lens_rows'],
    [{ rows, nRows: 1, topK: 0 }, 'invalid_top_k'],
    [{ rows, nRows: 1, topK: 50258 }, 'invalid_top_k'],
    [{ rows, nRows: 1, topK: 3, trackIds: [50257] }, 'token_id_out_of_range'],
  ])('%#: -> 400 %s', async (req, code) => {
    expect(await problem(rt.lens(req))).toEqual({ status: 400, code });
  });

  it('zero rows and no tracked ids are fine', async () => {
    expect(await rt.lens({ rows: new Float32Array(0), nRows: 0, topK: 3 })).toEqual([]);
    const [row] = await rt.lens({ rows, nRows: 1, topK: 3 });
    expect(row.topIds).toHaveLength(3);
    expect(row.tracked).toEqual([]);
    expect(row.topProbs[0]).toBeGreaterThanOrEqual(row.topProbs[1]);
  });
});
