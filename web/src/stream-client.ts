// WebSocket client for GET /stream: connects, waits for `hello`, starts generations and sweeps, forwards frames.
// Frames of an id someone `listen`s to go to that listener (a panel's own generation or sweep); the rest to the page.
import { checkKey, streamProtocols } from './api-key.js';
import type { z } from 'zod';
import type {
  GenerateMessageSchema,
  HelloMessage,
  ServerMessage,
  SweepMessageSchema,
} from '../../src/schemas/stream.js';

/** A `generate` frame as written: every field but the id optional, defaults left to the server. */
export type GenerateRequest = Partial<z.input<typeof GenerateMessageSchema>> & { id: string };
/** A `sweep` frame without its type, defaults optional (as written, before the server fills them). */
export type SweepStreamRequest = Omit<z.input<typeof SweepMessageSchema>, 'type'>;

export interface StreamHandlers {
  onMessage(msg: ServerMessage): void;
  /** The socket closed (or could not open) while a generation was live. */
  onClosed(detail: string): void;
}

/** ws(s)://<this host>/stream, so the page works behind any host/port and over TLS. */
export function streamUrl(loc: Pick<Location, 'protocol' | 'host'> = location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/stream`;
}

export class StreamClient {
  private socket: WebSocket | null = null;
  private hello: Promise<HelloMessage> | null = null;
  private readonly listeners = new Map<string, StreamHandlers>();

  constructor(
    private readonly handlers: StreamHandlers,
    private readonly url = streamUrl(),
  ) {}

  /** Open (or reuse) the connection; resolves with the server's `hello`. */
  connect(): Promise<HelloMessage> {
    if (this.hello && this.socket && this.socket.readyState <= WebSocket.OPEN) return this.hello;
    const socket = new WebSocket(this.url, streamProtocols());
    this.socket = socket;
    this.hello = new Promise<HelloMessage>((resolve, reject) => {
      let greeted = false;
      socket.addEventListener('message', (ev) => {
        let msg: ServerMessage;
        try {
          msg = JSON.parse(String(ev.data)) as ServerMessage;
        } catch {
          return; // the server only sends JSON; a broken frame is not worth crashing the page for
        }
        if (msg.type === 'hello' && !greeted) {
          greeted = true;
          resolve(msg);
          return;
        }
        if (msg.type === 'error' && !greeted) {
          // Refused before the greeting (e.g. too_many_connections): the server's sentence is the best explanation.
          reject(new Error(msg.message));
          return;
        }
        const own = 'id' in msg && typeof msg.id === 'string' ? this.listeners.get(msg.id) : undefined;
        (own ?? this.handlers).onMessage(msg);
      });
      socket.addEventListener('close', (ev) => {
        if (this.socket === socket) {
          this.socket = null;
          this.hello = null;
        }
        const why = ev.reason ? `: ${ev.reason}` : '';
        if (!greeted) {
          reject(new Error(`The live stream could not be opened (close code ${ev.code}${why}).`));
          void checkKey(); // a refused upgrade gives the page no status: ask whether the server wants a key
        } else {
          const detail = `The live stream closed (code ${ev.code}${why}).`;
          this.handlers.onClosed(detail);
          for (const l of [...this.listeners.values()]) l.onClosed(detail);
        }
      });
    });
    return this.hello;
  }

  /** Send a `generate` frame once connected. */
  async generate(req: GenerateRequest): Promise<void> {
    await this.connect();
    this.send({ type: 'generate', ...req });
  }

  /** Send a `sweep` frame once connected; its progress and result reach whoever listens to `req.id`. */
  async sweep(req: SweepStreamRequest): Promise<void> {
    await this.connect();
    this.send({ type: 'sweep', ...req });
  }

  /** Route the frames of generation or sweep `id` to `handlers` (instead of the page's); returns the undo. */
  listen(id: string, handlers: StreamHandlers): () => void {
    this.listeners.set(id, handlers);
    return () => {
      if (this.listeners.get(id) === handlers) this.listeners.delete(id);
    };
  }

  /** Replace the interventions of a live generation this page started, from its next forward pass on. */
  intervene(id: string, interventions: readonly object[]): void {
    this.send({ type: 'intervene', id, interventions });
  }

  cancel(id: string): void {
    this.send({ type: 'cancel', id });
  }

  private send(frame: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }
}
