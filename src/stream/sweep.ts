// The stream's `sweep` message: the grid of POST /sweep, with `sweep_progress` frames (cells done / total) before
// the `sweep_result` frame, so a page or a CLI can draw a progress bar. One sweep at a time per connection.
import { ProblemError } from '../errors/problem-error.js';
import type { SweepMessage } from '../schemas/stream.js';
import { runSweep } from '../sweep/run-sweep.js';
import type { ConnectionContext } from './connection.js';
import type { Peer } from './peer.js';

/** Batches a streamed sweep is cut into at least, so progress moves more than once. */
export const STREAM_SWEEP_BATCHES = 6;

const running = new WeakSet<Peer>();

export function streamSweep(msg: SweepMessage, peer: Peer, ctx: ConnectionContext): void {
  const { type: _type, id, ...req } = msg;
  if (running.has(peer)) {
    peer.send({
      type: 'error',
      id,
      code: 'sweep_busy',
      message: 'This connection already runs a sweep; wait for its sweep_result.',
    });
    return;
  }
  running.add(peer);
  let last = -1;
  const progress = (done: number, total: number) => {
    if (done === last) return;
    last = done;
    peer.send({ type: 'sweep_progress', id, done, total });
  };
  runSweep(req, ctx.registry, ctx.config, progress, STREAM_SWEEP_BATCHES)
    .then(
      (result) => peer.send({ type: 'sweep_result', id, result }),
      (err: unknown) => {
        if (err instanceof ProblemError) peer.send({ type: 'error', id, code: err.code, message: err.detail });
        else {
          ctx.log.error({ err }, 'stream sweep failed');
          peer.send({ type: 'error', id, code: 'internal_error', message: 'The sweep failed; the error was logged.' });
        }
      },
    )
    .finally(() => running.delete(peer));
}
