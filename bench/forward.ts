// Bench section "forward": plain vs traced (+summaries) forward and KV-cached decode on a random GPT-2-small (124M).
import { access } from 'node:fs/promises';
import path from 'node:path';
import { allHookNames } from '../src/hooks/catalogue.js';
import { loadGpt2Runtime } from '../src/runtime/load.js';
import type { Activation, Gpt2Runtime } from '../src/runtime/types.js';
import { histogram } from '../src/stats/histogram.js';
import { tensorStats } from '../src/stats/tensor-stats.js';
import { makeRandomGpt2, RANDOM_PRESETS } from '../tools/checkpoint/make-random.js';
import { median, medianMs, timed, type BenchContext, type BenchRow, type BenchSection } from './section.js';

/** Token ids 0..n-1 shifted into ordinary vocabulary (values do not matter for speed). */
const ids = (n: number) => Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 40000));

/** What /trace does per hook with detail=summary: one stats pass + a 64-bin histogram. */
function summarize(acts: Iterable<Activation>): number {
  let n = 0;
  for (const a of acts) {
    const s = tensorStats(a.data);
    histogram(a.data, s.min, s.max, 64);
    n += a.data.length;
  }
  return n;
}

async function checkpoint(ctx: BenchContext): Promise<string> {
  const dir = path.join(ctx.cacheDir, 'gpt2-random');
  try {
    await access(path.join(dir, 'model.safetensors'));
  } catch {
    ctx.log('writing a random GPT-2-small checkpoint (124M, fp32) to bench/.cache/gpt2-random ...');
    await makeRandomGpt2(dir, { ...RANDOM_PRESETS.gpt2, dtype: 'F32', seed: 1 });
  }
  return dir;
}

async function run(ctx: BenchContext) {
  const dir = await checkpoint(ctx);
  const t0 = performance.now();
  const rt: Gpt2Runtime = await loadGpt2Runtime(dir, { name: 'gpt2-random', threads: ctx.threads || undefined, spinning: ctx.spinning });
  const loadMs = performance.now() - t0;
  const rows: BenchRow[] = [{ case: 'load (inspect + build graphs + 2 sessions)', ms: loadMs }];
  const hooks = allHookNames(rt.dims.nLayer).filter((h) => h !== 'logits');
  const data: Record<string, unknown> = { targets: { tracedOverPlainAt128: 1.3, decodeSpeedupAt512: 5 } };
  const lengths = ctx.quick ? [16, 128] : [16, 128, 1024];
  const reps = (T: number) => (ctx.quick ? 2 : T >= 1024 ? 3 : T >= 128 ? 5 : 10);

  for (const T of lengths) {
    ctx.log(`forward @${T}`);
    const x = ids(T);
    // Interleave the variants rep by rep: the machine is shared, so drift hits all three alike and ratios stay fair.
    const times = { plain: [] as number[], fetched: [] as number[], traced: [] as number[], summaries: [] as number[] };
    let values = 0;
    await rt.forward({ tokenIds: x, hooks }); // warm-up
    for (let r = 0; r < reps(T); r++) {
      times.plain.push(await timed(() => rt.forward({ tokenIds: x, hooks: [] })));
      times.fetched.push(await timed(() => rt.forward({ tokenIds: x, hooks })));
      let sumMs = 0;
      times.traced.push(
        await timed(async () => {
          const res = await rt.forward({ tokenIds: x, hooks });
          const t0 = performance.now();
          values = summarize(res.activations.values()) + summarize([res.logits]);
          sumMs = performance.now() - t0;
        }),
      );
      times.summaries.push(sumMs);
    }
    const [plain, fetched, traced, summaries] = [times.plain, times.fetched, times.traced, times.summaries].map(median);
    rows.push({ case: `plain (logits only) @${T}`, ms: plain });
    rows.push({ case: `all hooks fetched @${T}`, ms: fetched, note: `${(fetched / plain).toFixed(2)}x plain` });
    rows.push({ case: `  of which summaries (JS, src/stats) @${T}`, ms: summaries, note: `${(values / 1e6).toFixed(1)}M values` });
    rows.push({ case: `traced + summaries @${T}`, ms: traced, note: `${(traced / plain).toFixed(2)}x plain` });
    data[`ratio@${T}`] = traced / plain;
    data[`fetchRatio@${T}`] = fetched / plain;
  }

  const P = ctx.quick ? 128 : 512;
  ctx.log(`decode @${P}`);
  const prompt = ids(P);
  const prefix = await rt.forward({ tokenIds: prompt.slice(0, P - 1), hooks: [] });
  const step = await medianMs(() => rt.forward({ tokenIds: [prompt[P - 1]], past: prefix.present, hooks: [] }), ctx.quick ? 3 : 10);
  const stepTraced = await medianMs(async () => {
    const r = await rt.forward({ tokenIds: [prompt[P - 1]], past: prefix.present, hooks });
    summarize(r.activations.values());
  }, ctx.quick ? 3 : 10);
  const recompute = await medianMs(() => rt.forward({ tokenIds: prompt, hooks: [] }), ctx.quick ? 2 : 3);
  rows.push({ case: `decode step with KV cache @${P}`, ms: step, note: `${(recompute / step).toFixed(1)}x faster than recompute` });
  rows.push({ case: `decode step traced + summaries @${P}`, ms: stepTraced });
  rows.push({ case: `full recompute @${P}`, ms: recompute });
  data[`decodeSpeedup@${P}`] = recompute / step;

  ctx.log('logit lens');
  const lensRows = new Float32Array(rt.dims.nLayer * 16 * rt.dims.dModel).map((_, i) => Math.sin(i));
  const lens = await medianMs(() => rt.lens({ rows: lensRows, nRows: rt.dims.nLayer * 16, topK: 10, trackIds: [42] }), 5);
  rows.push({ case: `logit lens ${rt.dims.nLayer}x16 rows, top-10`, ms: lens });
  await rt.dispose();
  data.peakRssMbAfterSection = Math.round(process.resourceUsage().maxRSS / 1024);
  return { rows, data };
}

export const section: BenchSection = { name: 'forward', run };
