// Admission control for /trace: a bounded queue per model (503 model_busy) and a bounded share per client
// (429 too_many_client_requests), both with Retry-After, while /healthz stays prompt and admitted work completes.
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Admission } from '../../src/security/admission.js';
import { ProblemSchema } from '../../src/schemas/problem.js';
import { testApp } from '../helpers/app.js';
import { tinyApp } from '../trace/models-dir.js';

describe('Admission', () => {
  it('admits parallel + queue requests per model, then refuses with 503 until one is released', () => {
    const a = new Admission({ parallel: 2, queue: 1, perClient: 100 });
    const held = [1, 2, 3].map((i) => a.enter('m', `c${i}`));
    expect(held.every((r) => typeof r === 'function')).toBe(true);
    const refused = a.enter('m', 'c4');
    expect(typeof refused).toBe('object');
    if (typeof refused === 'function') throw new Error('admitted');
    expect(refused.error.statusCode).toBe(503);
    expect(refused.error.code).toBe('model_busy');
    expect(refused.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(typeof a.enter('other-model', 'c4')).toBe('function'); // the bound is per model
    (held[0] as () => void)();
    (held[0] as () => void)(); // releasing twice frees one place only
    expect(typeof a.enter('m', 'c5')).toBe('function');
    expect(typeof a.enter('m', 'c6')).toBe('object');
  });

  it('refuses a client over its share with 429 while others still get in', () => {
    const a = new Admission({ parallel: 1, queue: 100, perClient: 2 });
    expect(typeof a.enter('m', 'x')).toBe('function');
    expect(typeof a.enter('n', 'x')).toBe('function'); // the share counts across models
    const refused = a.enter('m', 'x');
    if (typeof refused === 'function') throw new Error('admitted');
    expect(refused.error.statusCode).toBe(429);
    expect(refused.error.code).toBe('too_many_client_requests');
    expect(typeof a.enter('m', 'y')).toBe('function');
    expect(a.stats()).toEqual({ models: { m: 2, n: 1 }, clients: { x: 2, y: 1 } });
  });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

function send(port: number, method: string, path: string, body?: unknown, localAddress?: string): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        localAddress,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += String(d)));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ms: performance.now() - t0 }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

interface BurstAnswer {
  status: number;
  type: string;
  retryAfter: string | null;
  code: string | null;
}

/** `n` simultaneous POST /trace from a child process; each answer's status, content type, Retry-After and code. */
function burstFromChild(port: number, n: number, body: unknown): Promise<BurstAnswer[]> {
  const script = `
    const send = () => fetch('http://127.0.0.1:${port}/trace', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(JSON.stringify(body))},
    }).then(async (r) => {
      const text = await r.text();
      let code = null;
      try { code = JSON.parse(text).code ?? null; } catch {}
      return { status: r.status, type: r.headers.get('content-type') ?? '', retryAfter: r.headers.get('retry-after'), code };
    }, (e) => ({ status: -1, type: String(e), retryAfter: null, code: null }));
    const answers = await Promise.all(Array.from({ length: ${n} }, send));
    process.stdout.write(JSON.stringify(answers));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { maxBuffer: 16 << 20 }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout) as BurstAnswer[]),
    );
  });
}

// Work for the model's worker (a greedy continuation: one forward pass per token), little for the main thread.
const HEAVY = { prompt: 'The capital of France is', max_new_tokens: 12 };

describe('POST /trace under a burst', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  let port: number;
  beforeAll(async () => {
    app = await testApp({
      DEFAULT_MODEL: 'gpt2-mini',
      MODEL_QUEUE_MAX: 3,
      MODEL_REQUESTS_PER_CLIENT: 1000,
      RATE_LIMIT_MAX: 0,
    });
    close = () => app.close();
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
    expect((await send(port, 'POST', '/trace', HEAVY)).status).toBe(200); // load the model first
  });
  afterAll(async () => close());

  it('refuses what exceeds the queue with 503 model_busy and Retry-After; everything admitted completes', async () => {
    // The burst comes from another process, as real clients do: an in-process client would share the event loop.
    const burst = burstFromChild(port, 120, HEAVY);
    await new Promise((r) => setTimeout(r, 300));
    const health = await send(port, 'GET', '/healthz');
    const answers = await burst;
    const byStatus = new Map<number, number>();
    for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    expect([...byStatus.keys()].sort()).toEqual([200, 503]); // nothing else: no 500, no lost connection
    expect(byStatus.get(200)).toBeGreaterThanOrEqual(4); // at least the running one and the 3 queued
    expect(byStatus.get(503)).toBeGreaterThan(0);
    const busy = answers.find((a) => a.status === 503)!;
    expect(busy.type).toContain('application/problem+json');
    expect(Number(busy.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(busy.code).toBe('model_busy');
    expect(health.status).toBe(200);
    expect(health.ms).toBeLessThan(1000);
    expect(app.admission.stats()).toEqual({ models: {}, clients: {} }); // every place was given back
    expect((await send(port, 'POST', '/trace', HEAVY)).status).toBe(200); // and the server keeps serving
  });

  it('limits one client to MODEL_REQUESTS_PER_CLIENT with 429 while another address still gets in', async () => {
    const { app: one, close: closeOne } = await tinyApp({ MODEL_REQUESTS_PER_CLIENT: 2, RATE_LIMIT_MAX: 0 });
    try {
      await one.listen({ port: 0, host: '127.0.0.1' });
      const p = (one.server.address() as AddressInfo).port;
      expect((await send(p, 'POST', '/trace', HEAVY)).status).toBe(200);
      const mine = await Promise.all(Array.from({ length: 8 }, () => send(p, 'POST', '/trace', HEAVY)));
      const other = await send(p, 'POST', '/trace', HEAVY, '127.0.0.2');
      const limited = mine.filter((a) => a.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(mine.filter((a) => a.status !== 429).every((a) => a.status === 200)).toBe(true);
      expect(ProblemSchema.parse(JSON.parse(limited[0]!.body)).code).toBe('too_many_client_requests');
      expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(other.status).toBe(200);
    } finally {
      await closeOne();
    }
  });
});
