// A temporary MODELS_DIR holding the committed tiny fixture (symlinked) for route and plugin tests.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BuildAppOptions } from '../../src/app.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { testApp } from '../helpers/app.js';

export const TINY_FIXTURE = path.join(PROJECT_ROOT, 'test/fixtures/tiny-gpt2');

/** Make a temp folder with `tiny-gpt2` -> test/fixtures/tiny-gpt2; returns its path and a cleanup. */
export async function tinyModelsDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-models-'));
  await symlink(TINY_FIXTURE, path.join(dir, 'tiny-gpt2'), 'dir');
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A test app whose MODELS_DIR holds only the tiny fixture, as DEFAULT_MODEL `tiny-gpt2`; close() also removes the folder. */
export async function tinyApp(
  config: BuildAppOptions['config'] = {},
): Promise<{ app: FastifyInstance; close: () => Promise<void> }> {
  const models = await tinyModelsDir();
  const app = await testApp({ MODELS_DIR: models.dir, DEFAULT_MODEL: 'tiny-gpt2', ...config });
  return {
    app,
    close: async () => {
      await app.close();
      await models.cleanup();
    },
  };
}
