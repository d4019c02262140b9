// Build a test app: silent logs, configuration overrides, closed after the test file.
import type { FastifyInstance } from 'fastify';
import { buildApp, type BuildAppOptions } from '../../src/app.js';

export async function testApp(config: BuildAppOptions['config'] = {}): Promise<FastifyInstance> {
  const app = await buildApp({ logger: false, config: { SERVE_WEB: false, ...config } });
  await app.ready();
  return app;
}
