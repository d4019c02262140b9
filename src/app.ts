// buildApp(options): the one Fastify factory. Registers infra -> docs -> model registry -> routes; never listens.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler } from 'fastify-type-provider-zod';
import { randomUUID } from 'node:crypto';
import { type EnvSchema, loadConfig, type AppConfig } from './config.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling } from './errors/handler.js';
import { ArchRegistry, DEFAULT_REGISTRY_DIR } from './arch/registry.js';
import { OPENAPI_INFO } from './schemas/openapi-info.js';
import { pruneUnusedSchemas } from './schemas/openapi-prune.js';
import configPlugin from './plugins/config.js';
import modelRegistryPlugin from './plugins/model-registry.js';
import securityPlugin, { serverLimits } from './plugins/security.js';
import healthRoutes from './routes/health.js';
import modelRoutes from './routes/models.js';
import tokenizeRoutes from './routes/tokenize.js';
import traceRoutes from './routes/trace.js';
import sweepRoutes from './routes/sweep.js';
import tracesRoutes from './routes/traces.js';
import streamRoutes from './routes/stream.js';
import webRoutes from './routes/web.js';
import { jsonBytes } from './json/json-bytes.js';

export interface BuildAppOptions {
  /** Configuration overrides on top of the environment (tests pass MODELS_DIR, LOG_LEVEL, limits...). */
  config?: Partial<Record<keyof typeof EnvSchema.shape, string | number | boolean>>;
  /** Environment to read (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** A ready pino logger config or false; defaults to JSON logs at config.LOG_LEVEL. */
  logger?: FastifyServerOptions['logger'];
}

/**
 * Hugging Face ids hold a "/" (meta-llama/Meta-Llama-3-8B). Typed unencoded in a /models URL, it would be two path
 * segments and no route; read `/models/<org>/<name>[/params|/shapes]` as `/models/<org>%2F<name>[...]`.
 */
export function encodeHubIdSlash(req: { url?: string }): string {
  const url = req.url ?? '/';
  const m = /^\/models\/([^/?#]+)\/([^/?#]+)(\/(?:params|shapes))?(\?.*)?$/.exec(url);
  if (!m || m[2] === 'params' || m[2] === 'shapes') return url;
  return `/models/${m[1]}%2F${m[2]}${m[3] ?? ''}${m[4] ?? ''}`;
}

/** TRUST_PROXY as Fastify takes it: a hop count n trusts the n nearest proxies. */
function trustProxyOption(t: AppConfig['TRUST_PROXY']) {
  return typeof t === 'number' ? (_address: string, hop: number) => hop < t : t;
}

/** Merge overrides into the env map and validate once (same rules as the real environment). */
function resolveConfig(options: BuildAppOptions): AppConfig {
  const env: Record<string, string | undefined> = { ...(options.env ?? process.env) };
  for (const [k, v] of Object.entries(options.config ?? {})) if (v !== undefined) env[k] = String(v);
  return loadConfig(env);
}

export async function buildApp(options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const config = resolveConfig(options);
  const app = Fastify({
    logger: options.logger ?? { level: config.LOG_LEVEL },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    ...serverLimits(config),
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    frameworkErrors: frameworkErrorHandler,
    rewriteUrl: encodeHubIdSlash,
    clientErrorHandler,
    // Response schemas document the API (and tests check replies against them);
    // replies are serialised by jsonBytes (JSON.stringify, float32 lists written directly), not re-walked by zod.
  });
  app.setValidatorCompiler(validatorCompiler);
  // fastify's type says string; a Buffer goes out as it is (content-length from its length)
  app.setSerializerCompiler(() => (data) => jsonBytes(data) as unknown as string);
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', String(request.id));
    return payload;
  });
  installErrorHandling(app);

  await app.register(configPlugin, { config });
  // Before any route: its hooks (API keys, headers, CORS, rate limit, admission) apply to every route, /docs too.
  await app.register(securityPlugin);
  await app.register(swagger, {
    openapi: { openapi: '3.0.3', info: OPENAPI_INFO, tags: [] },
    transform: jsonSchemaTransform,
    transformObject: (doc) => pruneUnusedSchemas(jsonSchemaTransformObject(doc)),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // The architecture registry is read once (start-up fails naming any bad entry) and shared:
  // /models answers from it and the runnable-model registry uses it to tell "famous but not installed" (409).
  const arch = ArchRegistry.load(DEFAULT_REGISTRY_DIR);
  await app.register(modelRegistryPlugin, { known: arch });

  await app.register(healthRoutes);
  await app.register(modelRoutes, { registry: arch });
  await app.register(tokenizeRoutes);
  await app.register(traceRoutes);
  await app.register(sweepRoutes);
  await app.register(tracesRoutes);
  await app.register(streamRoutes);
  if (config.SERVE_WEB) await app.register(webRoutes);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
