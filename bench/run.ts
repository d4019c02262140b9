// npm run bench: run every section in bench/*.ts (modules exporting `section`), print tables, write JSON to bench/results/.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchContext, BenchSection, BenchSectionResult } from './section.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function sections(only: string | undefined): Promise<BenchSection[]> {
  const files = (await readdir(here)).filter((f) => f.endsWith('.ts') && !['run.ts', 'section.ts'].includes(f)).sort();
  const found: BenchSection[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(here, f)).href)) as { section?: BenchSection };
    if (mod.section && (!only || mod.section.name === only)) found.push(mod.section);
  }
  return found;
}

function table(name: string, r: BenchSectionResult): string {
  const w = Math.max(...r.rows.map((x) => x.case.length), 4);
  const lines = [`\n## ${name}`, `${'case'.padEnd(w)}  ${'ms'.padStart(10)}  note`];
  for (const row of r.rows) lines.push(`${row.case.padEnd(w)}  ${row.ms.toFixed(1).padStart(10)}  ${row.note ?? ''}`);
  return lines.join('\n');
}

const ctx: BenchContext = {
  cacheDir: path.join(here, '.cache'),
  threads: Number(process.env.ORT_THREADS ?? 0),
  spinning: process.env.ORT_SPINNING !== '0',
  quick: process.env.BENCH_QUICK === '1',
  log: (line) => process.stderr.write(`${line}\n`),
};
await mkdir(ctx.cacheDir, { recursive: true });
const results: Record<string, BenchSectionResult> = {};
for (const s of await sections(process.argv[2])) {
  ctx.log(`running ${s.name}...`);
  results[s.name] = await s.run(ctx);
  process.stdout.write(`${table(s.name, results[s.name])}\n`);
}
/** The speed and memory goals, each measured ratio next to its goal (sections not run, or skipped, say so). */
function goals(r: Record<string, BenchSectionResult>): { rows: string[]; data: Record<string, unknown>[] } {
  const get = (section: string, ...keys: string[]): number | undefined => {
    let v: unknown = r[section]?.data;
    for (const k of keys) v = (v as Record<string, unknown> | undefined)?.[k];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const list: { measure: string; value: number | undefined; goal: number; atMost: boolean; from: string }[] = [
    {
      measure: 'traced + summaries vs plain forward @128',
      value: get('forward', 'ratio@128'),
      goal: 1.15,
      atMost: true,
      from: 'forward',
    },
    {
      measure: 'POST /trace hooks ["*"] vs [] @128, wall',
      value: get('api', 'traceAllOverNoneAt128'),
      goal: 1.15,
      atMost: true,
      from: 'api',
    },
    {
      measure: 'traced + summaries vs plain forward @1024',
      value: get('forward', 'ratio@1024'),
      goal: 1.3,
      atMost: true,
      from: 'forward',
    },
    {
      measure: 'stream, every hook, vs plain decode loop',
      value: get('stream', 'streamOverPlain'),
      goal: 1.2,
      atMost: true,
      from: 'stream',
    },
    {
      measure: 'stream, every hook + logit lens, vs plain decode loop',
      value: get('stream', 'streamLensOverPlain'),
      goal: 1.4,
      atMost: true,
      from: 'stream',
    },
    {
      measure: 'streamed token with every hook: PyTorch (KV + hooks + stats) / ours',
      value: get('torch', 'ratios', 'tracedTokenOursFaster'),
      goal: 3,
      atMost: false,
      from: 'torch',
    },
    {
      measure: 'peak RSS, /trace of one hook vs no hook @1024',
      value: get('api', 'oneHookRssOverPlainAt1024'),
      goal: 1.2,
      atMost: true,
      from: 'api',
    },
  ];
  const w = Math.max(...list.map((g) => g.measure.length));
  const rows = ['\n## goals', `${'measure'.padEnd(w)}  ${'measured'.padStart(9)}  goal      verdict`];
  const data = list.map((g) => {
    const met = g.value === undefined ? null : g.atMost ? g.value <= g.goal : g.value >= g.goal;
    const shown = g.value === undefined ? '—' : `${g.value.toFixed(2)}x`;
    const goal = `${g.atMost ? '<=' : '>='} ${g.goal}x`;
    const verdict = met === null ? `not measured (section ${g.from} not run or skipped)` : met ? 'met' : 'missed';
    rows.push(`${g.measure.padEnd(w)}  ${shown.padStart(9)}  ${goal.padEnd(8)}  ${verdict}`);
    return { measure: g.measure, value: g.value ?? null, goal: g.goal, atMost: g.atMost, met };
  });
  return { rows, data };
}

const goalTable = goals(results);
process.stdout.write(`${goalTable.rows.join('\n')}\n`);
const out = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
  threads: ctx.threads,
  spinning: ctx.spinning,
  loadAverage: (await import('node:os')).loadavg(),
  quick: ctx.quick,
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  sections: results,
  goals: goalTable.data,
};
await mkdir(path.join(here, 'results'), { recursive: true });
const file = path.join(here, 'results', `bench-${out.date.replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`\npeak RSS ${out.peakRssMb} MB; wrote ${path.relative(process.cwd(), file)}\n`);
