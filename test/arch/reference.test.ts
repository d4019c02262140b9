// Parameter totals vs an independent reference: torch module trees built like the HF modeling code (test/arch/reference/count_params.py).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { normalizeConfig } from '../../src/arch/normalize.js';
import { countParams } from '../../src/arch/params.js';
import { readRegistryDir } from '../../src/arch/registry.js';

const here = path.join(PROJECT_ROOT, 'test', 'arch', 'fixtures');
const reference = JSON.parse(readFileSync(path.join(here, 'reference-params.json'), 'utf8')) as {
  registry: Record<string, number>;
  tiny: Record<string, number>;
};
const tiny = JSON.parse(readFileSync(path.join(here, 'tiny-configs.json'), 'utf8')) as Record<
  string,
  Record<string, unknown>
>;

describe('tiny configs (every family feature) vs the torch reference', () => {
  it.each(Object.keys(tiny))('%s', (name) => {
    expect(reference.tiny[name], `regenerate fixtures: no reference for ${name}`).toBeTypeOf('number');
    expect(countParams(normalizeConfig(tiny[name])).total).toBe(reference.tiny[name]);
  });
});

describe('registry entries vs the torch reference', () => {
  const { entries } = readRegistryDir(path.join(PROJECT_ROOT, 'models', 'registry'));
  it('covers the registry', () => {
    expect(entries.length).toBeGreaterThan(0);
  });
  it.each(entries.map((e) => [e.name, e] as const))('%s', (_n, e) => {
    const want = reference.registry[e.name];
    expect(
      want,
      `no reference for ${e.name}: rerun test/arch/reference/count_params.py (see docs/arch-math.md)`,
    ).toBeTypeOf('number');
    expect(e.params.total).toBe(want);
  });
});
