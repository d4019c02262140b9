// The server-wide set of live generations and connections: limits (server-wide and per client), share tokens,
// finished generations kept for their grace period, forward gates, shutdown.
import type { FastifyBaseLogger } from 'fastify';
import type { AppConfig } from '../config.js';
import { conflict, serviceUnavailable, tooManyRequests } from '../errors/problem-error.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { ModelRuntime } from '../runtime/types.js';
import { STREAM_PROTOCOL, type HelloMessage } from '../schemas/stream.js';
import { ForwardGate } from './forward-gate.js';
import { Generation } from './generation.js';
import type { Peer, PeerLimits } from './peer.js';
import type { GenerationPlan } from '../plan/generation-plan.js';

/**
 * Forward passes in flight per model when the runtime does not say how many it can run in parallel.
 * onnxruntime-node's run() executes synchronously on the calling thread (docs/stream-protocol.md, "Scheduling"),
 * so an in-process runtime gains nothing from overlapping calls; one at a time, FIFO, interleaves concurrent
 * streams token by token. A runtime with worker threads reports `parallelism` (WorkerRuntime: its worker count).
 */
export const FORWARD_CONCURRENCY = 1;

/** A subscriber is disconnected once its send buffer holds this many times WS_MAX_BUFFERED_BYTES. */
export const HARD_BUFFER_FACTOR = 4;

/** Close code sent to every stream socket on shutdown ("going away"). */
export const CLOSE_GOING_AWAY = 1001;

export interface GenerationStats {
  id: string;
  model: string;
  owner: number;
  subscribers: number;
  tokens: number;
  done: boolean;
  replay_bytes: number;
}

/** Why a connection was refused: sent as one `error` frame before close 1013. */
export interface Refusal {
  code: 'too_many_connections' | 'too_many_client_connections';
  message: string;
}

