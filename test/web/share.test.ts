import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { curlCommand, pyLiteral, shellQuote, traceBody } from '../../web/src/share/snippets.js';
import { stateFromQuery, stateToQuery } from '../../web/src/share/url-state.js';

const hasPython = spawnSync('/usr/bin/python3', ['-c', 'pass'], { stdio: 'ignore' }).status === 0;

describe('share: the page state in the URL', () => {
  it('round-trips every field, interventions included', () => {
    const state = {
      prompt: "It's 50% & more?\nyes",
      model: 'gpt2-mini',
      max_new_tokens: 8,
      temperature: 0.7,
      top_k: 40,
      top_p: 0.95,
      seed: 42,
      token: 2,
      layer: 3,
      head: 1,
      interventions: [{ hook: 'blocks.3.attn.hook_z', heads: [0, 1], op: 'zero' as const, positions: 'all' as const }],
      trace: 'abcdefghijklmnop',
    };
    expect(stateFromQuery(stateToQuery(state))).toEqual(state);
  });

  it('drops what does not parse and leaves out empty fields', () => {
    expect(stateFromQuery('?layer=x&top_k=&interventions={bad&trace=../../etc&prompt=hi')).toEqual({ prompt: 'hi' });
    expect(stateToQuery({ prompt: '', layer: Number.NaN })).toBe('');
    expect(stateFromQuery('?interventions=[1,2]')).toEqual({});
  });
});

describe('share: snippets', () => {
  it('shell-quotes a prompt with quotes so the shell gives it back unchanged', () => {
    const text = `it's "quoted" $HOME \`x\``;
    expect(execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(text)}`], { encoding: 'utf8' })).toBe(text);
    const curl = curlCommand('http://localhost:8080', { prompt: text, model: 'm' });
    expect(curl).toContain('http://localhost:8080/trace');
    const body = /-d (.*)$/s.exec(curl)?.[1] ?? '';
    expect(JSON.parse(execFileSync('/bin/sh', ['-c', `printf %s ${body}`], { encoding: 'utf8' }))).toEqual(
      traceBody({ prompt: text, model: 'm' }),
    );
  });

  it.skipIf(!hasPython)('pyLiteral writes values Python reads back as the same JSON', () => {
    const value = { a: [1, 2.5, -3e-7], b: true, c: false, d: null, e: 'x"y\\z\n☃', f: { g: [] } };
    const out = execFileSync('/usr/bin/python3', ['-c', `import json; print(json.dumps(${pyLiteral(value)}))`], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual(value);
  });
});
