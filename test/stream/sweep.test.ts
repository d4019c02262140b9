// The stream's `sweep` message: progress frames (cells done / total, rising to the total) and then the same grid as
// POST /sweep; mistakes are error frames for that id and the connection keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/schemas/stream.js';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';

const CAPITAL = [464, 3139, 286, 4881, 318];
const ITALY = [464, 3139, 286, 8031, 318];
const METRIC = { kind: 'logit_diff', tokens: [' Paris', ' Rome'] };

describe('GET /stream sweep', () => {
  let server: StreamServer;
  let c: StreamClient;
  beforeAll(async () => {
    server = await startStreamServer();
    c = await StreamClient.connect(server.url);
  });
  afterAll(async () => {
    c.close();
    await server.close();
  });

  it('sends progress up to the total, then the result POST /sweep gives', async () => {
    const body = { token_ids: CAPITAL, metric: METRIC, sweep: { kind: 'ablate_heads' } };
    const from = c.frames.length;
    c.send({ type: 'sweep', id: 's1', ...body });
    const result = (await c.waitFor((f) => f.type === 'sweep_result' && f.id === 's1', from)) as Extract<
      ServerMessage,
      { type: 'sweep_result' }
    >;
    const progress = c.frames
      .slice(from)
      .filter((f): f is Extract<ServerMessage, { type: 'sweep_progress' }> => f.type === 'sweep_progress');
    expect(progress.length).toBeGreaterThanOrEqual(3); // the grid runs in several batches, so the bar moves
    expect(progress.every((p) => p.total === 12)).toBe(true);
    const done = progress.map((p) => p.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(done.at(-1)).toBe(12);
    expect(c.frames.indexOf(result)).toBeGreaterThan(c.frames.indexOf(progress.at(-1) as ServerMessage));
    const res = await server.app.inject({ method: 'POST', url: '/sweep', payload: body });
    const http = res.json();
    result.result.values.forEach((row, i) => {
      row.forEach((v, j) => {
        expect(v).toBeCloseTo(http.values[i][j], 5);
      });
    });
  });

  it('a bad sweep is an error frame for its id; the connection keeps working', async () => {
    const from = c.frames.length;
    c.send({
      type: 'sweep',
      id: 'bad',
      token_ids: CAPITAL,
      metric: METRIC,
      sweep: { kind: 'patch', hook: 'hook_resid_pre' },
    });
    const err = await c.waitFor((f) => f.type === 'error' && f.id === 'bad', from);
    expect(err).toMatchObject({ code: 'missing_corrupted' });
    c.send({
      type: 'sweep',
      id: 'ok',
      token_ids: CAPITAL,
      corrupted_token_ids: ITALY,
      metric: METRIC,
      sweep: { kind: 'patch', hook: 'hook_resid_pre' },
    });
    const ok = (await c.waitFor((f) => f.type === 'sweep_result' && f.id === 'ok', from)) as Extract<
      ServerMessage,
      { type: 'sweep_result' }
    >;
    expect(ok.result.axes[1].labels).toHaveLength(5);
  });

  it('one sweep at a time per connection', async () => {
    const from = c.frames.length;
    const body = { token_ids: CAPITAL, metric: METRIC, sweep: { kind: 'ablate_heads' } };
    c.send({ type: 'sweep', id: 'a', ...body });
    c.send({ type: 'sweep', id: 'b', ...body });
    const busy = await c.waitFor((f) => f.type === 'error' && f.id === 'b', from);
    expect(busy).toMatchObject({ code: 'sweep_busy' });
    await c.waitFor((f) => f.type === 'sweep_result' && f.id === 'a', from);
  });
});
