// model:import of llama-family folders (single file and sharded), Hugging Face cache snapshots (relative symlinks into
// ../../blobs), absolute symlinks, and plain files: the installed model is always real bytes inside MODELS_DIR.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFile, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultModelName, importCheckpoint } from '../../src/checkpoint/import.js';
import { inspectCheckpoint } from '../../src/checkpoint/any-checkpoint.js';
import { ProblemError } from '../../src/errors/problem-error.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { main as importCli } from '../../src/cli/model-import.js';

const LLAMA_MINI = path.join(PROJECT_ROOT, 'models/llama-mini');
const SHARDED = path.join(PROJECT_ROOT, 'test/fixtures/tiny-qwen2');
const LLAMA_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const SHARDED_FILES = [
  'config.json',
  'model-00001-of-00002.safetensors',
  'model-00002-of-00002.safetensors',
  'model.safetensors.index.json',
];
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'tt-import-links-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const sha = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

async function rejection(p: Promise<unknown>): Promise<ProblemError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProblemError);
  return err as ProblemError;
}

/**
 * Lay `files` of `from` out as the Hugging Face hub cache does:
 * <hub>/models--<owner>--<repo>/{blobs/<sha256>, refs/main, snapshots/<commit>/<file> -> ../../blobs/<sha256>}.
 */
async function hfCacheSnapshot(hub: string, repo: string, from: string, files: string[]): Promise<string> {
  const root = path.join(hub, `models--${repo.replace('/', '--')}`);
  const commit = 'c0ffee'.padEnd(40, '0');
  const snap = path.join(root, 'snapshots', commit);
  await mkdir(path.join(root, 'blobs'), { recursive: true });
  await mkdir(path.join(root, 'refs'), { recursive: true });
  await mkdir(snap, { recursive: true });
  await writeFile(path.join(root, 'refs', 'main'), commit);
  for (const f of files) {
    const blob = await sha(path.join(from, f));
    await copyFile(path.join(from, f), path.join(root, 'blobs', blob));
    await symlink(path.join('..', '..', 'blobs', blob), path.join(snap, f));
  }
  return snap;
}

/** Every installed file is a regular file with one link, inside the model folder, byte-equal to the source. */
async function expectRealCopies(dir: string, source: string, files: string[]): Promise<void> {
  expect((await readdir(dir)).sort()).toEqual([...files].sort());
  for (const f of files) {
    const st = await lstat(path.join(dir, f));
    expect(st.isFile(), `${f} is a regular file`).toBe(true);
    expect(st.nlink, `${f} is not a hard link`).toBe(1);
    expect(await sha(path.join(dir, f))).toBe(await sha(path.join(source, f)));
  }
}

describe('importCheckpoint: llama family', () => {
  it('installs llama-mini with its tokenizer files and nothing else', async () => {
    const models = path.join(work, 'm-llama');
    const r = await importCheckpoint(LLAMA_MINI, { modelsDir: models, name: 'lm' });
    expect(r.checkpoint).toMatchObject({ family: 'llama', modelType: 'llama', dtype: 'F32' });
    expect(r.checkpoint.dims).toMatchObject({ nLayer: 4, nHead: 4, nKvHeads: 2, dModel: 128, dVocab: 2048 });
    expect(r.files).toEqual(LLAMA_FILES);
    await expectRealCopies(r.dir, LLAMA_MINI, LLAMA_FILES);
    expect(r.bytes).toBe((await stat(path.join(LLAMA_MINI, 'model.safetensors'))).size);
  });

  it('installs a sharded checkpoint: every shard and the index', async () => {
    const models = path.join(work, 'm-sharded');
    const r = await importCheckpoint(SHARDED, { modelsDir: models, name: 'q' });
    expect(r.checkpoint.modelType).toBe('qwen2');
    await expectRealCopies(r.dir, SHARDED, SHARDED_FILES);
    const again = await inspectCheckpoint(r.dir);
    expect(again.family === 'llama' && again.ckpt.files.weights.map((f) => path.basename(f))).toEqual(
      SHARDED_FILES.slice(1, 3),
    );
    expect(await readdir(models)).toEqual(['q']);
  });
});

