// One WebSocket connection: hello, frame validation and dispatch, heartbeat, cleanup on close.
import type { FastifyBaseLogger } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { AppConfig } from '../config.js';
import { ProblemError } from '../errors/problem-error.js';
import { describeIssues } from '../errors/zod-words.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import { ClientMessageSchema, type ClientMessage } from '../schemas/stream.js';
import type { StreamHub } from './hub.js';
import { Peer } from './peer.js';
import { errorFrame } from './frame.js';
import { planGeneration, planIntervention } from '../plan/generation-plan.js';
import { streamSweep } from './sweep.js';

const CLIENT_TYPES = new Set(['generate', 'intervene', 'sweep', 'cancel', 'subscribe', 'unsubscribe', 'ping']);

/** Close code when WS_MAX_CONNECTIONS sockets are already open ("try again later"). */
export const CLOSE_TRY_AGAIN = 1013;

export interface ConnectionContext {
  hub: StreamHub;
  registry: ModelRegistry;
  config: AppConfig;
  log: FastifyBaseLogger;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/**
 * Attach every handler synchronously (frames sent right after the upgrade must not be lost). `clientKey` is
 * who the connection counts against for the per-client limits (its remote address).
 */
export function handleConnection(ws: WebSocket, ctx: ConnectionContext, clientKey: string): void {
  const { hub, config, log } = ctx;
  const connectionId = hub.admit(clientKey);
  if (typeof connectionId !== 'number') {
    ws.send(JSON.stringify(errorFrame(null, connectionId.code, connectionId.message)));
    ws.close(CLOSE_TRY_AGAIN, 'too many connections');
    return;
  }
  const peer = new Peer(ws, connectionId, hub.peerLimits, clientKey);
  hub.addPeer(peer);
  const clog = log.child({ connection: connectionId });

  // Heartbeat: ping every WS_HEARTBEAT_MS; a peer that has answered none of the last two pings (and sent nothing)
  // is dead. Counting ticks rather than comparing clocks means a busy event loop (a model loading) cannot make
  // a live peer look silent: timers never catch up, and its queued pong is read before the next tick.
  let unanswered = 0;
  ws.on('pong', () => {
    unanswered = 0;
  });
  const heartbeat = setInterval(() => {
    if (unanswered >= 2) {
      clog.info('stream peer did not answer the heartbeat; terminating');
      ws.terminate();
      return;
    }
    unanswered++;
    ws.ping();
  }, config.WS_HEARTBEAT_MS);
  heartbeat.unref();

  ws.on('message', (data: RawData) => {
    unanswered = 0;
    try {
      onFrame(rawText(data));
    } catch (err) {
      // Never let one frame take the connection (or the process) down.
      clog.error({ err }, 'stream frame handling failed');
      peer.send(errorFrame(null, 'internal_error', 'The frame could not be handled; the error was logged.'));
    }
  });
  ws.on('error', (err) => clog.warn({ err: err.message }, 'stream socket error'));
  ws.on('close', (code) => {
    clearInterval(heartbeat);
    hub.removePeer(peer);
    clog.debug({ code }, 'stream connection closed');
  });

  peer.send({ ...hub.hello() });

  function onFrame(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      peer.send(errorFrame(null, 'invalid_json', 'The frame is not valid JSON.'));
      return;
    }
    if (
      raw === null ||
      typeof raw !== 'object' ||
      Array.isArray(raw) ||
      typeof (raw as { type?: unknown }).type !== 'string'
    ) {
      peer.send(errorFrame(null, 'invalid_message', 'A frame is a JSON object with a string "type".'));
      return;
    }
    const { type, id } = raw as { type: string; id?: unknown };
    const idOrNull = typeof id === 'string' ? id : null;
    if (!CLIENT_TYPES.has(type)) {
      peer.send(
        errorFrame(
          idOrNull,
          'unknown_type',
          `Unknown frame type "${type}"; expected one of ${[...CLIENT_TYPES].join(', ')}.`,
        ),
      );
      return;
    }
    const parsed = ClientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      peer.send(errorFrame(idOrNull, 'invalid_message', describeIssues(parsed.error.issues)));
      return;
    }
    dispatch(parsed.data);
  }

  /** The live generation this connection started under `id`; else an error frame and undefined. */
  function owned(id: string, what: string) {
    const gen = peer.labels.get(id);
    if (!gen) {
      peer.send(errorFrame(id, 'unknown_generation', `No live generation has the id "${id}".`));
      return undefined;
    }
    if (gen.owner !== peer) {
      peer.send(errorFrame(id, 'not_owner', `Only the connection that started a generation can ${what}.`));
      return undefined;
    }
    return gen;
  }

  function dispatch(msg: ClientMessage): void {
    switch (msg.type) {
      case 'ping':
        peer.send(msg.nonce === undefined ? { type: 'pong' } : { type: 'pong', nonce: msg.nonce });
        return;
      case 'generate': {
        const start = () => {
          try {
            hub.start(planGeneration(msg, ctx.registry, config), peer);
          } catch (err) {
            if (!(err instanceof ProblemError)) throw err;
            peer.send(errorFrame(msg.id, err.code, err.detail, err.extra));
          }
        };
        // An installed model starts synchronously (frame order is kept); a name that is not installed first
        // re-reads its MODELS_DIR folder, so a model imported while the service runs can be streamed.
        const model = msg.model ?? ctx.registry.defaultName;
        if (ctx.registry.list().some((m) => m.name === model)) start();
        else
          ctx.registry.refresh(model).then(
            () => peer.open && start(),
            (err: unknown) => {
              log.error({ err }, 'model folder rescan failed');
              if (peer.open) start();
            },
          );
        return;
      }
      case 'sweep':
        streamSweep(msg, peer, ctx);
        return;
      case 'cancel': {
        const gen = owned(msg.id, 'cancel');
        if (gen) gen.cancel('Cancelled by the client.');
        return;
      }
      case 'intervene': {
        const gen = owned(msg.id, 'change its interventions');
        if (!gen) return;
        try {
          gen.intervene(planIntervention(msg.interventions, gen.plan, config));
        } catch (err) {
          if (!(err instanceof ProblemError)) throw err;
          peer.send(errorFrame(msg.id, err.code, err.detail, err.extra));
        }
        return;
      }
      case 'subscribe': {
        // Only the share token names another connection's generation; ids are per connection.
        const gen = hub.byShareToken(msg.share);
        if (!gen) {
          peer.send(
            errorFrame(
              msg.id,
              'unknown_generation',
              'No live (or recently finished) generation has this share token; ask its owner for the `share` of its `started` frame.',
            ),
          );
          return;
        }
        if (gen.owner === peer || gen.subscribers.has(peer)) {
          peer.send(
            errorFrame(msg.id, 'already_subscribed', 'This connection already receives the frames of this generation.'),
          );
          return;
        }
        if (peer.labels.has(msg.id)) {
          peer.send(
            errorFrame(
              msg.id,
              'duplicate_id',
              `This connection already has a live generation with id "${msg.id}"; choose another id.`,
            ),
          );
          return;
        }
        gen.subscribe(peer, msg.id);
        return;
      }
      case 'unsubscribe': {
        const gen = peer.labels.get(msg.id);
        if (!gen?.subscribers.has(peer)) {
          peer.send(errorFrame(msg.id, 'not_subscribed', `This connection is not subscribed to "${msg.id}".`));
          return;
        }
        gen.unsubscribe(peer);
        peer.send({ type: 'unsubscribed', id: msg.id });
        return;
      }
    }
  }
}
