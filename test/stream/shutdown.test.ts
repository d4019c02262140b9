// SIGTERM on the real server process while a client has stopped reading a heavy stream: every socket gets a close
// code, the one that cannot complete the handshake is terminated, and the process exits 0 within the grace.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROJECT_ROOT } from '../../src/config.js';
import { tinyModelsDir } from '../trace/models-dir.js';

const GRACE = 4000;
const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

/** Start src/server.ts on a free port; resolves with the child and its port once it logs that it listens. */
function startServer(modelsDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(TSX, [path.join(PROJECT_ROOT, 'src', 'server.ts')], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      MODELS_DIR: modelsDir,
      DEFAULT_MODEL: 'tiny-gpt2',
      SERVE_WEB: 'false',
      SHUTDOWN_GRACE_MS: String(GRACE),
      WS_MAX_BUFFERED_BYTES: String(256 * 1024),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`the server did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += String(d)));
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${out}`)));
  });
}

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('shutdown with a client that stopped reading', () => {
  let models: Awaited<ReturnType<typeof tinyModelsDir>>;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    models = await tinyModelsDir();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await models.cleanup();
  });

  it('SIGTERM exits 0 within SHUTDOWN_GRACE_MS; close frames carry 1001', async () => {
    const started = await startServer(models.dir);
    child = started.child;
    const url = `ws://127.0.0.1:${started.port}/stream`;
    const exited = new Promise<{ code: number | null; at: number }>((r) =>
      started.child.once('exit', (code) => r({ code, at: Date.now() })),
    );

    // A reader that stays attentive, and a stuck one behind ~1 MB step frames (logits, full detail).
    const reader = await open(url);
    const readerClosed = new Promise<number>((r) => reader.once('close', (code) => r(code)));
    const stuck = await open(url);
    const stuckClosed = new Promise<number>((r) => stuck.once('close', (code) => r(code)));
    let frames = 0;
    const startedFrame = new Promise<void>((r) =>
      stuck.on('message', (d) => {
        frames++;
        if (String(d).startsWith('{"type":"started"')) r();
      }),
    );
    stuck.send(
      JSON.stringify({
        type: 'generate',
        id: 'heavy',
        prompt: 'The capital of France is',
        max_new_tokens: 56,
        hooks: ['logits'],
        detail: 'full',
        logit_lens: false,
        stop_at_eos: false,
      }),
    );
    await startedFrame;
    (stuck as unknown as { _socket: Socket })._socket.pause(); // stops reading: the server's backlog grows
    await new Promise((r) => setTimeout(r, 1500));

    const t0 = Date.now();
    started.child.kill('SIGTERM');
    const { code, at } = await exited;
    expect(code).toBe(0);
    expect(at - t0).toBeLessThan(GRACE);
    expect(await readerClosed).toBe(1001);
    expect(frames).toBeGreaterThan(0);
    // The stuck client never read the close frame; its socket was cut (1006), not left waiting.
    (stuck as unknown as { _socket: Socket })._socket.resume();
    expect([1001, 1006]).toContain(await stuckClosed);
  }, 40_000);
});
