// Bench section "torch": tensortrace vs an independent PyTorch GPT-2 with hooks (bench/torch_gpt2.py) on the same
// random GPT-2-small checkpoint, interleaved rep by rep in one run: per traced prefill and per streamed token.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { allHookNames } from '../src/hooks/catalogue.js';
import { loadModelRuntime } from '../src/runtime/load.js';
import type { ModelRuntime, KvCache } from '../src/runtime/types.js';
import { argmax } from '../src/sampling/softmax.js';
import { summarizeForward } from '../src/decode/summarize-forward.js';
import { median, timed, type BenchContext, type BenchRow, type BenchSection, randomGpt2Small } from './section.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./torch_gpt2.py', import.meta.url));

/** The token ids bench/torch_gpt2.py uses: 1000 + (i * 7919) % 40000. */
const ids = (n: number) => Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 40000));

/** A PyTorch worker process answering one JSON line per request line. */
async function startTorch(dir: string) {
  const child = spawn(PYTHON, [SCRIPT, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('bench/torch_gpt2.py exited');
    return JSON.parse(value) as Record<string, unknown>;
  };
  const ready = await next();
  return {
    ready,
    ask: async (req: Record<string, unknown>) => {
      child.stdin.write(`${JSON.stringify(req)}\n`);
      return next();
    },
    close: () => child.stdin.end(),
  };
}

/** Ours: the stream's per-token work — a KV-cached greedy step, every hook summarised as summarizeForward does. */
async function decodeOurs(rt: ModelRuntime, prompt: number, steps: number, traced: boolean) {
  const hooks = traced ? allHookNames(rt.dims.nLayer).filter((h) => h !== 'logits') : [];
  const summarised = traced ? allHookNames(rt.dims.nLayer) : [];
  let res = await rt.forward({ tokenIds: ids(prompt), hooks: [] });
  const tokens: number[] = [];
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    const T = res.logits.dims[0];
    const next = argmax(res.logits.data.subarray((T - 1) * rt.dims.dVocab));
    tokens.push(next);
    const past: KvCache = res.present;
    res = await rt.forward({ tokenIds: [next], past, hooks });
    rt.release?.(past);
    if (traced) {
      const offset = prompt + s;
      await summarizeForward(rt, res, {
        hooks: summarised,
        positions: [offset],
        offset,
        detail: 'summary',
        topK: 10,
        logitLens: false,
      });
    }
  }
  const ms = (performance.now() - t0) / steps;
  rt.release?.(res.present);
  return { msPerToken: ms, tokens };
}

/** Ours: a traced prefill (every hook fetched and summarised at every position) or a plain one. */
async function prefillOurs(rt: ModelRuntime, n: number, traced: boolean) {
  const hooks = traced ? allHookNames(rt.dims.nLayer).filter((h) => h !== 'logits') : [];
  return timed(async () => {
    const res = await rt.forward({ tokenIds: ids(n), hooks });
    if (traced)
      await summarizeForward(rt, res, {
        hooks: allHookNames(rt.dims.nLayer),
        positions: Array.from({ length: n }, (_, i) => i),
        offset: 0,
        detail: 'summary',
        topK: 10,
        logitLens: false,
      });
    rt.release?.(res.present);
  });
}

