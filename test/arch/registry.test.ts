// Registry lookup (names, aliases, org prefixes, separators), suggestions, families, and loud load failures.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { ArchRegistry, RegistryLoadError, lookupKey } from '../../src/arch/registry.js';
import { editDistance } from '../../src/errors/edit-distance.js';
import type { KnownArchitectures } from '../../src/plugins/model-registry.js';

const GPT2 = { model_type: 'gpt2', vocab_size: 10, n_embd: 8, n_layer: 1, n_head: 2, n_positions: 16 };
const entry = (name: string, aliases: string[] = [], config: Record<string, unknown> = GPT2) => ({
  name,
  display_name: name.toUpperCase(),
  aliases,
  released: '2020-01',
  source: { config: 'x', params: 'y' },
  published: { total: 1, exact: false, active: null },
  config,
});

const dirs: string[] = [];
function registryDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'arch-registry-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files))
    writeFileSync(path.join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('lookup', () => {
  const reg = ArchRegistry.load(
    registryDir({
      'llama.json': {
        family: 'llama',
        models: [entry('llama-3-8b', ['meta-llama/Meta-Llama-3-8B']), entry('qwen2.5-7b', ['Qwen/Qwen2.5-7B'])],
      },
    }),
  );
  it.each([
    'llama-3-8b',
    'LLAMA-3-8B',
    'llama_3_8b',
    'llama.3.8b',
    'Meta-Llama-3-8B',
    'meta-llama/Meta-Llama-3-8B',
    'someorg/llama-3-8b',
  ])('%s -> llama-3-8b', (q) => {
    expect(reg.lookup(q)).toBe('llama-3-8b');
  });
  it('keeps dots meaningful enough: qwen2.5-7b and qwen2_5_7b resolve, qwen257b does not', () => {
    expect(reg.lookup('Qwen2_5-7B')).toBe('qwen2.5-7b');
    expect(reg.lookup('qwen257b')).toBeUndefined();
  });
  it('suggests the closest names', () => {
    expect(reg.closestNames('lama-3-8b', 1)).toEqual(['llama-3-8b']);
    expect(reg.closestNames('qwen-7b', 2)[0]).toBe('qwen2.5-7b');
  });
  it('filters by family, case-insensitively', () => {
    expect(reg.byFamily('LLAMA').map((e) => e.name)).toEqual(['llama-3-8b', 'qwen2.5-7b']);
    expect(reg.byFamily('gemma')).toEqual([]);
  });
  it("serves as the model-registry plugin's KnownArchitectures", () => {
    const known: KnownArchitectures = reg; // compile-time: the plugin can take the registry as is
    expect(known.lookup('LLAMA-3-8B')).toBe('llama-3-8b');
  });
  it('normalises keys and measures edit distance', () => {
    expect(lookupKey(' Org/Foo__Bar.1 ')).toBe('foo-bar-1');
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('loading fails loudly, naming file and entry', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['bad JSON', { 'a.json': '{ nope' }, /a\.json: not readable JSON/],
    ['no models array', { 'a.json': { family: 'x' } }, /a\.json: models/],
    [
      'bad entry field',
      { 'a.json': { family: 'x', models: [{ ...entry('m1'), published: { total: -5, exact: true, active: null } }] } },
      /a\.json, entry m1: published\.total/,
    ],
    [
      'unsupported architecture',
      { 'b.json': { family: 'x', models: [entry('m2', [], { model_type: 'rwkv' })] } },
      /b\.json, entry m2: .*unsupported_model_type/,
    ],
    [
      'missing field',
      { 'b.json': { family: 'x', models: [entry('m3', [], { model_type: 'gpt2' })] } },
      /b\.json, entry m3: .*invalid_config: config\.n_embd is required/,
    ],
    [
      'duplicate alias',
      { 'c.json': { family: 'x', models: [entry('m4', ['shared']), entry('m5', ['Shared'])] } },
      /"Shared" of m5 is also a name or alias of m4/,
    ],
  ];
  it.each(cases)('%s', (_label, files, message) => {
    const dir = registryDir(files);
    expect(() => ArchRegistry.load(dir)).toThrow(RegistryLoadError);
    expect(() => ArchRegistry.load(dir)).toThrow(message);
  });
  it('a missing directory is an empty registry', () => {
    expect(ArchRegistry.load(path.join(PROJECT_ROOT, 'no-such-dir')).entries).toEqual([]);
  });
  it('applies library_defaults under the published config', () => {
    const dir = registryDir({
      'g.json': {
        family: 'g',
        models: [
          {
            ...entry('g1'),
            config: { ...GPT2, tie_word_embeddings: true },
            library_defaults: { tie_word_embeddings: false, n_inner: 4 },
          },
        ],
      },
    });
    const e = ArchRegistry.load(dir).find('g1')!;
    expect([e.spec.tiedEmbeddings, e.spec.mlp.dMlp]).toEqual([true, 4]);
  });
});
