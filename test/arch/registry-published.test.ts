// Every registry entry: the total computed from its config vs its published figure (and MoE active, MTP extras).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { readRegistryDir, type ArchEntry } from '../../src/arch/registry.js';

const { entries, problems } = readRegistryDir(path.join(PROJECT_ROOT, 'models', 'registry'));

/**
 * Which per-token figure each publisher reports (models/registry/README.md, "Counting conventions"):
 * DeepSeek V2/V3 and gpt-oss leave the input embedding table out; Mixtral, Qwen and DeepSeek-MoE count it.
 * An entry's published.active_convention overrides this table.
 */
const ACTIVE_CONVENTION: Record<string, 'all' | 'non_embedding'> = {
  deepseek_v2: 'non_embedding',
  deepseek_v3: 'non_embedding',
  gpt_oss: 'non_embedding',
};

const rel = (a: number, b: number) => Math.abs(a - b) / b;
const pct = (x: number) => `${(x * 100).toFixed(3)}%`;

describe('architecture registry files', () => {
  it('load without problems (each line names the file and entry)', () => {
    expect(problems, problems.join('\n')).toEqual([]);
  });
  it('are present', () => {
    expect(entries.length).toBeGreaterThan(0);
  });
});

describe.each(entries.map((e) => [e.name, e] as [string, ArchEntry]))('%s', (_name, e) => {
  const pub = e.published;
  it(`total matches the published ${pub.exact ? 'exact' : 'rounded'} figure`, () => {
    const got = e.params.total;
    if (pub.exact) {
      expect(
        got,
        `${e.name}: computed ${got} vs published exact ${pub.total} (${e.file}); note: ${pub.note ?? ''}`,
      ).toBe(pub.total);
    } else {
      const tol = pub.tolerance ?? 0.005;
      expect(
        rel(got, pub.total),
        `${e.name}: computed ${got} vs published ${pub.total}: ${pct(rel(got, pub.total))} > ${pct(tol)} (${e.file})`,
      ).toBeLessThanOrEqual(tol);
    }
  });

  if (pub.active !== null) {
    it('MoE active parameters match the published figure in its publisher convention', () => {
      const convention = pub.active_convention ?? ACTIVE_CONVENTION[e.spec.modelType] ?? 'all';
      const got = convention === 'all' ? e.params.active : e.params.active_non_embedding;
      // Active figures are rounded labels ("37B"); the registry states each tolerance and why.
      const tol = pub.active_tolerance ?? pub.tolerance ?? 0.005;
      expect(got, `${e.name}: no active count computed`).not.toBeNull();
      expect(
        rel(got!, pub.active!),
        `${e.name}: computed active (${convention}) ${got} vs published ${pub.active}: ${pct(rel(got!, pub.active!))} > ${pct(tol)}`,
      ).toBeLessThanOrEqual(tol);
    });
  }

  if (pub.total_with_extras && e.spec.mtpLayers > 0) {
    it('total with the multi-token-prediction module matches the published checkpoint figure', () => {
      const got = e.params.mtp!.total_with_mtp;
      const tol = pub.extras_tolerance ?? 0.005;
      expect(
        rel(got, pub.total_with_extras!),
        `${e.name}: computed ${got} with MTP vs ${pub.total_with_extras}`,
      ).toBeLessThanOrEqual(tol);
    });
  }
});

describe('anchor figures', () => {
  const byName = new Map(entries.map((e) => [e.name, e]));
  it.each([
    ['gpt2', 124_439_808],
    ['llama-2-7b', 6_738_415_616],
  ])('%s has exactly %i parameters', (name, total) => {
    expect(byName.get(name)?.params.total).toBe(total);
  });
});