async function run(ctx: BenchContext) {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = `skipped: ${PYTHON} with torch is not available (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()})`;
    ctx.log(`torch: ${why}`);
    return { rows: [{ case: 'PyTorch side-by-side', ms: 0, note: why }], data: { skipped: why } };
  }
  const dir = await randomGpt2Small(ctx);
  const rt = await loadModelRuntime(dir, {
    name: 'gpt2-random',
    threads: ctx.threads || undefined,
    spinning: ctx.spinning,
  });
  const torch = await startTorch(dir);
  const reps = ctx.quick ? 2 : 3;
  const N = ctx.quick ? 32 : 128;
  const prompt = 16;
  const steps = ctx.quick ? 8 : 24;
  const t = {
    prefillOurs: [] as number[],
    prefillOursPlain: [] as number[],
    prefillTorch: [] as number[],
    prefillTorchPlain: [] as number[],
    decodeOurs: [] as number[],
    decodeOursPlain: [] as number[],
    decodeTorch: [] as number[],
    decodeTorchPlain: [] as number[],
  };
  let agree = true;
  // Warm both sides once (JIT, arenas, first-touch of the weights), then interleave the variants rep by rep.
  await prefillOurs(rt, N, true);
  await torch.ask({ op: 'prefill', n: N, hooks: true });
  for (let r = 0; r < reps; r++) {
    ctx.log(`torch rep ${r + 1}/${reps}`);
    t.prefillOursPlain.push(await prefillOurs(rt, N, false));
    t.prefillTorchPlain.push((await torch.ask({ op: 'prefill', n: N, hooks: false })).ms as number);
    t.prefillOurs.push(await prefillOurs(rt, N, true));
    t.prefillTorch.push((await torch.ask({ op: 'prefill', n: N, hooks: true })).ms as number);
    const oursPlain = await decodeOurs(rt, prompt, steps, false);
    const torchPlain = await torch.ask({ op: 'decode', prompt, steps, hooks: false });
    const ours = await decodeOurs(rt, prompt, steps, true);
    const theirs = await torch.ask({ op: 'decode', prompt, steps, hooks: true });
    t.decodeOursPlain.push(oursPlain.msPerToken);
    t.decodeTorchPlain.push(torchPlain.msPerToken as number);
    t.decodeOurs.push(ours.msPerToken);
    t.decodeTorch.push(theirs.msPerToken as number);
    // Same checkpoint, same greedy decoding: the two implementations must pick the same tokens.
    agree &&= JSON.stringify(ours.tokens) === JSON.stringify(theirs.tokens);
    agree &&= JSON.stringify(oursPlain.tokens) === JSON.stringify(torchPlain.tokens);
  }
  torch.close();
  await rt.dispose();
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<keyof typeof t, number>;
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const rows: BenchRow[] = [
    {
      case: `PyTorch ${String(torch.ready.torch)}, ${String(torch.ready.threads)} threads; greedy tokens agree`,
      ms: 0,
      note: agree ? 'yes' : 'NO',
    },
    { case: `ours plain prefill @${N}`, ms: m.prefillOursPlain },
    {
      case: `PyTorch plain prefill @${N}`,
      ms: m.prefillTorchPlain,
      note: `ours ${x(m.prefillTorchPlain, m.prefillOursPlain)} faster`,
    },
    { case: `ours traced prefill, every hook summarised @${N}`, ms: m.prefillOurs },
    {
      case: `PyTorch prefill, forward hooks summarising every hook @${N}`,
      ms: m.prefillTorch,
      note: `ours ${x(m.prefillTorch, m.prefillOurs)} faster`,
    },
    { case: `ours plain decode, per token (prompt ${prompt}, ${steps} steps)`, ms: m.decodeOursPlain },
    {
      case: 'PyTorch KV decode, per token',
      ms: m.decodeTorchPlain,
      note: `ours ${x(m.decodeTorchPlain, m.decodeOursPlain)} faster`,
    },
    {
      case: 'ours streamed token, every hook summarised',
      ms: m.decodeOurs,
      note: `${x(m.decodeOurs, m.decodeOursPlain)} our plain decode`,
    },
    {
      case: 'PyTorch KV decode + every hook + per-hook stats, per token',
      ms: m.decodeTorch,
      note: `ours ${x(m.decodeTorch, m.decodeOurs)} faster (goal >= 3x)`,
    },
  ];
  return {
    rows,
    data: {
      tokensAgree: agree,
      torch: torch.ready,
      prefillTokens: N,
      decode: { prompt, steps },
      medians: m,
      ratios: {
        tracedPrefillOursFaster: m.prefillTorch / m.prefillOurs,
        tracedTokenOursFaster: m.decodeTorch / m.decodeOurs,
        plainTokenOursFaster: m.decodeTorchPlain / m.decodeOursPlain,
      },
      goals: { tracedTokenOursFaster: 3 },
      samples: t,
    },
  };
}

export const section: BenchSection = { name: 'torch', run };
