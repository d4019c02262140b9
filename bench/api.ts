// Bench section "api": the service as a user runs it (a server process on loopback, HTTP requests from here), random
// GPT-2 small: POST /trace with every hook vs no hook at 128 token ids (wall time), and the server's peak RSS after
// one /trace of one hook vs one of no hook at 1024 tokens (a fresh server each, VmHWM from /proc).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type BenchContext, type BenchRow, type BenchSection, randomGpt2Small } from './section.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = 'gpt2-random';
const ids = (n: number) => Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 40000));

interface Server {
  url: string;
  child: ChildProcess;
}

/** `tsx src/server.ts` on 127.0.0.1, port chosen by the system (read from its "listening" log line). */
async function startServer(models: string, ctx: BenchContext): Promise<Server> {
  const env = {
    ...process.env,
    MODELS_DIR: models,
    DEFAULT_MODEL: MODEL,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    SERVE_WEB: 'false',
    ...(ctx.threads ? { ORT_THREADS: String(ctx.threads) } : {}),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/server.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += String(d);
      const m = /listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out.slice(-2000)}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return { url, child };
}

async function stopServer(s: Server): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

/** Wall ms of one POST /trace (reply read to the end); throws on a non-200. */
async function trace(url: string, body: Record<string, unknown>): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/trace`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, max_new_tokens: 0, ...body }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/trace ${res.status}: ${text.slice(0, 500)}`);
  return performance.now() - t0;
}

/** Peak resident set of a process (Linux VmHWM), MB. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function run(ctx: BenchContext) {
  const dir = await randomGpt2Small(ctx);
  const models = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-bench-api-'));
  await symlink(dir, path.join(models, MODEL), 'dir');
  const rows: BenchRow[] = [];
  const data: Record<string, unknown> = { goals: { traceAllOverNoneAt128: 1.15, oneHookRssOverPlainAt1024: 1.2 } };
  try {
    ctx.log('api: /trace every hook vs no hook @128');
    const s = await startServer(models, ctx);
    try {
      const x = ids(128);
      const all = { token_ids: x, hooks: ['*'] };
      const none = { token_ids: x, hooks: [] };
      await trace(s.url, none); // loads the model
      await trace(s.url, all);
      const tAll: number[] = [];
      const tNone: number[] = [];
      for (let r = 0; r < (ctx.quick ? 2 : 5); r++) {
        tNone.push(await trace(s.url, none));
        tAll.push(await trace(s.url, all));
      }
      const [a, n] = [median(tAll), median(tNone)];
      rows.push({ case: 'POST /trace hooks [] @128 (wall)', ms: n });
      rows.push({
        case: 'POST /trace hooks ["*"] @128 (wall)',
        ms: a,
        note: `${(a / n).toFixed(2)}x hooks [] (goal <= 1.15x)`,
      });
      data.traceAllOverNoneAt128 = a / n;
    } finally {
      await stopServer(s);
    }
    if (!ctx.quick) {
      const T = 1024;
      const rss: Record<string, number> = {};
      for (const [label, hooks] of [
        ['no hook', []],
        ['one hook (blocks.5.hook_resid_post)', ['blocks.5.hook_resid_post']],
      ] as const) {
        ctx.log(`api: peak RSS, /trace ${label} @${T}`);
        const srv = await startServer(models, ctx);
        try {
          const ms = await trace(srv.url, { token_ids: ids(T), hooks, positions: 'all' });
          rss[label] = await peakRssMb(srv.child.pid!);
          rows.push({
            case: `server peak RSS after one /trace, ${label} @${T}`,
            ms,
            note: `${rss[label]!.toFixed(0)} MB`,
          });
        } finally {
          await stopServer(srv);
        }
      }
      const ratio = rss['one hook (blocks.5.hook_resid_post)']! / rss['no hook']!;
      rows.push({
        case: `  one hook over no hook, peak RSS @${T}`,
        ms: 0,
        note: `${ratio.toFixed(2)}x (goal <= 1.2x)`,
      });
      data.oneHookRssOverPlainAt1024 = ratio;
      data.peakRssMb = rss;
    }
  } finally {
    await rm(models, { recursive: true, force: true });
  }
  return { rows, data };
}

export const section: BenchSection = { name: 'api', run };
