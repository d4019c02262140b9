// Bench section "sweep": a whole grid vs one plain forward on a random GPT-2-small (124M) at 16 tokens, in one run.
//  - a 144-cell head-ablation sweep ([12 layers, 12 heads], zero) and a [layer, position] hook_resid_pre patch sweep
//    (192 cells), each as a ratio to the median plain forward @16 measured interleaved with it (target <= 15x);
//  - the patch sweep twice: prompts differing at position 0 (every cell runs all its positions) and at position 8
//    (the positions before it are unchanged, so their cells are the corrupted run's and the rest start at 8);
//  - the breakdown (base runs, batched cells, unembedding; piece calls and rows) and RSS around the first sweep.
import { loadModelRuntime } from '../src/runtime/load.js';
import type { SweepJob, SweepOutcome } from '../src/sweep/types.js';
import { median, timed, type BenchContext, type BenchRow, type BenchSection, randomGpt2Small } from './section.js';

const ids = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => 1000 + ((i * 7919 + salt) % 40000));
const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);

async function run(ctx: BenchContext) {
  const dir = await randomGpt2Small(ctx);
  const rt = await loadModelRuntime(dir, {
    name: 'gpt2-random',
    threads: ctx.threads || undefined,
    spinning: ctx.spinning,
  });
  if (!rt.sweep) throw new Error('runtime without sweeps');
  const sweep = rt.sweep.bind(rt);
  const T = 16;
  const layers = [...Array(rt.dims.nLayer).keys()];
  const clean = ids(T);
  const corruptAt = (p: number) => clean.map((t, i) => (i === p ? 20000 + t : t));
  const metric = { kind: 'logit_diff' as const, tokens: ['a', 'b'] as [string, string] };
  const metricIds = [clean[3], clean[5]];
  const heads: SweepJob = {
    kind: 'ablate_heads',
    op: 'zero',
    site: 'attn.hook_z',
    over: 'head',
    layers,
    runIds: clean,
    sourceIds: null,
    metric,
    metricIds,
  };
  const patch = (p: number): SweepJob => ({
    ...heads,
    kind: 'patch',
    site: 'hook_resid_pre',
    over: 'position',
    runIds: corruptAt(p),
    sourceIds: clean,
  });
  const jobs: [string, SweepJob][] = [
    [`head ablation sweep, 144 cells @${T}`, heads],
    [`resid_pre patch sweep [layer, position], ${layers.length * T} cells @${T}, prompts differ at 0`, patch(0)],
    [`resid_pre patch sweep [layer, position], ${layers.length * T} cells @${T}, prompts differ at 8`, patch(8)],
  ];
  const reps = ctx.quick ? 2 : 5;
  const plain = () => rt.forward({ tokenIds: clean, hooks: [] });
  await plain();
  const rssBefore = rssMb();
  const tFirst = await timed(() => sweep(heads));
  const rssAfter = rssMb();
  for (const [, j] of jobs) await sweep(j); // warm
  const plainMs: number[] = [];
  const sweepMs = jobs.map(() => [] as number[]);
  const last: SweepOutcome[] = [];
  for (let r = 0; r < reps; r++) {
    for (const [k, [, j]] of jobs.entries()) {
      plainMs.push(await timed(plain));
      let out: SweepOutcome | undefined;
      sweepMs[k].push(await timed(async () => (out = await sweep(j))));
      last[k] = out as SweepOutcome;
    }
  }
  plainMs.push(await timed(plain));
  const plainMed = median(plainMs);
  const rows: BenchRow[] = [{ case: `plain forward @${T} (interleaved with the sweeps)`, ms: plainMed }];
  const data: Record<string, unknown> = {
    target: 15,
    plainMs: plainMed,
    rssMb: { before: rssBefore, afterFirstSweep: rssAfter },
  };
  jobs.forEach(([name], k) => {
    const ms = median(sweepMs[k]);
    const o = last[k];
    const ratio = ms / plainMed;
    rows.push({
      case: name,
      ms,
      note:
        `${ratio.toFixed(2)}x one plain forward (target <= 15x); base ${o.timings.base_ms.toFixed(0)} ms, cells ` +
        `${o.timings.cells_ms.toFixed(0)} ms, unembed ${o.timings.unembed_ms.toFixed(0)} ms; ${o.computed} cells run, ` +
        `${o.calls} piece calls over ${o.rows} rows`,
    });
    data[name] = { ms, ratio, ...o.timings, computed: o.computed, calls: o.calls, rows: o.rows };
  });
  rows.push({ case: 'first sweep (builds + opens the 37 sweep sessions)', ms: tFirst });
  rows.push({ case: 'RSS before / after the first sweep (MB)', ms: rssAfter, note: `${rssBefore} -> ${rssAfter} MB` });
  rows.push({
    case: 'peak RSS of the process (MB)',
    ms: Math.round(process.resourceUsage().maxRSS / 1024),
    note: 'maxRSS: model sessions + sweep sessions + batch buffers',
  });
  await rt.dispose();
  return { rows, data };
}

export const section: BenchSection = { name: 'sweep', run };
