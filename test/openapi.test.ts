import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/config.js';
import { renderOpenApiYaml } from '../tools/openapi/render.js';

describe('openapi.yaml', () => {
  it('matches the spec generated from the zod schemas (run `npm run openapi` after changing a route)', async () => {
    const committed = await readFile(path.join(PROJECT_ROOT, 'openapi.yaml'), 'utf8');
    const generated = await renderOpenApiYaml();
    expect(committed === generated, 'openapi.yaml is stale: run `npm run openapi`').toBe(true);
  });
});
