// Protections in front of every route: API keys (REST and the WebSocket upgrade), the client identity the
// per-client limits count, security headers with a CSP, CORS, the per-client rate limit, overload shedding.
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { main as watchMain } from '../../src/cli/watch.js';
import { EnvSchema, loadConfig } from '../../src/config.js';
import { ProblemSchema } from '../../src/schemas/problem.js';
import { testApp } from '../helpers/app.js';
import { StreamClient, startStreamServer, type StreamServer } from '../stream/client.js';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-fedcba9876543210';
const KEY_C = 'key-c-00112233445566778899';
const KEY_D = 'key-d-99887766554433221100';

/** The HTTP status of an upgrade the server refuses, with the problem code. */
function refusedUpgrade(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; code: string }>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: ProblemSchema.parse(JSON.parse(text)).code }));
    });
    ws.once('error', () => undefined);
  });
}

describe('API keys', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ API_KEYS: `${KEY_A}, ${KEY_B}` });
  });
  afterAll(async () => app.close());

  it('answers 401 problem+json without a key or with a wrong one', async () => {
    const none = await app.inject({ url: '/models' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect(ProblemSchema.parse(none.json()).code).toBe('api_key_required');
    const wrong = await app.inject({ url: '/models', headers: { authorization: `Bearer ${KEY_A}x` } });
    expect(wrong.statusCode).toBe(401);
    expect(ProblemSchema.parse(wrong.json()).code).toBe('invalid_api_key');
    const post = await app.inject({ method: 'POST', url: '/tokenize', payload: { text: 'hi' } });
    expect(post.statusCode).toBe(401);
  });

  it('accepts a key as a bearer token or in X-API-Key', async () => {
    expect((await app.inject({ url: '/models', headers: { authorization: `Bearer ${KEY_A}` } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/models', headers: { 'x-api-key': KEY_B } })).statusCode).toBe(200);
  });

  it('leaves the health checks and the API description open', async () => {
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).not.toBe(401);
    expect((await app.inject({ url: '/openapi.json' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/docs/' })).statusCode).toBe(200);
  });

  it('refuses keys too short to be secret at start-up', () => {
    expect(() => loadConfig({ API_KEYS: 'short' })).toThrow(/API_KEYS/);
  });
});

describe('API keys on the stream', () => {
  let server: StreamServer;
  beforeAll(async () => {
    server = await startStreamServer({
      API_KEYS: `${KEY_A},${KEY_B},${KEY_C},${KEY_D}`,
      WS_MAX_CONNECTIONS_PER_CLIENT: 1,
    });
  });
  afterAll(async () => server.close());

  it('refuses the upgrade without a valid key (401) and opens it with one', async () => {
    expect(await refusedUpgrade(server.url, {})).toEqual({ status: 401, code: 'api_key_required' });
    expect(await refusedUpgrade(server.url, { 'x-api-key': 'not-a-key-at-all-000' })).toEqual({
      status: 401,
      code: 'invalid_api_key',
    });
    const c = await StreamClient.connect(server.url, { headers: { authorization: `Bearer ${KEY_C}` } });
    await c.waitFor((f) => f.type === 'hello');
    c.close();
  });

  it('a browser sends its key as a subprotocol next to "tensortrace"; the server selects only the latter', async () => {
    const keyProtocol = (k: string) => `tensortrace.key.${Buffer.from(k).toString('base64url')}`;
    const wrong = await refusedUpgrade(server.url, {
      'sec-websocket-protocol': `tensortrace, ${keyProtocol('not-a-key-at-all-000')}`,
    });
    expect(wrong).toEqual({ status: 401, code: 'invalid_api_key' });
    const ws = new WebSocket(server.url, ['tensortrace', keyProtocol(KEY_C)]);
    const hello = await new Promise<{ type: string }>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d))));
      ws.once('error', reject);
    });
    expect(hello.type).toBe('hello');
    expect(ws.protocol).toBe('tensortrace');
    ws.close();
  });

  it('npm run watch sends TENSORTRACE_API_KEY; without it the CLI reports the refusal', async () => {
    const io = (env: Record<string, string>) => {
      let out = '';
      let err = '';
      return {
        out: (t: string) => (out += t),
        err: (t: string) => (err += t),
        env,
        isTty: false,
        text: () => out + err,
      };
    };
    const refused = io({});
    expect(await watchMain(['Hello', '--url', server.url, '--max-new-tokens', '1', '--text-only'], refused)).toBe(1);
    expect(refused.text()).toContain('401');
    const ok = io({ TENSORTRACE_API_KEY: KEY_D });
    expect(await watchMain(['Hello', '--url', server.url, '--max-new-tokens', '1', '--text-only'], ok)).toBe(0);
  });

  it('counts per-client limits per key: a second key from the same address is another client', async () => {
    const a = await StreamClient.connect(server.url, { headers: { 'x-api-key': KEY_A } });
    await a.waitFor((f) => f.type === 'hello');
    const again = await StreamClient.connect(server.url, { headers: { 'x-api-key': KEY_A } });
    expect((await again.waitClosed()).code).toBe(1013);
    expect(again.frames).toEqual([expect.objectContaining({ type: 'error', code: 'too_many_client_connections' })]);
    const b = await StreamClient.connect(server.url, { headers: { 'x-api-key': KEY_B } });
    await b.waitFor((f) => f.type === 'hello');
    a.close();
    b.close();
  });
});

describe('security headers', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp();
  });
  afterAll(async () => app.close());

  it('sends a CSP, nosniff and frame denial on API replies, errors and the docs page', async () => {
    for (const url of ['/healthz', '/no-such-route', '/docs/']) {
      const res = await app.inject({ url });
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests'); // plain http on a LAN must keep working
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
  });
});

