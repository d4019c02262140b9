// Bench section "forward": plain vs traced (+summaries) forward and KV-cached decode on a random GPT-2-small (124M).
import { allHookNames, parseHookName } from '../src/hooks/catalogue.js';
import { loadModelRuntime } from '../src/runtime/load.js';
import type { Activation, ForwardResult, ModelRuntime } from '../src/runtime/types.js';
import { histogramKernelJs, histogramScale } from '../src/stats/histogram.js';
import { summarizeSlices } from '../src/decode/summarize-forward.js';
import { attentionRows } from '../src/decode/attention-rows.js';
import { hookSummaryFrom, sliceHook, summarizeHook } from '../src/decode/summarize-hook.js';
import { STATS_SLOTS, statsKernel } from '../src/stats/tensor-stats.js';
import {
  median,
  medianMs,
  timed,
  type BenchContext,
  type BenchRow,
  type BenchSection,
  randomGpt2Small,
} from './section.js';

/** Token ids 0..n-1 shifted into ordinary vocabulary (values do not matter for speed). */
const ids = (n: number) => Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 40000));

/** Hook families for the summary breakdown (by catalogue site, never by shape). */
const GROUPS: Record<string, string> = {
  logits: 'logits [pos, d_vocab]',
  'attn.hook_attn_scores': 'attn scores + pattern [head, pos, pos]',
  'attn.hook_pattern': 'attn scores + pattern [head, pos, pos]',
  'mlp.hook_pre': 'mlp pre + post [pos, d_mlp]',
  'mlp.hook_post': 'mlp pre + post [pos, d_mlp]',
  'attn.hook_q': 'q k v z [pos, head, d_head]',
  'attn.hook_k': 'q k v z [pos, head, d_head]',
  'attn.hook_v': 'q k v z [pos, head, d_head]',
  'attn.hook_z': 'q k v z [pos, head, d_head]',
};
const OTHER = 'd_model-wide (resid, ln, embed, outs)';

const everyPosition = (T: number) => Array.from({ length: T }, (_, i) => i);

/**
 * The summaries in one thread, hook by hook: summarizeHook (stats pass + 64-bin histogram + the summary object) at
 * every position, for every fetched hook and the logits. `ms` collects milliseconds per hook family.
 */
function summarizeInThread(res: ForwardResult, nLayer: number, ms?: Map<string, number>): number {
  const T = res.logits.dims[0];
  const opts = { positions: everyPosition(T), offset: 0, bins: 64, full: false };
  let n = 0;
  const one = (a: Activation) => {
    const parsed = parseHookName(a.hook, nLayer);
    if (!parsed) throw new Error(`unknown hook ${a.hook}`);
    const t0 = performance.now();
    summarizeHook(a, parsed.site, parsed.layer, opts);
    const group = GROUPS[parsed.site.site] ?? OTHER;
    ms?.set(group, (ms.get(group) ?? 0) + performance.now() - t0);
    n += a.data.length;
  };
  for (const a of res.activations.values()) one(a);
  one(res.logits);
  return n;
}

/**
 * The hook summaries as summarizeForward computes them for /trace and the stream (detail=summary, every position):
 * slices, then stats + histograms on both cores (summarizeSlices), then the summary objects.
 * Attention rows, top-k and the logit lens are left out: at 1024 tokens the rows alone are 75M numbers, which
 * /trace refuses (413 too_many_values); they are timed separately at 128 tokens.
 */
async function summarizeAsTrace(res: ForwardResult, nLayer: number, offset = 0): Promise<void> {
  const T = res.logits.dims[0];
  const opts = { positions: everyPosition(T).map((p) => p + offset), offset, bins: 64, full: false };
  const acts = [...res.activations.values(), res.logits];
  const selected = acts.map((act) => {
    const parsed = parseHookName(act.hook, nLayer)!;
    return { act, ...parsed, slice: sliceHook(act, parsed.site, opts) };
  });
  const results = await summarizeSlices(selected, opts.bins);
  selected.forEach(({ act, site, layer, slice }, j) =>
    hookSummaryFrom(act, site, layer, opts, slice, results[j].stats, results[j].histogram),
  );
}

/** The summaries with the histogram in JavaScript (the path before WebAssembly), for the in-run comparison. */
function summarizeJsKernels(res: ForwardResult): void {
  const slots = new Float64Array(STATS_SLOTS);
  for (const a of [...res.activations.values(), res.logits]) {
    statsKernel(a.data, slots);
    const [min, max] = [slots[8], slots[9]];
    if (max > min) histogramKernelJs(a.data, min, histogramScale(min, max, 64), new Int32Array(65));
  }
}

/** The attention rows /trace returns for every attn.hook_pattern at every position. */
function attentionAsTrace(res: ForwardResult, nLayer: number): void {
  const positions = everyPosition(res.logits.dims[0]);
  for (let layer = 0; layer < nLayer; layer++)
    attentionRows(res.activations.get(`blocks.${layer}.attn.hook_pattern`)!, layer, positions, 0);
}

