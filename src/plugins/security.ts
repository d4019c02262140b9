// Protections in front of every route: client identity and API keys, security headers (CSP), CORS, per-client rate
// limit, event-loop overload shedding and admission control for model work. Limits and defaults: docs/limits-and-security.md.
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyReply, FastifyRequest, FastifyServerOptions, RouteHandlerMethod } from 'fastify';
import type { ServerOptions } from 'node:http';
import type { AppConfig } from '../config.js';
import { ProblemError, serviceUnavailable, tooManyRequests } from '../errors/problem-error.js';
import { Admission } from '../security/admission.js';
import { ApiKeys, presentedKey } from '../security/api-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking, for per-client limits: `key:<digest>` for a valid API key, else `ip:<remote address>`. */
    clientId: string;
  }
  interface FastifyContextConfig {
    /** The route runs a model: admitted per model queue and per client (MODEL_QUEUE_MAX, MODEL_REQUESTS_PER_CLIENT). */
    modelWork?: boolean;
  }
  interface FastifyInstance {
    admission: Admission;
  }
}

/** Routes answered without an API key and never shed under pressure: health checks (probes must see the truth). */
const HEALTH_ROUTES = new Set(['/healthz', '/readyz']);

/** Routes answered without an API key besides the health checks: the page's static files and the API description. */
function isPublic(url: string | undefined): boolean {
  if (url === undefined) return false;
  return (
    HEALTH_ROUTES.has(url) ||
    url === '/' ||
    url.startsWith('/assets/') ||
    url === '/docs' ||
    url.startsWith('/docs/') ||
    url === '/openapi.json'
  );
}

/**
 * The page's Content-Security-Policy: its own scripts and styles only (style attributes are allowed: the charts
 * set widths and colours inline), fetch and WebSocket to its own origin, no frames, no plugins. Swagger UI at /docs
 * runs under the same policy. No upgrade-insecure-requests: the server is often reached over plain http on a LAN.
 */
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  upgradeInsecureRequests: null,
};

/** Server options the configuration sets at construction: body size and the request / keep-alive timeouts. */
export function serverLimits(
  config: AppConfig,
): Pick<FastifyServerOptions, 'bodyLimit' | 'requestTimeout' | 'keepAliveTimeout'> & { http: ServerOptions } {
  const timeout = config.REQUEST_TIMEOUT_MS;
  return {
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestTimeout: timeout,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    // Given to the server's constructor too: Node applies a request timeout set later only to the headers (a slowly
    // sent body then runs on). Node checks the deadlines every connectionsCheckingInterval (default 30 s): a quarter
    // of the timeout keeps the cut-off close.
    http:
      timeout > 0
        ? {
            requestTimeout: timeout,
            headersTimeout: Math.min(60_000, timeout),
            connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(timeout / 4))),
          }
        : {},
  };
}

function retryAfter(reply: FastifyReply, seconds: number): void {
  reply.header('retry-after', String(Math.max(1, Math.ceil(seconds))));
}

export default fp(
  async (app) => {
    const config = app.config;
    const keys = new ApiKeys(config.API_KEYS);

    await app.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
      // The page loads nothing cross-origin; HSTS is the TLS terminator's business (the server speaks plain http).
      strictTransportSecurity: false,
      frameguard: { action: 'deny' },
    });

    const origins = config.CORS_ORIGINS;
    if (origins.length > 0) {
      await app.register(cors, {
        origin: origins.includes('*') ? '*' : [...origins],
        methods: ['GET', 'HEAD', 'POST'],
        allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-request-id', 'accept'],
        exposedHeaders: [
          'retry-after',
          'x-request-id',
          'x-ratelimit-limit',
          'x-ratelimit-remaining',
          'x-ratelimit-reset',
        ],
        maxAge: 600,
      });
    }

    // After helmet and CORS (a 401 carries their headers; a preflight, answered by CORS, needs no key). The identity
    // is set on request (the rate limit and the stream read it); the key is checked before the body is parsed, once
    // every onRequest hook has run (@fastify/websocket's own marks an upgrade so its socket is closed after a 401).
    app.decorateRequest('clientId', '');
    app.addHook('onRequest', async (request) => {
      const identity = keys.enabled ? keys.identify(presentedKey(request.headers)) : undefined;
      request.clientId = identity ?? `ip:${request.ip}`;
    });
    if (keys.enabled) {
      app.addHook('preParsing', async (request) => {
        if (request.clientId.startsWith('key:') || isPublic(request.routeOptions.url)) return;
        const given = presentedKey(request.headers) !== undefined;
        throw new ProblemError(
          401,
          given ? 'invalid_api_key' : 'api_key_required',
          'Unauthorized',
          given
            ? 'The API key is not one this server accepts.'
            : 'This server needs an API key: send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`.',
        );
      });
    }

    if (config.MAX_EVENT_LOOP_DELAY_MS > 0) {
      await app.register(underPressure, {
        maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
        pressureHandler: async (request: FastifyRequest, reply: FastifyReply) => {
          if (HEALTH_ROUTES.has(request.routeOptions.url ?? '')) return;
          retryAfter(reply, 1);
          throw serviceUnavailable(
            'server_overloaded',
            `The server's event loop is running late (over MAX_EVENT_LOOP_DELAY_MS, ${config.MAX_EVENT_LOOP_DELAY_MS} ms); try again shortly.`,
          );
        },
      });
    }

    if (config.RATE_LIMIT_MAX > 0) {
      await app.register(rateLimit, {
        max: config.RATE_LIMIT_MAX,
        timeWindow: config.RATE_LIMIT_WINDOW_MS,
        keyGenerator: (request) => request.clientId,
        allowList: (request) => HEALTH_ROUTES.has(request.routeOptions.url ?? ''),
        errorResponseBuilder: (_request, ctx) =>
          tooManyRequests(
            'rate_limited',
            `This client sent more than ${ctx.max} requests in ${ctx.after} (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS); ` +
              `try again in ${Math.ceil(ctx.ttl / 1000)} s.`,
          ),
      });
    }

    // Model work is admitted when its handler starts (the body is parsed and validated) and counted until the
    // handler ends, so a client that hangs up does not free a place its forward pass still occupies.
    const admission = new Admission({
      parallel: Math.max(1, config.MODEL_WORKERS),
      queue: config.MODEL_QUEUE_MAX,
      perClient: config.MODEL_REQUESTS_PER_CLIENT,
    });
    app.decorate('admission', admission);
    app.addHook('onRoute', (route) => {
      if (route.config?.modelWork !== true) return;
      const handler = route.handler as RouteHandlerMethod;
      route.handler = async function admitted(this: unknown, request, reply) {
        const asked = (request.body as { model?: unknown } | undefined)?.model;
        let model = typeof asked === 'string' ? asked : config.DEFAULT_MODEL;
        try {
          model = app.models.resolve(model).name; // aliases share their model's queue
        } catch {
          return handler.call(this as never, request, reply); // unknown model: the route answers 404/409 at once
        }
        const release = admission.enter(model, request.clientId);
        if (typeof release !== 'function') {
          retryAfter(reply, release.retryAfterS);
          throw release.error;
        }
        try {
          return await handler.call(this as never, request, reply);
        } finally {
          release();
        }
      };
    });
  },
  { name: 'security', dependencies: ['config'] },
);
