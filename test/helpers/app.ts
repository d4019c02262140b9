// Build a test app: silent logs, configuration overrides, closed after the test file.
import type { FastifyInstance } from 'fastify';
import { buildApp, type BuildAppOptions } from '../../src/app.js';

export async function testApp(config: BuildAppOptions['config'] = {}): Promise<FastifyInstance> {
  // Overload shedding off unless a test asks for it: it measures this process's event loop, which the tests' own
  // synchronous work (references, big fixtures) holds too.
  const app = await buildApp({ logger: false, config: { SERVE_WEB: false, MAX_EVENT_LOOP_DELAY_MS: 0, ...config } });
  await app.ready();
  return app;
}
