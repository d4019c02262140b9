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
};
await mkdir(path.join(here, 'results'), { recursive: true });
const file = path.join(here, 'results', `bench-${out.date.replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`\npeak RSS ${out.peakRssMb} MB; wrote ${path.relative(process.cwd(), file)}\n`);
