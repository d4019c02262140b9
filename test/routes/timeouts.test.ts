// Request timeouts and the body limit: a body sent too slowly is cut off with 408 problem+json on the raw socket,
// an oversized one gets 413; both configurable.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ProblemSchema } from '../../src/schemas/problem.js';
import { testApp } from '../helpers/app.js';

/** Send the head, then the body one byte every `everyMs` until the server closes; the reply and when it came. */
function trickle(port: number, head: string, body: string, everyMs: number): Promise<{ reply: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let i = 0;
    const timer = setInterval(() => {
      if (i < body.length && socket.writable) socket.write(body[i++]!);
    }, everyMs);
    let reply = '';
    socket.on('data', (d) => (reply += String(d)));
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ reply, ms: performance.now() - t0 });
    });
    socket.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
  });
}

describe('request timeout', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await testApp({ REQUEST_TIMEOUT_MS: 600 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => app.close());

  it('cuts off a slowly sent body with 408 request_timeout problem+json and closes the connection', async () => {
    const body = JSON.stringify({ text: 'a slow body that would take seconds to arrive' });
    const head =
      'POST /tokenize HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${body.length}\r\n\r\n`;
    const { reply, ms } = await trickle(port, head, body, 100); // ~4.7 s to send in full
    expect(reply.startsWith('HTTP/1.1 408')).toBe(true);
    expect(reply).toContain('application/problem+json');
    expect(ProblemSchema.parse(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).code).toBe('request_timeout');
    expect(ms).toBeLessThan(2500);
  });

  it('cuts off headers that never finish the same way', async () => {
    const { reply, ms } = await trickle(
      port,
      'GET /healthz HTTP/1.1\r\nHost: localhost\r\n',
      'X-Slow: 1234567890',
      100,
    );
    expect(reply.startsWith('HTTP/1.1 408')).toBe(true);
    expect(ms).toBeLessThan(2500);
  });

  it('leaves requests sent in time alone', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/tokenize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello world' }),
    });
    expect(res.status).toBe(200);
  });
});

describe('body limit', () => {
  it('answers a body over BODY_LIMIT_BYTES with 413 body_too_large', async () => {
    const app = await testApp({ BODY_LIMIT_BYTES: 2048 });
    try {
      const small = await app.inject({ method: 'POST', url: '/tokenize', payload: { text: 'a'.repeat(1000) } });
      expect(small.statusCode).toBe(200);
      const big = await app.inject({ method: 'POST', url: '/tokenize', payload: { text: 'a'.repeat(4000) } });
      expect(big.statusCode).toBe(413);
      expect(ProblemSchema.parse(big.json()).code).toBe('body_too_large');
    } finally {
      await app.close();
    }
  });
});