describe('importCheckpoint: symlinks and copies', () => {
  it('imports a Hugging Face cache snapshot (relative links into ../../blobs), named after the repo', async () => {
    const snap = await hfCacheSnapshot(path.join(work, 'hub1'), 'HuggingFaceTB/SmolLM2-135M', LLAMA_MINI, [
      ...LLAMA_FILES,
      'MODEL_CARD.md',
    ]);
    expect(defaultModelName(snap)).toBe('SmolLM2-135M');
    const models = path.join(work, 'm-cache');
    const r = await importCheckpoint(snap, { modelsDir: models });
    expect(r.name).toBe('SmolLM2-135M');
    await expectRealCopies(r.dir, LLAMA_MINI, LLAMA_FILES);
    expect(await readdir(models)).toEqual(['SmolLM2-135M']);
  });

  it('imports a sharded cache snapshot', async () => {
    const snap = await hfCacheSnapshot(path.join(work, 'hub2'), 'Qwen/Qwen2.5-7B', SHARDED, SHARDED_FILES);
    const r = await importCheckpoint(snap, { modelsDir: path.join(work, 'm-cache-sharded') });
    expect(r.name).toBe('Qwen2.5-7B');
    await expectRealCopies(r.dir, SHARDED, SHARDED_FILES);
  });

  it('installs absolute symlinks as real files, not links pointing outside MODELS_DIR', async () => {
    const src = path.join(work, 'abs-links');
    await mkdir(src);
    for (const f of LLAMA_FILES) await symlink(path.join(LLAMA_MINI, f), path.join(src, f));
    const r = await importCheckpoint(src, { modelsDir: path.join(work, 'm-abs'), name: 'abs' });
    await expectRealCopies(r.dir, LLAMA_MINI, LLAMA_FILES);
  });

  it('copies plain files: overwriting the source later does not change the installed model', async () => {
    const src = path.join(work, 'plain');
    await mkdir(src);
    for (const f of LLAMA_FILES) await copyFile(path.join(LLAMA_MINI, f), path.join(src, f));
    const r = await importCheckpoint(src, { modelsDir: path.join(work, 'm-plain'), name: 'plain' });
    const installed = path.join(r.dir, 'model.safetensors');
    const before = await sha(installed);
    // What `cp other.safetensors src/model.safetensors` does: rewrite the same inode in place.
    const bytes = await readFile(path.join(src, 'model.safetensors'));
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(path.join(src, 'model.safetensors'), bytes);
    expect(await sha(installed)).toBe(before);
    expect((await stat(installed)).ino).not.toBe((await stat(path.join(src, 'model.safetensors'))).ino);
  });

  it('refuses a dangling tokenizer link with a sentence naming the link and its target; installs nothing', async () => {
    const snap = await hfCacheSnapshot(path.join(work, 'hub3'), 'o/broken', LLAMA_MINI, LLAMA_FILES);
    const blob = path.resolve(snap, '..', '..', 'blobs', await sha(path.join(LLAMA_MINI, 'tokenizer.json')));
    await rm(blob);
    const models = path.join(work, 'm-broken');
    const err = await rejection(importCheckpoint(snap, { modelsDir: models }));
    expect([err.statusCode, err.code]).toEqual([422, 'import_failed']);
    expect(err.detail).toContain(path.join(snap, 'tokenizer.json'));
    expect(err.detail).toMatch(/symlink to \.\.\/\.\.\/blobs\/[0-9a-f]{64}, which does not exist/);
    expect(await readdir(models)).toEqual([]); // no hidden temp folder left behind
  });

  it('names the source, never a hidden temp folder, when a weights link is dangling', async () => {
    const snap = await hfCacheSnapshot(path.join(work, 'hub4'), 'o/noweights', LLAMA_MINI, LLAMA_FILES);
    await rm(path.resolve(snap, '..', '..', 'blobs', await sha(path.join(LLAMA_MINI, 'model.safetensors'))));
    const err = await rejection(importCheckpoint(snap, { modelsDir: path.join(work, 'm-noweights') }));
    expect([err.statusCode, err.code]).toEqual([422, 'invalid_checkpoint']);
    expect(err.detail).toContain(snap);
    expect(err.detail).not.toContain('.import-');
  });

  it('the CLI installs a cache snapshot and says what it installed', async () => {
    const snap = await hfCacheSnapshot(path.join(work, 'hub5'), 'HuggingFaceTB/SmolLM2-135M', LLAMA_MINI, LLAMA_FILES);
    const io = {
      stdout: '',
      stderr: '',
      env: {},
      isTty: false,
      out: (t: string) => void (io.stdout += t),
      err: (t: string) => void (io.stderr += t),
    };
    expect(await importCli([snap, '--models-dir', path.join(work, 'm-cli')], io)).toBe(0);
    expect(io.stdout).toMatch(/Installed "SmolLM2-135M" .*llama, 4 layers, d_model 128, 4 heads \(2 key\/value\)/);
    expect(io.stdout).toMatch(/in 4 files/);
  });
});
