// Bench section "export": a full-hook safetensors export of a random GPT-2-small (124M) at 128 tokens through a real
// server process (node + tsx, one model worker), with the server's RSS before and its peak (VmHWM) after; then the
// same request saved (POST /traces: JSON reply + tensor file, fsync) and its tensors read back.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.js';
import { type BenchContext, type BenchRow, type BenchSection, median, randomGpt2Small } from './section.js';

const PORT = 18_590;
const BASE = `http://127.0.0.1:${PORT}`;
const ids = (n: number) => Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 40000));

/** VmRSS and VmHWM (peak) of a process, in MB, from /proc. */
function memMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

async function waitReady(child: ChildProcess): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < 120_000) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    try {
      if ((await fetch(`${BASE}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the server did not become ready in 120 s');
}

/** POST a JSON body, read the reply to the end; wall ms and bytes. */
async function post(url: string, body: unknown, accept = 'application/json') {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify(body),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`${url}: ${res.status} ${buf.toString('utf8').slice(0, 300)}`);
  return { ms: performance.now() - t0, bytes: buf.length, body: buf };
}

async function run(ctx: BenchContext) {
  const checkpoint = await randomGpt2Small(ctx);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-bench-export-'));
  const models = path.join(tmp, 'models');
  await mkdir(models);
  await symlink(checkpoint, path.join(models, 'gpt2-random'), 'dir');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'server.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      MODELS_DIR: models,
      DEFAULT_MODEL: 'gpt2-random',
      MODEL_LOADING: 'eager',
      DATA_DIR: path.join(tmp, 'data'),
      LOG_LEVEL: 'warn',
      SERVE_WEB: 'false',
      ...(ctx.threads ? { ORT_THREADS: String(ctx.threads) } : {}),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const rows: BenchRow[] = [];
  const data: Record<string, unknown> = {};
  try {
    await waitReady(child);
    const pid = child.pid as number;
    const T = ctx.quick ? 32 : 128;
    const request = { token_ids: ids(T), hooks: ['*'] };
    // warm: the first forward pass builds the sessions
    await post(`${BASE}/trace`, { token_ids: ids(8), hooks: [] });
    const idle = memMb(pid);
    const reps = ctx.quick ? 1 : 3;
    const times: number[] = [];
    let bytes = 0;
    for (let r = 0; r < reps; r++) {
      const res = await post(`${BASE}/trace`, { ...request, format: 'safetensors' }, 'application/vnd.safetensors');
      times.push(res.ms);
      bytes = res.bytes;
    }
    const afterExport = memMb(pid);
    const exportMs = median(times);
    rows.push({
      case: `full-hook safetensors export @${T} tokens`,
      ms: exportMs,
      note: `${(bytes / 1e6).toFixed(1)} MB file, ${((bytes / 1e6 / exportMs) * 1000).toFixed(0)} MB/s`,
    });
    rows.push({
      case: 'server RSS idle (model loaded) / peak after the exports (MB)',
      ms: afterExport.peak,
      note: `${idle.rss} MB idle, peak ${afterExport.peak} MB (+${afterExport.peak - idle.peak} MB over the idle peak)`,
    });
    data.export = { tokens: T, bytes, ms: times, rssIdleMb: idle.rss, peakIdleMb: idle.peak, peakMb: afterExport.peak };

    const saved = await post(`${BASE}/traces`, request);
    const id = (JSON.parse(saved.body.toString('utf8')) as { id: string }).id;
    const t0 = performance.now();
    const file = await fetch(`${BASE}/traces/${id}/tensors`).then((r) => r.arrayBuffer());
    const readMs = performance.now() - t0;
    const afterSave = memMb(pid);
    rows.push({
      case: `save the same request (POST /traces: JSON trace + export + fsync) @${T}`,
      ms: saved.ms,
      note: `${(saved.ms / exportMs).toFixed(2)}x the export`,
    });
    rows.push({
      case: 'read the saved tensors back (GET /traces/:id/tensors)',
      ms: readMs,
      note: `${(file.byteLength / 1e6).toFixed(1)} MB; server peak now ${afterSave.peak} MB`,
    });
    data.save = { ms: saved.ms, readMs, bytes: file.byteLength, peakMb: afterSave.peak };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(tmp, { recursive: true, force: true });
  }
  return { rows, data };
}

export const section: BenchSection = { name: 'export', run };
