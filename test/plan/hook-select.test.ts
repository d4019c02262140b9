import { describe, expect, it } from 'vitest';
import { allHookNames, sitePatterns } from '../../src/hooks/catalogue.js';
import { ProblemError } from '../../src/errors/problem-error.js';
import { DEFAULT_HOOK_PATTERNS, defaultHookPatterns, globMatcher, selectHooks } from '../../src/plan/hook-select.js';

const names = allHookNames(2);

describe('selectHooks', () => {
  it('expands a per-layer site pattern across layers, in forward order', () => {
    expect(selectHooks(['blocks.*.attn.hook_pattern'], names, 2)).toEqual([
      'blocks.0.attn.hook_pattern',
      'blocks.1.attn.hook_pattern',
    ]);
  });

  it('the opt-in attn.hook_result comes only from a pattern that names it', () => {
    expect(selectHooks(['blocks.1.*'], names, 2)).not.toContain('blocks.1.attn.hook_result');
    expect(selectHooks(['*'], names, 2)).not.toContain('blocks.0.attn.hook_result');
    expect(selectHooks(['blocks.*.attn.hook_result'], names, 2)).toEqual([
      'blocks.0.attn.hook_result',
      'blocks.1.attn.hook_result',
    ]);
    expect(selectHooks(['blocks.1.attn.hook_result', 'blocks.1.attn.hook_z'], names, 2)).toEqual([
      'blocks.1.attn.hook_z',
      'blocks.1.attn.hook_result',
    ]);
  });

  it('`*` crosses dots: *resid_post and blocks.1.*', () => {
    expect(selectHooks(['*resid_post'], names, 2)).toEqual(['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post']);
    const block1 = selectHooks(['blocks.1.*'], names, 2);
    expect(block1).toHaveLength(17);
    expect(block1.every((n) => n.startsWith('blocks.1.'))).toBe(true);
  });

  it('dots are literal and names are anchored', () => {
    expect(globMatcher('blocks.1.hook_resid_pre')('blocksX1.hook_resid_pre')).toBe(false);
    expect(globMatcher('hook_embed')('hook_embedding')).toBe(false);
    expect(() => selectHooks(['blocks.1'], names, 2)).toThrow(/No hook of this model matches "blocks.1"/);
  });

  it('glob semantics: prefix, suffix, segments in order, stars matching empty runs, no overlap of prefix and suffix', () => {
    const cases: [string, string, boolean][] = [
      ['*', 'anything', true],
      ['**', '', true],
      ['a*a', 'a', false],
      ['a*a', 'aa', true],
      ['ab*bc', 'abc', false],
      ['ab*bc', 'abbc', true],
      ['*.attn.*', 'blocks.0.attn.hook_q', true],
      ['b*k*s.1*', 'blocks.1.hook_resid_pre', true],
      ['b*k*s.2*', 'blocks.1.hook_resid_pre', false],
      ['*hook_q*hook_k', 'blocks.0.attn.hook_q', false],
      ['bl*ks.*.*ttn*pattern', 'blocks.12.attn.hook_pattern', true],
    ];
    for (const [glob, name, want] of cases) {
      const re = new RegExp(
        `^${glob
          .split('*')
          .map((p) => p.replace(/[.]/g, '\\.'))
          .join('.*')}$`,
      );
      expect([glob, name, globMatcher(glob)(name)]).toEqual([glob, name, want]);
      expect(re.test(name)).toBe(want); // the regex reading, on inputs small enough for it
    }
  });

  it('30 stars before a letter that never matches: answered at once (a backtracking regex takes ages)', () => {
    const glob = `${'*'.repeat(30)}X`;
    expect(() => selectHooks([glob], allHookNames(48), 48)).toThrow(/No hook of this model matches/);
    expect(selectHooks([`${'*'.repeat(30)}t`], names, 2)).toContain('blocks.0.hook_resid_post');
  });

  it('dedupes overlapping patterns and keeps forward order regardless of request order', () => {
    expect(selectHooks(['ln_final.hook_normalized', 'hook_embed', 'hook_embed', 'hook_*embed'], names, 2)).toEqual([
      'hook_embed',
      'hook_pos_embed',
      'ln_final.hook_normalized',
    ]);
  });

  it('unknown names and layers past the last block -> 400 unknown_hook listing valid patterns', () => {
    for (const bad of [['blocks.2.hook_resid_post'], ['hook_resid_pre'], ['blocks.0.attn.hook_pattern', 'resid']]) {
      let err: unknown;
      try {
        selectHooks(bad, names, 2);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProblemError);
      const pe = err as ProblemError;
      expect([pe.statusCode, pe.code]).toEqual([400, 'unknown_hook']);
      expect(pe.extra.valid_patterns).toEqual(sitePatterns());
      expect(pe.extra.unknown).toEqual(bad.filter((b) => b !== 'blocks.0.attn.hook_pattern'));
    }
  });

  it('every default pattern matches on a 1-layer model of some family, and every site pattern is itself valid', () => {
    const one = allHookNames(1);
    const llama = allHookNames(1, 'llama');
    expect(defaultHookPatterns(one)).toEqual(DEFAULT_HOOK_PATTERNS.filter((p) => !p.includes('hook_rot_')));
    expect(defaultHookPatterns(llama)).toEqual(DEFAULT_HOOK_PATTERNS.filter((p) => p !== 'hook_pos_embed'));
    expect(() => selectHooks(defaultHookPatterns(one), one, 1)).not.toThrow();
    expect(selectHooks(defaultHookPatterns(llama), llama, 1, 'llama')).toContain('blocks.0.attn.hook_rot_q');
    expect(selectHooks(sitePatterns(), one, 1)).toEqual(one);
  });
});
