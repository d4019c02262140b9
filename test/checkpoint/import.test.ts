// importCheckpoint + the model:import CLI on GPT-2 folders: validation through the checkpoint inspector, atomic install, refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { importCheckpoint } from '../../src/checkpoint/import.js';
import { inspectGpt2Checkpoint } from '../../src/checkpoint/gpt2-checkpoint.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../../src/checkpoint/safetensors.js';
import { ProblemError } from '../../src/errors/problem-error.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { main as importCli } from '../../src/cli/model-import.js';
import type { CliIo } from '../../src/cli/cli-io.js';

const TINY = path.join(PROJECT_ROOT, 'test/fixtures/tiny-gpt2');
const MINI = path.join(PROJECT_ROOT, 'models/gpt2-mini');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'tt-import-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Capture what a CLI run prints. */
function fakeIo(env: Record<string, string | undefined> = {}): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    env,
    isTty: false,
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io;
}

async function rejection(p: Promise<unknown>): Promise<ProblemError & { tensor?: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProblemError);
  return err as ProblemError & { tensor?: string };
}

/** A copy of the tiny fixture whose `bad` tensor is stored with another (same-size) shape. */
async function corruptedCopy(dir: string, bad: string, shape: number[]): Promise<void> {
  await cp(TINY, dir, { recursive: true });
  const src = await readSafetensors(path.join(TINY, 'model.safetensors'));
  const tensors: TensorToWrite[] = [];
  for (const t of src.tensors) {
    tensors.push({
      name: t.name,
      dtype: 'F32',
      shape: t.name === bad ? shape : t.shape,
      data: await src.readFloat32(t.name),
    });
  }
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
}

describe('importCheckpoint', () => {
  it('installs a valid folder under its name and leaves no temp folders', async () => {
    const models = path.join(work, 'models-a');
    const r = await importCheckpoint(TINY, { modelsDir: models, name: 'tiny' });
    expect(r.dir).toBe(path.join(models, 'tiny'));
    expect(r.replaced).toBe(false);
    expect(r.checkpoint.dims).toMatchObject({ nLayer: 3, nHead: 4, dModel: 32, dVocab: 50257 });
    expect((await readdir(models)).sort()).toEqual(['tiny']);
    expect((await readdir(r.dir)).sort()).toEqual(['config.json', 'model.safetensors']);
    expect((await stat(path.join(r.dir, 'model.safetensors'))).size).toBe(
      (await stat(path.join(TINY, 'model.safetensors'))).size,
    );
  });

  it('refuses to overwrite without force (409 model_exists) and replaces with force', async () => {
    const models = path.join(work, 'models-b');
    await importCheckpoint(TINY, { modelsDir: models, name: 'm' });
    const err = await rejection(importCheckpoint(TINY, { modelsDir: models, name: 'm' }));
    expect([err.statusCode, err.code]).toEqual([409, 'model_exists']);
    const r = await importCheckpoint(TINY, { modelsDir: models, name: 'm', force: true });
    expect(r.replaced).toBe(true);
    expect((await readdir(models)).sort()).toEqual(['m']);
  });

  it('rejects a corrupted folder naming the bad tensor, and installs nothing', async () => {
    const bad = path.join(work, 'bad');
    await corruptedCopy(bad, 'h.1.attn.c_proj.weight', [16, 64]);
    const models = path.join(work, 'models-c');
    const err = await rejection(importCheckpoint(bad, { modelsDir: models, name: 'bad' }));
    expect([err.statusCode, err.code, err.tensor]).toEqual([422, 'invalid_checkpoint', 'h.1.attn.c_proj.weight']);
    expect(err.detail).toMatch(/h\.1\.attn\.c_proj\.weight.*expected shape \[32, 32\]/);
    expect(await readdir(models).catch(() => [])).toEqual([]);
  });

  it('rejects names that cannot be folder names (400 invalid_model_name)', async () => {
    for (const name of ['../escape', 'registry', '', '.hidden', 'a/b']) {
      const err = await rejection(importCheckpoint(TINY, { modelsDir: path.join(work, 'models-d'), name }));
      expect([err.statusCode, err.code]).toEqual([400, 'invalid_model_name']);
    }
  });

  it('accepts the trained default model through the same path a downloaded GPT-2 takes', async () => {
    const r = await importCheckpoint(MINI, { modelsDir: path.join(work, 'models-e'), name: 'gpt2-mini' });
    expect(r.checkpoint.dtype).toBe('F32');
    expect(r.checkpoint.dims).toMatchObject({
      nLayer: 4,
      nHead: 4,
      dModel: 128,
      dHead: 32,
      dMlp: 512,
      dVocab: 50257,
      nCtx: 128,
    });
    expect(r.checkpoint.config).toMatchObject({
      model_type: 'gpt2',
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
    });
    expect(r.bytes).toBeLessThan(30_000_000);
    const direct = await inspectGpt2Checkpoint(MINI);
    expect(direct.tensors.size).toBe(2 + 4 * 12 + 2);
  });
});

describe('model:import CLI', () => {
  it('installs and exits 0', async () => {
    const io = fakeIo();
    const code = await importCli([TINY, '--name', 'cli-tiny', '--models-dir', path.join(work, 'models-f')], io);
    expect(code).toBe(0);
    expect(io.stdout).toMatch(/Installed "cli-tiny" .*3 layers, d_model 32/);
  });

  it('exits 1 with one readable line naming the tensor (no stack trace) for a corrupted folder', async () => {
    const bad = path.join(work, 'bad-cli');
    await corruptedCopy(bad, 'h.0.mlp.c_fc.weight', [128, 32]);
    const io = fakeIo();
    const code = await importCli([bad, '--models-dir', path.join(work, 'models-g')], io);
    expect(code).toBe(1);
    expect(io.stderr).toMatch(
      /^Error \(invalid_checkpoint\): Tensor h\.0\.mlp\.c_fc\.weight: expected shape \[32, 128\]/,
    );
    expect(io.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 with usage when the folder is missing from the command line', async () => {
    const io = fakeIo();
    expect(await importCli([], io)).toBe(2);
    expect(io.stderr).toContain('Usage: npm run model:import');
  });
});
