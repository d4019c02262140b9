// The web page: GET / serves dist/web/index.html and /assets/* the esbuild bundle (npm run build:web).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';
import { PROJECT_ROOT } from '../config.js';
import { serviceUnavailable } from '../errors/problem-error.js';

export interface WebRoutesOptions {
  /** Folder holding index.html and assets/ (default: dist/web under the project root). */
  root?: string;
}

export const DEFAULT_WEB_ROOT = path.join(PROJECT_ROOT, 'dist', 'web');

const webRoutes: FastifyPluginAsync<WebRoutesOptions> = async (app, opts) => {
  const root = opts.root ?? DEFAULT_WEB_ROOT;
  const index = path.join(root, 'index.html');
  // Checked per request, not once at start: building the bundle while the server runs makes the page appear.
  const bundleMissing = () =>
    serviceUnavailable(
      'web_bundle_missing',
      `The web page has not been built: ${path.relative(PROJECT_ROOT, index) || index} is missing. ` +
        'Run `npm run build:web` (or `npm run build`) and reload.',
    );
  if (!existsSync(index))
    app.log.warn({ root }, 'web bundle missing: run `npm run build:web`; / answers 503 until then');

  await app.register(fastifyStatic, {
    root: path.join(root, 'assets'),
    prefix: '/assets/',
    index: false,
    // Names are stable across builds; revalidate (ETag) so a rebuilt bundle is never served stale.
    cacheControl: false,
    setHeaders: (res) => res.setHeader('cache-control', 'no-cache'),
    schemaHide: true,
  });

  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/assets/') && !existsSync(index)) throw bundleMissing();
  });

  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    if (!existsSync(index)) throw bundleMissing();
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', root);
  });
};

export default webRoutes;