async function run(ctx: BenchContext) {
  const dir = await randomGpt2Small(ctx);
  const t0 = performance.now();
  const rt: ModelRuntime = await loadModelRuntime(dir, {
    name: 'gpt2-random',
    threads: ctx.threads || undefined,
    spinning: ctx.spinning,
  });
  const loadMs = performance.now() - t0;
  const rows: BenchRow[] = [{ case: 'load (inspect + build graphs + 2 sessions)', ms: loadMs }];
  const hooks = allHookNames(rt.dims.nLayer).filter((h) => h !== 'logits');
  const data: Record<string, unknown> = {
    targets: { tracedOverPlainAt128: 1.15, tracedOverPlainAt1024: 1.3, decodeSpeedupAt512: 5 },
  };
  const lengths = ctx.quick ? [16, 128] : [16, 128, 1024];
  const reps = (T: number) => (ctx.quick ? 2 : T >= 1024 ? 3 : T >= 128 ? 5 : 10);

  for (const T of lengths) {
    ctx.log(`forward @${T}`);
    const x = ids(T);
    // Interleave the variants rep by rep: the machine is shared, so drift hits all of them alike and ratios stay fair.
    const times = {
      plain: [] as number[],
      fetched: [] as number[],
      traced: [] as number[],
      summaries: [] as number[],
      inThread: [] as number[],
      rows: [] as number[],
      jsKernels: [] as number[],
    };
    let values = 0;
    const groupMs = new Map<string, number>();
    await rt.forward({ tokenIds: x, hooks }); // warm-up
    for (let r = 0; r < reps(T); r++) {
      times.plain.push(await timed(() => rt.forward({ tokenIds: x, hooks: [] })));
      times.fetched.push(await timed(() => rt.forward({ tokenIds: x, hooks })));
      let res: ForwardResult | undefined;
      let sumMs = 0;
      times.traced.push(
        await timed(async () => {
          res = await rt.forward({ tokenIds: x, hooks });
          const t0 = performance.now();
          await summarizeAsTrace(res, rt.dims.nLayer);
          sumMs = performance.now() - t0;
        }),
      );
      times.summaries.push(sumMs);
      // The same summaries hook by hook, for the per-family breakdown (not part of the traced time).
      times.inThread.push(
        await timed(async () => (values = summarizeInThread(res!, rt.dims.nLayer, r === 0 ? undefined : groupMs))),
      );
      if (T === 128) times.rows.push(await timed(async () => attentionAsTrace(res!, rt.dims.nLayer)));
      times.jsKernels.push(await timed(async () => summarizeJsKernels(res!)));
    }
    const [plain, fetched, traced, summaries, inThread] = [
      times.plain,
      times.fetched,
      times.traced,
      times.summaries,
      times.inThread,
    ].map(median);
    rows.push({ case: `plain (logits only) @${T}`, ms: plain });
    rows.push({ case: `all hooks fetched @${T}`, ms: fetched, note: `${(fetched / plain).toFixed(2)}x plain` });
    rows.push({ case: `  of which summaries (summarizeForward's path, both cores) @${T}`, ms: summaries });
    rows.push({
      case: `  summaries hook by hook (summarizeHook) @${T}`,
      ms: inThread,
      note: `${(values / 1e6).toFixed(1)}M values, ${((inThread * 1e6) / values).toFixed(1)} ns/value`,
    });
    if (T === 128) {
      // Mean per rep over the timed reps after the first (the first is still warming the JIT).
      const timedReps = Math.max(1, reps(T) - 1);
      for (const [group, total] of groupMs) rows.push({ case: `    ${group} @${T}`, ms: total / timedReps });
    }
    const js = median(times.jsKernels);
    rows.push({
      case: `  the same with the histogram pass in JavaScript (histogramKernelJs) @${T}`,
      ms: js,
      note: `WebAssembly summaries ${(js / summaries).toFixed(2)}x faster`,
    });
    data[`wasmKernelSpeedup@${T}`] = js / summaries;
    if (T === 128)
      rows.push({ case: `  attention rows of every pattern hook (not in traced) @${T}`, ms: median(times.rows) });
    rows.push({ case: `traced + summaries @${T}`, ms: traced, note: `${(traced / plain).toFixed(2)}x plain` });
    data[`ratio@${T}`] = traced / plain;
    data[`fetchRatio@${T}`] = fetched / plain;
  }

  const P = ctx.quick ? 128 : 512;
  ctx.log(`decode @${P}`);
  const prompt = ids(P);
  const prefix = await rt.forward({ tokenIds: prompt.slice(0, P - 1), hooks: [] });
  const step = await medianMs(
    () => rt.forward({ tokenIds: [prompt[P - 1]], past: prefix.present, hooks: [] }),
    ctx.quick ? 3 : 10,
  );
  const stepTraced = await medianMs(
    async () => {
      const r = await rt.forward({ tokenIds: [prompt[P - 1]], past: prefix.present, hooks });
      await summarizeAsTrace(r, rt.dims.nLayer, P - 1);
    },
    ctx.quick ? 3 : 10,
  );
  const recompute = await medianMs(() => rt.forward({ tokenIds: prompt, hooks: [] }), ctx.quick ? 2 : 3);
  rows.push({
    case: `decode step with KV cache @${P}`,
    ms: step,
    note: `${(recompute / step).toFixed(1)}x faster than recompute`,
  });
  rows.push({ case: `decode step traced + summaries @${P}`, ms: stepTraced });
  rows.push({ case: `full recompute @${P}`, ms: recompute });
  data[`decodeSpeedup@${P}`] = recompute / step;

  ctx.log('logit lens');
  const lensRows = new Float32Array(rt.dims.nLayer * 16 * rt.dims.dModel).map((_, i) => Math.sin(i));
  const lens = await medianMs(
    () => rt.lens({ rows: lensRows, nRows: rt.dims.nLayer * 16, topK: 10, trackIds: [42] }),
    5,
  );
  rows.push({ case: `logit lens ${rt.dims.nLayer}x16 rows, top-10`, ms: lens });
  await rt.dispose();
  data.peakRssMbAfterSection = Math.round(process.resourceUsage().maxRSS / 1024);
  return { rows, data };
}

export const section: BenchSection = { name: 'forward', run };
