// Sweeps from the page over the stream: every head ablated in turn, or the clean residual patched into the source
// prompt's run at every layer and position; a progress bar from sweep_progress, then the grid (views/sweep-view.ts).
import type { Metric } from '../../src/schemas/interventions.js';
import type { ServerMessage } from '../../src/schemas/stream.js';
import type { TraceResponse } from '../../src/schemas/trace.js';
import { describeError, postJson } from './api.js';
import { h } from './dom.js';
import type { StreamClient, SweepStreamRequest } from './stream-client.js';
import { renderSweep, renderSweepProgress } from './views/sweep-view.js';

export interface SweepTarget {
  model: string;
  /** The clean input: the shown run's tokens before the shown token. */
  tokenIds: number[];
  /** The shown token's text (the metric's token). */
  target: string;
  targetId: number;
}

let counter = 0;
let detachLive: (() => void) | null = null;

/** Stop drawing a running sweep (a redraw for another token or layer); the server finishes it unobserved. */
export function detachSweep(): void {
  detachLive?.();
  detachLive = null;
}

function run(
  client: StreamClient,
  label: string,
  body: Omit<SweepStreamRequest, 'id'>,
  out: HTMLElement,
  draw: (r: Extract<ServerMessage, { type: 'sweep_result' }>['result']) => HTMLElement,
  onEnd: (retry?: 'metric') => void,
): void {
  detachSweep();
  counter += 1;
  const id = `sweep-${Date.now().toString(36)}-${counter}`;
  let frames = 0;
  let live = true;
  const end = (node: HTMLElement, retry?: 'metric') => {
    if (!live) return;
    out.replaceChildren(node);
    out.dataset.progressFrames = String(frames);
    undo();
    live = false;
    detachLive = null;
    onEnd(retry);
  };
  const undo = client.listen(id, {
    onMessage(msg) {
      if (!live) return;
      if (msg.type === 'sweep_progress') {
        frames += 1;
        out.dataset.progressFrames = String(frames);
        out.replaceChildren(renderSweepProgress(label, msg.done, msg.total));
      } else if (msg.type === 'sweep_result') end(draw(msg.result));
      else if (msg.type === 'error')
        end(
          h('p', { class: 'status error', role: 'alert' }, msg.message),
          msg.code === 'metric_token_not_single' && body.metric.kind === 'logit_diff' ? 'metric' : undefined,
        );
    },
    onClosed(detail) {
      end(h('p', { class: 'status error', role: 'alert' }, detail));
    },
  });
  detachLive = () => {
    undo();
    live = false;
  };
  out.dataset.progressFrames = '0';
  out.replaceChildren(renderSweepProgress(label, 0, 0));
  client
    .sweep({ id, ...body })
    .catch((err: unknown) => end(h('p', { class: 'status error', role: 'alert' }, describeError(err))));
}

/** Zero each head of each layer in turn; the metric is p(the shown token). */
export function sweepHeads(client: StreamClient, t: SweepTarget, out: HTMLElement, onEnd: () => void): void {
  run(
    client,
    'Ablating every head',
    {
      model: t.model,
      token_ids: t.tokenIds,
      metric: { kind: 'prob', token: t.target },
      sweep: { kind: 'ablate_heads', op: 'zero' },
    },
    out,
    (r) => renderSweep(r, { maxWidth: out.clientWidth || 600, target: t.target, other: null, source: null }),
    onEnd,
  );
}

/**
 * Patch the clean run's hook_resid_pre into the source prompt's run, one (layer, position) per cell (denoising, as
 * in docs/interventions.md): where must the clean values be to bring the shown token back? The metric is
 * logit(shown token) − logit(the source run's own top token), or p(shown token) when the two agree.
 */
export async function sweepPatch(
  client: StreamClient,
  t: SweepTarget,
  source: string,
  out: HTMLElement,
  onEnd: () => void,
): Promise<void> {
  out.replaceChildren(renderSweepProgress('Patching every layer and position', 0, 0));
  let other: string | null = null;
  try {
    const ref = await postJson<TraceResponse>('/trace', {
      model: t.model,
      prompt: source,
      hooks: [],
      logit_lens: false,
      top_k: 1,
    });
    const top = ref.top_k[0];
    if (top && top.id !== t.targetId) other = top.text;
  } catch (err) {
    out.replaceChildren(h('p', { class: 'status error', role: 'alert' }, describeError(err)));
    onEnd();
    return;
  }
  const start = (metric: Metric, otherText: string | null) =>
    run(
      client,
      'Patching every layer and position',
      {
        model: t.model,
        token_ids: t.tokenIds,
        corrupted: source,
        metric,
        sweep: { kind: 'patch', hook: 'hook_resid_pre', over: ['layer', 'position'] },
      },
      out,
      (r) => renderSweep(r, { maxWidth: out.clientWidth || 600, target: t.target, other: otherText, source }),
      (retry) => {
        // The source's top token may not be one token when re-read as text: measure p(shown token) instead.
        if (retry === 'metric') start({ kind: 'prob', token: t.target }, null);
        else onEnd();
      },
    );
  start(other === null ? { kind: 'prob', token: t.target } : { kind: 'logit_diff', tokens: [t.target, other] }, other);
}
