// A temporary MODELS_DIR holding the committed tiny fixture (symlinked) for route and plugin tests.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';

export const TINY_FIXTURE = path.join(PROJECT_ROOT, 'test/fixtures/tiny-gpt2');

/** Make a temp folder with `tiny-gpt2` -> test/fixtures/tiny-gpt2; returns its path and a cleanup. */
export async function tinyModelsDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-models-'));
  await symlink(TINY_FIXTURE, path.join(dir, 'tiny-gpt2'), 'dir');
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
