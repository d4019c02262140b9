// Test helpers: a real server on 127.0.0.1:0 with the tiny fixture, and a `ws` client that validates every frame.
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { tinyApp } from '../trace/models-dir.js';
import { ServerMessageSchema, type ServerMessage } from '../../src/schemas/stream.js';
import type { BuildAppOptions } from '../../src/app.js';

export interface StreamServer {
  app: FastifyInstance;
  url: string;
  close: () => Promise<void>;
}

export async function startStreamServer(config: BuildAppOptions['config'] = {}): Promise<StreamServer> {
  const { app, close } = await tinyApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no TCP address');
  return {
    app,
    url: `ws://127.0.0.1:${addr.port}/stream`,
    close,
  };
}

type Pred = (f: ServerMessage) => boolean;

/** A client that keeps every frame (parsed with the server schema: a frame that doesn't match fails the test). */
export class StreamClient {
  readonly frames: ServerMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: { pred: Pred; from: number; resolve: (f: ServerMessage) => void; reject: (e: Error) => void }[] = [];
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const err = new Error('the server sent a binary frame; every frame must be a JSON text frame');
        for (const w of this.waiters) w.reject(err);
        this.waiters = [];
        return;
      }
      const parsed = ServerMessageSchema.safeParse(JSON.parse(String(data)));
      if (!parsed.success) {
        const err = new Error(
          `server frame does not match the schema: ${parsed.error.message}\n${String(data).slice(0, 500)}`,
        );
        for (const w of this.waiters) w.reject(err);
        this.waiters = [];
        return;
      }
      this.frames.push(parsed.data);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(parsed.data)) return true;
        w.resolve(parsed.data);
        return false;
      });
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      for (const r of this.closeWaiters) r(this.closed);
      for (const w of this.waiters) w.reject(new Error(`socket closed (${code}) while waiting`));
      this.waiters = [];
    });
  }

  static async connect(url: string, options?: WebSocket.ClientOptions): Promise<StreamClient> {
    const ws = new WebSocket(url, options);
    const client = new StreamClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame matching `pred` received at index >= `from` (already received or still to come). */
  waitFor(pred: Pred, from = 0, timeoutMs = 45_000): Promise<ServerMessage> {
    const have = this.frames.slice(from).find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push({
        pred,
        from,
        resolve: (f) => {
          clearTimeout(t);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }

  /** Next frame of `type` (optionally for generation `id`) after the frames seen so far. */
  next<T extends ServerMessage['type']>(type: T, id?: string): Promise<Extract<ServerMessage, { type: T }>> {
    const from = this.frames.length;
    return this.waitFor((f) => f.type === type && (id === undefined || ('id' in f && f.id === id)), from) as Promise<
      Extract<ServerMessage, { type: T }>
    >;
  }

  /** Every frame of generation `id` up to and including its `done`. */
  async untilDone(id: string): Promise<ServerMessage[]> {
    await this.waitFor((f) => f.type === 'done' && f.id === id);
    return this.framesOf(id);
  }

  framesOf(id: string): ServerMessage[] {
    return this.frames.filter((f) => 'id' in f && f.id === id && f.type !== 'subscribed' && f.type !== 'unsubscribed');
  }

  waitClosed(): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((r) => this.closeWaiters.push(r));
  }

  close(): void {
    this.ws.close();
  }
}
