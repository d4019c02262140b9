// The server-wide set of live generations and connections: ids, limits, subscriptions, forward gates.
import type { FastifyBaseLogger } from 'fastify';
import type { AppConfig } from '../config.js';
import { conflict, serviceUnavailable } from '../errors/problem-error.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { Gpt2Runtime } from '../runtime/types.js';
import { STREAM_PROTOCOL, type HelloMessage } from '../schemas/stream.js';
import { ForwardGate } from './forward-gate.js';
import { Generation } from './generation.js';
import type { Peer, PeerLimits } from './peer.js';
import type { GenerationPlan } from './plan.js';

/**
 * Forward passes in flight per model when the runtime does not say how many it can run in parallel.
 * onnxruntime-node's run() executes synchronously on the calling thread (docs/stream-protocol.md, "Scheduling"),
 * so an in-process runtime gains nothing from overlapping calls; one at a time, FIFO, interleaves concurrent
 * streams token by token. A runtime with worker threads reports `parallelism` (WorkerRuntime: its worker count).
 */
export const FORWARD_CONCURRENCY = 1;

/** A subscriber is disconnected once its send buffer holds this many times WS_MAX_BUFFERED_BYTES. */
export const HARD_BUFFER_FACTOR = 4;

export interface GenerationStats {
  id: string;
  model: string;
  owner: number;
  subscribers: number;
  tokens: number;
  done: boolean;
}

export class StreamHub {
  private readonly generations = new Map<string, Generation>();
  private readonly running = new Set<Promise<void>>();
  private gates = new WeakMap<Gpt2Runtime, ForwardGate>();
  private forwardConcurrency: number | undefined;
  private readonly peers = new Set<Peer>();
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
        max_buffered_bytes: this.peerLimits.softBytes,
        hard_buffered_bytes: this.peerLimits.hardBytes,
        replay_messages: c.WS_REPLAY_MESSAGES,
        heartbeat_ms: c.WS_HEARTBEAT_MS,
      },
    };
  }

  /** A connection id for a new socket, or undefined when WS_MAX_CONNECTIONS are open. */
  admit(): number | undefined {
    if (this.peers.size >= this.config.WS_MAX_CONNECTIONS) return undefined;
    return this.nextConnection++;
  }

  addPeer(peer: Peer): void {
    this.peers.add(peer);
  }

  get(id: string): Generation | undefined {
    return this.generations.get(id);
  }

  /** Register and start a planned generation owned by `owner`; throws duplicate_id / too_many_generations. */
  start(plan: GenerationPlan, owner: Peer): Generation {
    if (this.generations.has(plan.id)) {
      throw conflict('duplicate_id', `A generation with id "${plan.id}" is already running; choose another id.`);
    }
    const max = this.config.WS_MAX_GENERATIONS;
    if (this.generations.size >= max) {
      throw serviceUnavailable(
        'too_many_generations',
        `The server is already running ${max} generations (WS_MAX_GENERATIONS); try again when one finishes.`,
      );
    }
    const gen = new Generation(plan, owner, {
      loadRuntime: () => this.registry.get(plan.model),
      gateFor: (rt) => this.gateFor(rt),
      log: this.log,
      replayMessages: this.config.WS_REPLAY_MESSAGES,
      onFinished: (g) => {
        if (this.generations.get(g.id) === g) this.generations.delete(g.id);
      },
    });
    this.generations.set(plan.id, gen);
    const p = gen.run().catch((err: unknown) => this.log.error({ err }, 'generation crashed'));
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return gen;
  }

  gateFor(runtime: Gpt2Runtime): ForwardGate {
    let gate = this.gates.get(runtime);
    if (!gate) {
      const parallelism = (runtime as { parallelism?: unknown }).parallelism;
      const fromRuntime =
        typeof parallelism === 'number' && parallelism >= 1 ? Math.floor(parallelism) : FORWARD_CONCURRENCY;
      gate = new ForwardGate(this.forwardConcurrency ?? fromRuntime);
      this.gates.set(runtime, gate);
    }
    return gate;
  }

  /** Override the per-model concurrency for generations started from now on (benchmarks and tuning); undefined = the runtime's. */
  setForwardConcurrency(limit: number | undefined): void {
    this.forwardConcurrency = limit;
    this.gates = new WeakMap();
  }

  /** A socket closed: cancel what it owns (freeing the caches), drop it from what it watches. */
  removePeer(peer: Peer): void {
    this.peers.delete(peer);
    for (const g of this.generations.values()) {
      if (g.owner === peer) g.cancel('The connection that started this generation closed.');
      else if (g.subscribers.has(peer)) g.unsubscribe(peer);
    }
  }

  stats(): {
    connections: number;
    generations: GenerationStats[];
    peers: { id: number; maxBuffered: number; buffered: number }[];
  } {
    return {
      connections: this.peers.size,
      generations: [...this.generations.values()].map((g) => ({
        id: g.id,
        model: g.model,
        owner: g.owner.connectionId,
        subscribers: g.subscribers.size,
        tokens: g.tokenIds.length,
        done: g.done,
      })),
      peers: [...this.peers].map((p) => ({ id: p.connectionId, maxBuffered: p.maxBuffered, buffered: p.buffered })),
    };
  }

  /** Server shutdown: cancel everything and wait for the loops to publish `done`. */
  async close(): Promise<void> {
    for (const g of this.generations.values()) g.cancel('The server is shutting down.');
    await Promise.allSettled([...this.running]);
  }
}
