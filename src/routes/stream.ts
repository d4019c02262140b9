// GET /stream: the live generation WebSocket (protocol in docs/stream-protocol.md); decorates app.streamHub.
import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import { WS_SUBPROTOCOL } from '../security/api-keys.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ProblemError } from '../errors/problem-error.js';
import { ProblemSchema } from '../schemas/problem.js';
import { STREAM_PROTOCOL } from '../schemas/stream.js';
import { StreamHub } from '../stream/hub.js';
import { handleConnection } from '../stream/connection.js';
import { originAllowed } from '../stream/origin.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Live generations and connections of GET /stream (stats for health checks and tests). */
    streamHub: StreamHub;
  }
}

const DESCRIPTION =
  'A WebSocket endpoint: connect with `Upgrade: websocket` (ws://host:port/stream). The server first sends ' +
  '`hello` (protocol, limits); the client sends `generate` frames and receives `started`, one `step` per forward ' +
  'pass (hook summaries + attention of the new position, all layers), one `token` per generated token ' +
  '(alternatives, logit lens, sampling record) and `done`. Also `cancel`, `subscribe` (watch a generation started ' +
  'elsewhere, with replay), `unsubscribe` and `ping`. Frames are JSON objects with a `type`; their schemas are in ' +
  'src/schemas/stream.ts and the protocol, limits, backpressure and error codes in docs/stream-protocol.md. Frames ' +
  'larger than WS_MAX_MESSAGE_BYTES close the socket with 1009. A plain GET without the upgrade gets 426. A browser ' +
  'page from another origin (the `Origin` header) gets 403 unless CORS_ORIGINS (or WS_ALLOWED_ORIGINS) lists it. ' +
  'With API_KEYS set, the upgrade needs a key (Authorization: Bearer or X-API-Key), else 401.';

/**
 * fastify-plugin so `app.streamHub` is visible app-wide; the WebSocket plugin itself is registered in an
 * inner, encapsulated scope so its `maxPayload` and upgrade handling apply to this route only.
 * The route uses `wsHandler` + a plain `handler` (not `websocket: true`, which @fastify/websocket hides from
 * the OpenAPI document) so GET /stream is documented, and a plain GET gets a 426 problem instead of a bare 404.
 */
export default fp(
  async (app) => {
    const hub = new StreamHub(app.models, app.config, app.log);
    app.decorate('streamHub', hub);
    // Sockets that cannot finish the close handshake within a quarter of the shutdown grace are terminated.
    const allowedOrigins = [...app.config.CORS_ORIGINS, ...app.config.WS_ALLOWED_ORIGINS];
    const closeTimeoutMs = Math.max(100, Math.floor(app.config.SHUTDOWN_GRACE_MS / 4));

    await app.register(async (scope) => {
      await scope.register(websocket, {
        options: {
          maxPayload: app.config.WS_MAX_MESSAGE_BYTES,
          // A client that offers subprotocols (a browser sending its key as one) gets the stream's back; a key is
          // never echoed.
          handleProtocols: (offered: Set<string>) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
        },
        // Replaces the plugin's default (close() without a code, seen as 1005, and waiting on every handshake).
        preClose: async () => hub.close(closeTimeoutMs),
      });
      scope.withTypeProvider<ZodTypeProvider>().route({
        method: 'GET',
        url: '/stream',
        schema: {
          tags: ['stream'],
          summary: `Live generation over WebSocket (${STREAM_PROTOCOL})`,
          description: DESCRIPTION,
          response: { 401: ProblemSchema, 403: ProblemSchema, 426: ProblemSchema },
        },
        onRequest: async (request) => {
          const origin = request.headers.origin;
          if (!originAllowed(origin, request.headers.host, allowedOrigins)) {
            throw new ProblemError(
              403,
              'origin_not_allowed',
              'Forbidden',
              `Pages from ${JSON.stringify(origin)} may not open the stream: only the same origin, clients that send ` +
                'no Origin, and the origins listed in CORS_ORIGINS (or WS_ALLOWED_ORIGINS) are allowed.',
            );
          }
        },
        handler: async (_request, reply) => {
          reply.header('upgrade', 'websocket');
          throw new ProblemError(
            426,
            'websocket_required',
            'Upgrade required',
            'GET /stream is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket). ' +
              'The protocol is described in docs/stream-protocol.md.',
          );
        },
        // The per-client limits count against the client identity: its API key, else the remote address (request.ip:
        // the socket's peer unless Fastify's trustProxy is configured).
        wsHandler: (socket, request) =>
          handleConnection(socket, { hub, registry: app.models, config: app.config, log: app.log }, request.clientId),
      });
    });
  },
  { name: 'stream', dependencies: ['config', 'model-registry'] },
);
