// npm run watch: the CLI follows a real generation and prints tokens and per-layer lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';
import { main } from '../../src/cli/watch.js';
import type { CliIo } from '../../src/cli/cli-io.js';

function captureIo(): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: {},
    isTty: false,
    stdout: () => out,
    stderr: () => err,
  };
}

describe('npm run watch', () => {
  let server: StreamServer;
  beforeAll(async () => {
    server = await startStreamServer({ MAX_NEW_TOKENS: 8 });
  });
  afterAll(async () => server.close());

  it('prints each token with one line per layer (norm + lens), then the text and a done line', async () => {
    const io = captureIo();
    const code = await main(['The capital of France is', '--url', server.url, '--max-new-tokens', '3'], io);
    expect(code).toBe(0);
    const out = io.stdout();
    expect(out).toContain('tiny-gpt2 · 3 layers · d_model 32');
    expect(out).not.toContain('\x1b['); // no ANSI when not a terminal
    for (const label of ['emb', 'L0', 'L1', 'L2'])
      expect(out.match(new RegExp(`^  ${label}\\s`, 'gm'))).toHaveLength(3);
    expect(out.match(/‖resid‖\s+\d+\.\d+/g)?.length).toBe(12); // embedding + 3 layers, x 3 tokens
    expect(out).toMatch(/done: length · 3 tokens/);
    expect(out).toMatch(/^share: [\w-]{24} \(npm run watch -- --share=[\w-]{24}\)$/m);
  });

  it('--share follows a generation another connection started', async () => {
    const owner = await StreamClient.connect(server.url);
    owner.send({ type: 'generate', id: 'mine', prompt: 'People in Kenya speak', max_new_tokens: 8 });
    const { share } = await owner.next('started', 'mine');
    const io = captureIo();
    // --share=TOKEN: a token may start with "-", which a separate argument would read as an option.
    expect(await main([`--share=${share}`, '--url', server.url], io)).toBe(0);
    const done = (await owner.untilDone('mine')).at(-1);
    const out = io.stdout();
    expect(out).toContain('People in Kenya speak');
    expect(out).not.toContain('share:'); // only the owner is shown the token
    expect(out).toMatch(/done: \w+ · \d+ tokens/);
    expect(out).toContain((done as { text: string }).text);
    const wrong = captureIo();
    expect(await main(['--share', 'A'.repeat(24), '--url', server.url], wrong)).toBe(1);
    expect(wrong.stderr()).toContain('Error (unknown_generation)');
    owner.close();
  });

  it('--text-only prints just the text; errors from the server go to stderr', async () => {
    const io = captureIo();
    expect(await main(['Hello', '--url', server.url, '--max-new-tokens', '2', '--text-only'], io)).toBe(0);
    expect(io.stdout()).not.toContain('‖resid‖');
    const bad = captureIo();
    expect(await main(['Hello', '--url', server.url, '--max-new-tokens', '9'], bad)).toBe(1);
    expect(bad.stderr()).toContain('Error (too_many_new_tokens)');
  });

  it('--ablate zeroes heads for the whole generation: the tokens equal /trace with the same intervention', async () => {
    const prompt = 'The capital of France is';
    const interventions = [{ hook: 'blocks.0.attn.hook_z', heads: [0, 1, 2, 3], op: 'zero' }];
    const res = await server.app.inject({
      method: 'POST',
      url: '/trace',
      payload: { prompt, interventions, max_new_tokens: 3, hooks: ['blocks.0.hook_resid_pre'] },
    });
    expect(res.statusCode).toBe(200);
    const expected = (res.json() as { generated: { tokens: { text: string }[] } }).generated.tokens.map((t) => t.text);
    const io = captureIo();
    const argv = [prompt, '--url', server.url, '--max-new-tokens', '3', '--ablate', 'blocks.0.attn.hook_z:0,1,2,3'];
    expect(await main(argv, io)).toBe(0);
    expect(io.stdout()).toContain('intervening: blocks.0.attn.hook_z heads 0,1,2,3 zero');
    const printed = [...io.stdout().matchAll(/^(".*?") #\d+ pos/gm)].map((m) => JSON.parse(m[1] ?? '""') as string);
    expect(printed).toEqual(expected);
    // A misspelt hook is the server's unknown_hook, on stderr, exit 1; a malformed flag is a usage error.
    const bad = captureIo();
    expect(
      await main([prompt, '--url', server.url, '--max-new-tokens', '2', '--ablate', 'blocks.0.attn.hook_zz:1'], bad),
    ).toBe(1);
    expect(bad.stderr()).toContain('Error (unknown_hook)');
    expect(await main([prompt, '--ablate', 'blocks.0.attn.hook_z:x'], captureIo())).toBe(2);
  });

  it('--compare shows the clean token next to each intervened one, as /trace compare gives them', async () => {
    const prompt = 'The capital of France is';
    const interventions = [{ hook: 'blocks.0.attn.hook_z', heads: [0, 1, 2, 3], op: 'zero' }];
    const res = await server.app.inject({
      method: 'POST',
      url: '/trace',
      payload: { prompt, interventions, compare: true, max_new_tokens: 3, hooks: [] },
    });
    type Gen = { tokens: { text: string }[]; text: string };
    const body = res.json() as { generated: Gen; baseline: { generated: Gen } };
    const io = captureIo();
    const argv = [
      prompt,
      '--url',
      server.url,
      '--max-new-tokens',
      '3',
      '--ablate',
      'blocks.0.attn.hook_z',
      '--compare',
    ];
    expect(await main(argv, io)).toBe(0);
    const lines = [...io.stdout().matchAll(/^(".*?") #\d+ pos .*?(?:= clean|clean (".*?")) \(?p=/gm)];
    expect(lines.map((m) => JSON.parse(m[1] as string))).toEqual(body.generated.tokens.map((t) => t.text));
    expect(lines.map((m) => (m[2] === undefined ? JSON.parse(m[1] as string) : JSON.parse(m[2])))).toEqual(
      body.baseline.generated.tokens.map((t) => t.text),
    );
    expect(io.stdout()).toContain(`clean: ${prompt}${body.baseline.generated.text}`);
  });

  it('--help and -h print the usage on stdout and exit 0 without connecting', async () => {
    for (const flag of ['--help', '-h']) {
      const io = captureIo();
      expect(await main([flag], io)).toBe(0);
      expect(io.stdout()).toContain('Usage: npm run watch');
      expect(io.stdout()).toContain('--max-new-tokens N');
      expect(io.stderr()).toBe('');
    }
  });

  it('usage errors exit 2 and an unreachable server exits 1', async () => {
    const io = captureIo();
    expect(await main([], io)).toBe(2);
    expect(io.stderr()).toContain('Usage: npm run watch');
    const down = captureIo();
    expect(await main(['x', '--url', 'ws://127.0.0.1:9/stream'], down)).toBe(1);
    expect(down.stderr()).toContain('Cannot reach the stream');
  });
});
