import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../src/errors/handler.js';
import webRoutes from '../../src/routes/web.js';
import { ProblemSchema } from '../../src/schemas/problem.js';
import { buildWeb } from '../../web/build.js';

async function appWithRoot(root: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  installErrorHandling(app);
  await app.register(webRoutes, { root });
  await app.ready();
  return app;
}

describe('web routes', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-web-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('answers 503 web_bundle_missing (problem+json) for / and /assets/* when the bundle was not built', async () => {
    const app = await appWithRoot(path.join(tmp, 'missing'));
    for (const url of ['/', '/assets/app.js']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = ProblemSchema.parse(res.json());
      expect(body.code).toBe('web_bundle_missing');
      expect(body.detail).toContain('npm run build:web');
    }
    await app.close();
  });

  it('serves the built page and its assets, revalidated on every load', async () => {
    const built = await buildWeb({ outDir: path.join(tmp, 'web') });
    expect(built.files.map((f) => f.file)).toEqual(['index.html', 'assets/app.js', 'assets/app-style.css']);
    const app = await appWithRoot(built.outDir);

    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain(`/assets/app.js?v=${built.version}`);
    expect(page.body).not.toContain('__VERSION__');

    const js = await app.inject({ url: `/assets/app.js?v=${built.version}` });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('no-cache');
    // Only types are imported from the server code: no zod in the page bundle.
    expect(js.body).not.toMatch(/ZodError|zod/);

    const css = await app.inject({ url: '/assets/app-style.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);

    const missing = await app.inject({ url: '/assets/nope.js' });
    expect(missing.statusCode).toBe(404);
    expect(ProblemSchema.parse(missing.json()).code).toBe('route_not_found');

    const dotDot = await app.inject({ url: '/assets/../index.html' });
    expect([403, 404]).toContain(dotDot.statusCode);
    await app.close();
  });
});
