// WebSocket client for GET /stream: connects, waits for `hello`, starts generations and forwards frames.
import type { GenerateMessage, HelloMessage, ServerMessage } from '../../src/schemas/stream.js';

export type GenerateRequest = Partial<GenerateMessage> & { id: string };

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

  constructor(
    private readonly handlers: StreamHandlers,
    private readonly url = streamUrl(),
  ) {}

  /** Open (or reuse) the connection; resolves with the server's `hello`. */
  connect(): Promise<HelloMessage> {
    if (this.hello && this.socket && this.socket.readyState <= WebSocket.OPEN) return this.hello;
    const socket = new WebSocket(this.url);
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
        this.handlers.onMessage(msg);
      });
      socket.addEventListener('close', (ev) => {
        if (this.socket === socket) {
          this.socket = null;
          this.hello = null;
        }
        const why = ev.reason ? `: ${ev.reason}` : '';
        if (!greeted) reject(new Error(`The live stream could not be opened (close code ${ev.code}${why}).`));
        else this.handlers.onClosed(`The live stream closed (code ${ev.code}${why}).`);
      });
    });
    return this.hello;
  }

  /** Send a `generate` frame once connected. */
  async generate(req: GenerateRequest): Promise<void> {
    await this.connect();
    this.send({ type: 'generate', ...req });
  }

  cancel(id: string): void {
    this.send({ type: 'cancel', id });
  }

  private send(frame: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }
}