export class StreamHub {
  /** Live generations (owner label -> generation is per connection: Peer.labels). */
  private readonly live = new Set<Generation>();
  /** Share token -> generation, live or finished and within its grace period. */
  private readonly byShare = new Map<string, Generation>();
  /** Finished generations still subscribable, oldest first, with the timer that releases each. */
  private readonly retained = new Map<Generation, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly gates = new WeakMap<ModelRuntime, ForwardGate>();
  private readonly peers = new Set<Peer>();
  private closing = false;
  private nextConnection = 1;
  readonly peerLimits: PeerLimits;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly config: AppConfig,
    private readonly log: FastifyBaseLogger,
  ) {
    this.peerLimits = {
      softBytes: config.WS_MAX_BUFFERED_BYTES,
      hardBytes: config.WS_MAX_BUFFERED_BYTES * HARD_BUFFER_FACTOR,
    };
  }

  hello(): HelloMessage {
    const c = this.config;
    return {
      type: 'hello',
      protocol: STREAM_PROTOCOL,
      default_model: this.registry.defaultName,
      models: this.registry.list().map((m) => m.name),
      limits: {
        max_message_bytes: c.WS_MAX_MESSAGE_BYTES,
        max_new_tokens: c.MAX_NEW_TOKENS,
        max_connections: c.WS_MAX_CONNECTIONS,
        max_generations: c.WS_MAX_GENERATIONS,
        max_connections_per_client: c.WS_MAX_CONNECTIONS_PER_CLIENT,
        max_generations_per_client: c.WS_MAX_GENERATIONS_PER_CLIENT,
        max_buffered_bytes: this.peerLimits.softBytes,
        hard_buffered_bytes: this.peerLimits.hardBytes,
        replay_bytes: c.WS_REPLAY_BYTES,
        replay_grace_ms: c.WS_REPLAY_GRACE_MS,
        heartbeat_ms: c.WS_HEARTBEAT_MS,
      },
    };
  }

  /** A connection id for a new socket from `clientKey`, or why it is refused (server-wide or per-client limit). */
  admit(clientKey: string): number | Refusal {
    const c = this.config;
    if (this.peers.size >= c.WS_MAX_CONNECTIONS) {
      return {
        code: 'too_many_connections',
        message: `The server already has ${c.WS_MAX_CONNECTIONS} stream connections (WS_MAX_CONNECTIONS).`,
      };
    }
    let mine = 0;
    for (const p of this.peers) if (p.clientKey === clientKey) mine++;
    if (mine >= c.WS_MAX_CONNECTIONS_PER_CLIENT) {
      return {
        code: 'too_many_client_connections',
        message: `This client already has ${c.WS_MAX_CONNECTIONS_PER_CLIENT} stream connections (WS_MAX_CONNECTIONS_PER_CLIENT); close one first.`,
      };
    }
    return this.nextConnection++;
  }

  addPeer(peer: Peer): void {
    this.peers.add(peer);
  }

  /** A live generation whose owner labelled it `label` (the first, if several connections use that label): stats and tests. */
  get(label: string): Generation | undefined {
    for (const g of this.live) if (g.id === label) return g;
    return undefined;
  }

  /** The generation a share token names (live, or finished within its grace period). */
  byShareToken(token: string): Generation | undefined {
    return this.byShare.get(token);
  }

  /**
   * Register and start a planned generation owned by `owner`; throws duplicate_id (the label is in use on this
   * connection), too_many_generations (server-wide) or too_many_client_generations (this client's share).
   */
  start(plan: GenerationPlan, owner: Peer): Generation {
    if (owner.labels.has(plan.id)) {
      throw conflict(
        'duplicate_id',
        `This connection already has a live generation with id "${plan.id}"; choose another id.`,
      );
    }
    const max = this.config.WS_MAX_GENERATIONS;
    if (this.live.size >= max) {
      throw serviceUnavailable(
        'too_many_generations',
        `The server is already running ${max} generations (WS_MAX_GENERATIONS); try again when one finishes.`,
      );
    }
    const perClient = this.config.WS_MAX_GENERATIONS_PER_CLIENT;
    let mine = 0;
    for (const g of this.live) if (g.owner.clientKey === owner.clientKey) mine++;
    if (mine >= perClient) {
      throw tooManyRequests(
        'too_many_client_generations',
        `This client is already running ${perClient} generations (WS_MAX_GENERATIONS_PER_CLIENT); try again when one finishes.`,
      );
    }
    const gen = new Generation(plan, owner, {
      loadRuntime: () => this.registry.get(plan.model),
      gateFor: (rt) => this.gateFor(rt),
      log: this.log,
      replayBytes: this.config.WS_REPLAY_BYTES,
      onFinished: (g) => this.finished(g),
    });
    this.live.add(gen);
    this.byShare.set(gen.share, gen);
    owner.labels.set(plan.id, gen);
    const p = gen.run().catch((err: unknown) => this.log.error({ err }, 'generation crashed'));
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return gen;
  }

  gateFor(runtime: ModelRuntime): ForwardGate {
    let gate = this.gates.get(runtime);
    if (!gate) {
      const parallelism = (runtime as { parallelism?: unknown }).parallelism;
      const fromRuntime =
        typeof parallelism === 'number' && parallelism >= 1 ? Math.floor(parallelism) : FORWARD_CONCURRENCY;
      gate = new ForwardGate(fromRuntime);
      this.gates.set(runtime, gate);
    }
    return gate;
  }

  /**
   * A generation ended: it stops counting against the limits at once, stays subscribable by its share token for
   * WS_REPLAY_GRACE_MS, then its replay buffer is released. At most WS_MAX_GENERATIONS finished ones are kept (the
   * oldest goes first), so replay memory is bounded by 2 x WS_MAX_GENERATIONS x WS_REPLAY_BYTES.
   */
  private finished(g: Generation): void {
    this.live.delete(g);
    if (this.closing || this.config.WS_REPLAY_GRACE_MS === 0) {
      this.forget(g);
      return;
    }
    const timer = setTimeout(() => this.forget(g), this.config.WS_REPLAY_GRACE_MS);
    timer.unref();
    this.retained.set(g, timer);
    while (this.retained.size > this.config.WS_MAX_GENERATIONS) {
      const oldest = this.retained.keys().next().value as Generation;
      this.forget(oldest);
    }
  }

  private forget(g: Generation): void {
    const timer = this.retained.get(g);
    if (timer) clearTimeout(timer);
    this.retained.delete(g);
    if (this.byShare.get(g.share) === g) this.byShare.delete(g.share);
    g.release();
  }

  /** A socket closed: cancel what it owns (freeing the caches), drop it from what it watches. */
  removePeer(peer: Peer): void {
    this.peers.delete(peer);
    for (const g of this.live) {
      if (g.owner === peer) g.cancel('The connection that started this generation closed.');
      else if (g.subscribers.has(peer)) g.unsubscribe(peer);
    }
  }

  stats(): {
    connections: number;
    generations: GenerationStats[];
    /** Finished generations within their grace period, and the bytes all replay buffers hold. */
    retained: number;
    replayBytes: number;
    peers: { id: number; maxBuffered: number; buffered: number }[];
  } {
    const all = [...this.live, ...this.retained.keys()];
    return {
      connections: this.peers.size,
      generations: [...this.live].map((g) => ({
        id: g.id,
        model: g.model,
        owner: g.owner.connectionId,
        subscribers: g.subscribers.size,
        tokens: g.tokenIds.length,
        done: g.done,
        replay_bytes: g.replayBytes,
      })),
      retained: this.retained.size,
      replayBytes: all.reduce((n, g) => n + g.replayBytes, 0),
      peers: [...this.peers].map((p) => ({ id: p.connectionId, maxBuffered: p.maxBuffered, buffered: p.buffered })),
    };
  }

  /**
   * Server shutdown: cancel every generation and wait for the loops to publish `done`, release the replay
   * buffers, then close every socket with 1001 (going away). A socket whose close handshake has not completed
   * within `closeTimeoutMs` — a client that stopped reading has the close frame stuck behind its backlog — is
   * terminated, so shutdown never waits on a client.
   */
  async close(closeTimeoutMs = 1000): Promise<void> {
    this.closing = true;
    for (const g of this.live) g.cancel('The server is shutting down.');
    await Promise.allSettled([...this.running]);
    for (const g of [...this.retained.keys()]) this.forget(g);
    const sockets = [...this.peers].map((p) => p.ws);
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            const timer = setTimeout(() => ws.terminate(), closeTimeoutMs);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            if (ws.readyState === ws.OPEN) ws.close(CLOSE_GOING_AWAY, 'server shutting down');
          }),
      ),
    );
  }
}
