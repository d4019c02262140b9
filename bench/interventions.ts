// Bench section "interventions": what edits cost on a random GPT-2-small (124M). Ratios from one run, interleaved.
//  - free when unused: a plain forward before any intervened request vs after (the edit session loaded), and RSS
//  - intervened traced forward (every hook fetched) vs the plain traced one at 16 tokens, and with compare
//    (intervened + clean run), and an intervened KV-cache decode step (a stream token) vs a plain one
import { runPatchSources } from '../src/interventions/patch.js';
import { resolveInterventions } from '../src/interventions/resolve.js';
import { allHookNames } from '../src/hooks/catalogue.js';
import { loadModelRuntime } from '../src/runtime/load.js';
import { InterventionsSchema } from '../src/schemas/interventions.js';
import { median, timed, type BenchContext, type BenchRow, type BenchSection, randomGpt2Small } from './section.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 40000));
const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);

async function run(ctx: BenchContext) {
  const dir = await randomGpt2Small(ctx);
  const rt = await loadModelRuntime(dir, {
    name: 'gpt2-random',
    threads: ctx.threads || undefined,
    spinning: ctx.spinning,
  });
  const rows: BenchRow[] = [];
  const data: Record<string, unknown> = {
    targets: { plainAfterOverBefore: 1.03, intervenedTracedAt16: 1.5, withCompareAt16: 2.5, streamToken: 1.3 },
  };
  const hooks = allHookNames(rt.dims.nLayer).filter((h) => h !== 'logits');
  const reps = ctx.quick ? 3 : 9;
  const resolve = async (n: number) =>
    runPatchSources(
      rt,
      resolveInterventions(
        InterventionsSchema.parse([
          { hook: 'blocks.3.attn.hook_z', heads: [0, 1, 2, 3], op: 'zero' },
          {
            hook: 'blocks.6.hook_resid_pre',
            positions: 'last',
            op: 'add',
            vector: new Array(768).fill(0.01),
            scale: 4,
          },
        ]),
        { dims: rt.dims, promptLength: n, max: 64 },
      ),
    );

  // ---- free when unused: plain forward before the first intervened request, then after; RSS around it
  const plainBefore: Record<number, number> = {};
  for (const T of [16, 128]) {
    const x = ids(T);
    await rt.forward({ tokenIds: x, hooks: [] });
    const t: number[] = [];
    for (let r = 0; r < reps; r++) t.push(await timed(() => rt.forward({ tokenIds: x, hooks: [] })));
    plainBefore[T] = median(t);
  }
  const rssBefore = rssMb();
  const edits16 = await resolve(16);
  const tFirst = await timed(() => rt.forward({ tokenIds: ids(16), hooks: [], interventions: edits16 }));
  const rssAfter = rssMb();
  rows.push({ case: 'first intervened request (builds + opens the edit session)', ms: tFirst });
  rows.push({
    case: 'RSS before / after the first intervened request (MB)',
    ms: rssAfter,
    note: `${rssBefore} -> ${rssAfter} MB`,
  });
  data.rssMb = { before: rssBefore, after: rssAfter };
  for (const T of [16, 128]) {
    const x = ids(T);
    const t: number[] = [];
    for (let r = 0; r < reps; r++) t.push(await timed(() => rt.forward({ tokenIds: x, hooks: [] })));
    const after = median(t);
    rows.push({ case: `plain forward @${T} before any intervention`, ms: plainBefore[T] });
    rows.push({
      case: `plain forward @${T} with the edit session held`,
      ms: after,
      note: `${(after / plainBefore[T]).toFixed(3)}x before`,
    });
    data[`plainAfterOverBefore@${T}`] = after / plainBefore[T];
  }

  // ---- intervened traced @16 (every hook fetched), with compare, interleaved with the plain traced one
  const x = ids(16);
  const times = { traced: [] as number[], intervened: [] as number[], compare: [] as number[] };
  for (let r = 0; r < reps; r++) {
    times.traced.push(await timed(() => rt.forward({ tokenIds: x, hooks })));
    times.intervened.push(await timed(() => rt.forward({ tokenIds: x, hooks, interventions: edits16 })));
    times.compare.push(
      await timed(async () => {
        await rt.forward({ tokenIds: x, hooks, interventions: edits16 });
        await rt.forward({ tokenIds: x, hooks });
      }),
    );
  }
  const [traced, intervened, compare] = [times.traced, times.intervened, times.compare].map(median);
  rows.push({ case: 'traced forward @16 (every hook)', ms: traced });
  rows.push({
    case: 'intervened traced forward @16',
    ms: intervened,
    note: `${(intervened / traced).toFixed(2)}x traced`,
  });
  rows.push({
    case: 'intervened + clean (compare) @16',
    ms: compare,
    note: `${(compare / traced).toFixed(2)}x traced`,
  });
  data['intervenedOverTraced@16'] = intervened / traced;
  data['compareOverTraced@16'] = compare / traced;

  // ---- a stream token: one KV-cache decode step after a 16-token prompt, plain vs intervened (positions "last")
  const prefix = await rt.forward({ tokenIds: x, hooks: [] });
  const prefixEdited = await rt.forward({ tokenIds: x, hooks: [], interventions: edits16 });
  const step = { plain: [] as number[], edited: [] as number[], compare: [] as number[] };
  const plainStep = () => rt.forward({ tokenIds: [42], past: prefix.present, hooks: [] });
  const editedStep = () =>
    rt.forward({ tokenIds: [42], past: prefixEdited.present, hooks: [], interventions: edits16 });
  for (let r = 0; r < reps * 2; r++) {
    step.plain.push(await timed(plainStep));
    step.edited.push(await timed(editedStep));
    // generate compare: true: the intervened step and the clean lane's step, one after the other
    step.compare.push(
      await timed(async () => {
        await editedStep();
        await plainStep();
      }),
    );
  }
  const [sp, se, sc] = [step.plain, step.edited, step.compare].map(median);
  rows.push({ case: 'decode step (stream token) @16', ms: sp });
  rows.push({ case: 'intervened decode step @16', ms: se, note: `${(se / sp).toFixed(2)}x plain` });
  rows.push({ case: 'intervened + clean lane (stream compare) @16', ms: sc, note: `${(sc / sp).toFixed(2)}x plain` });
  data['streamTokenRatio@16'] = se / sp;
  data['streamCompareRatio@16'] = sc / sp;
  await rt.dispose();
  return { rows, data };
}

export const section: BenchSection = { name: 'interventions', run };
