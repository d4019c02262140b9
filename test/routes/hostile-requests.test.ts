// Requests that break before a route runs still get problem+json with a stable code and a bounded size:
// bad percent-encoding, oversized headers (Node's parser, answered on the raw socket), 200k unknown body keys.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemSchema } from '../../src/schemas/problem.js';
import { testApp } from '../helpers/app.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (d) => (got += d.toString()));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

describe('hostile requests', () => {
  it('answers bad percent-encoding in the path with a 400 bad_url problem', async () => {
    const res = await app.inject({ url: '/models/%C0%AE%C0%AE%2Fpackage.json' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const problem = ProblemSchema.parse(res.json());
    expect(problem.code).toBe('bad_url');
    expect(problem.detail).toMatch(/percent-encoding/);
  });

  it('keeps the error for 200,000 unknown body keys small', async () => {
    const body: Record<string, unknown> = { text: 'hi' };
    for (let i = 0; i < 200_000; i++) body[`k${i}`] = 1;
    const res = await app.inject({ method: 'POST', url: '/tokenize', payload: body });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.length).toBeLessThan(20_000);
    const problem = ProblemSchema.parse(res.json());
    expect(problem.code).toBe('invalid_request');
    expect(problem.detail).toMatch(/Unrecognized key/);
  });

  it('answers oversized headers with a 431 problem on the raw socket', async () => {
    const server = await testApp();
    await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = server.server.address() as AddressInfo;
      const reply = await rawRequest(
        port,
        `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`,
      );
      expect(reply.startsWith('HTTP/1.1 431')).toBe(true);
      expect(reply).toContain('application/problem+json');
      const problem = ProblemSchema.parse(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)));
      expect(problem.code).toBe('headers_too_large');
    } finally {
      await server.close();
    }
  });
});