describe('CORS', () => {
  it('is off by default: no cross-origin grant for any page', async () => {
    const app = await testApp();
    try {
      const res = await app.inject({ url: '/models', headers: { origin: 'https://lab.example.org' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('grants the listed origins only, answers their preflight without a key, and lets them open the stream', async () => {
    const server = await startStreamServer({ CORS_ORIGINS: 'https://lab.example.org', API_KEYS: KEY_A });
    try {
      const app = server.app;
      const ok = await app.inject({
        url: '/models',
        headers: { origin: 'https://lab.example.org', 'x-api-key': KEY_A },
      });
      expect(ok.headers['access-control-allow-origin']).toBe('https://lab.example.org');
      const other = await app.inject({
        url: '/models',
        headers: { origin: 'https://evil.example', 'x-api-key': KEY_A },
      });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/trace',
        headers: {
          origin: 'https://lab.example.org',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, authorization',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(String(preflight.headers['access-control-allow-headers'])).toContain('authorization');
      const ws = await StreamClient.connect(server.url, {
        headers: { origin: 'https://lab.example.org', 'x-api-key': KEY_A },
      });
      await ws.waitFor((f) => f.type === 'hello');
      ws.close();
      expect(await refusedUpgrade(server.url, { origin: 'https://evil.example', 'x-api-key': KEY_A })).toEqual({
        status: 403,
        code: 'origin_not_allowed',
      });
    } finally {
      await server.close();
    }
  });
});

describe('rate limit', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ RATE_LIMIT_MAX: 3, RATE_LIMIT_WINDOW_MS: 60_000 });
  });
  afterAll(async () => app.close());

  it('answers 429 problem+json with Retry-After past RATE_LIMIT_MAX, per client, never on the health checks', async () => {
    for (let i = 0; i < 3; i++) expect((await app.inject({ url: '/models' })).statusCode).toBe(200);
    const limited = await app.inject({ url: '/models' });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(ProblemSchema.parse(limited.json()).code).toBe('rate_limited');
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/models', remoteAddress: '127.0.0.2' })).statusCode).toBe(200);
  });
});

describe('TRUST_PROXY: behind a reverse proxy each forwarded client has its own limits', () => {
  const limitedFor = async (app: FastifyInstance, forwarded: string) => {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push((await app.inject({ url: '/models', headers: { 'x-forwarded-for': forwarded } })).statusCode);
    return codes;
  };

  it('a trusted proxy: X-Forwarded-For is the client; untrusted (the default): the socket peer is', async () => {
    const behind = await testApp({ RATE_LIMIT_MAX: 2, TRUST_PROXY: '127.0.0.1' });
    const direct = await testApp({ RATE_LIMIT_MAX: 2 });
    try {
      expect(await limitedFor(behind, '203.0.113.7')).toEqual([200, 200, 429]);
      expect(await limitedFor(behind, '203.0.113.8')).toEqual([200, 200, 429]); // another client behind the proxy
      expect(await limitedFor(direct, '203.0.113.7')).toEqual([200, 200, 429]);
      expect(await limitedFor(direct, '203.0.113.8')).toEqual([429, 429, 429]); // a forged header changes nothing
    } finally {
      await Promise.all([behind.close(), direct.close()]);
    }
  });

  it('reads false, true, a hop count and address lists; anything else is a config error naming the value', () => {
    const parse = (v: string) => EnvSchema.shape.TRUST_PROXY.parse(v);
    expect([parse('false'), parse(''), parse('true'), parse('2')]).toEqual([false, false, true, 2]);
    expect(parse('10.0.0.0/8, 127.0.0.1,::1')).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    for (const bad of ['proxy.local', '10.0.0.0/33', '1.2.3.4/8/1'])
      expect(() => parse(bad)).toThrow(/is not an IP address or CIDR range/);
  });
});

describe('event-loop overload', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ MAX_EVENT_LOOP_DELAY_MS: 40 });
  });
  afterAll(async () => app.close());

  it('sheds requests with 503 server_overloaded while the loop runs late; the health checks still answer', async () => {
    let shed: Awaited<ReturnType<FastifyInstance['inject']>> | undefined;
    const deadline = Date.now() + 8000;
    while (!shed && Date.now() < deadline) {
      const until = Date.now() + 150;
      while (Date.now() < until); // hold the event loop, as a heavy synchronous request would
      await yieldLoop();
      const res = await app.inject({ url: '/models' });
      if (res.statusCode === 503) shed = res;
    }
    expect(shed?.statusCode).toBe(503);
    expect(ProblemSchema.parse(shed?.json()).code).toBe('server_overloaded');
    expect(Number(shed?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });
});
