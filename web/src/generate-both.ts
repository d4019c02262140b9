import type { InterventionRequest as Intervention } from '../../src/schemas/interventions.js';
import type { ServerMessage, StartedMessage } from '../../src/schemas/stream.js';
import { describeError } from './api.js';
import { h } from './dom.js';
import type { StreamClient } from './stream-client.js';
import { type BothState, renderBoth } from './views/both-view.js';

export interface BothRequest {
  model: string;
  tokenIds: number[];
  params: StartedMessage['params'];
  interventions: Intervention[];
  /** What the intervened lane is, in words (its title). */
  label: string;
}

let counter = 0;

/** A running "Generate both"; `stop()` cancels it on the server, `detach()` just stops drawing it. */
export interface BothRun {
  id: string;
  /** Replace the intervened lane's set from its next token on (the stream's `intervene`); `label` says it in words. */
  intervene(list: Intervention[], label: string): void;
  stop(): void;
  detach(): void;
}

const WHY: Record<string, string> = {
  length: 'reached the token limit',
  stop: 'hit a stop string',
  eos: 'ended the text',
  cancelled: 'was cancelled',
  error: 'failed',
  unfinished: 'was cut off when the intervened one ended',
};

export function generateBoth(client: StreamClient, req: BothRequest, out: HTMLElement, onEnd: () => void): BothRun {
  counter += 1;
  const id = `both-${Date.now().toString(36)}-${counter}`;
  const st: BothState = {
    clean: { tokens: [], text: '' },
    intervened: { tokens: [], text: '' },
    diverge: null,
    phase: 'running',
    note: 'Starting both generations…',
    changes: [],
  };
  /** Labels of the `intervene` sets sent, in order: each `intervened` frame answers the oldest. */
  const pendingLabels: string[] = [];
  let live = true;
  const draw = () => {
    if (live) out.replaceChildren(renderBoth(st, `Intervened (${req.label})`));
  };
  const finish = () => {
    if (!live) return;
    draw();
    undo();
    live = false;
    onEnd();
  };
  const undo = client.listen(id, {
    onMessage(msg: ServerMessage) {
      if (msg.type === 'started') st.note = '';
      else if (msg.type === 'intervened') st.changes.push({ from: msg.from_step, label: pendingLabels.shift() ?? '' });
      else if (msg.type === 'token') {
        st.intervened.tokens[msg.index] = msg.token.text;
        st.intervened.text = msg.text;
        const b = msg.baseline;
        if (b) {
          st.clean.tokens[msg.index] = b.token.text;
          st.clean.text = b.text;
        }
        if (st.diverge === null && !b?.same) st.diverge = msg.index;
      } else if (msg.type === 'done') {
        // The lanes keep the token frames' untrimmed text: every token shown, an end-of-text one included and named
        // (as /trace generated.text); done's text is trimmed of it.
        const n = Math.min(st.clean.tokens.length, st.intervened.tokens.length);
        if (st.diverge === null && st.clean.tokens.length !== st.intervened.tokens.length) st.diverge = n;
        st.phase = msg.reason === 'error' ? 'error' : 'done';
        const clean = msg.baseline ? `; the clean one ${WHY[msg.baseline.reason] ?? msg.baseline.reason}` : '';
        st.note = `Done: the intervened generation ${WHY[msg.reason] ?? msg.reason}${clean}.${msg.detail ? ` ${msg.detail}` : ''}`;
        finish();
        return;
      } else if (msg.type === 'error' && msg.seq === undefined && pendingLabels.length > 0) {
        // an `intervene` the server refused: the generation goes on with the set it had
        pendingLabels.shift();
        st.note = `The new set was not applied: ${msg.message}`;
      } else if (msg.type === 'error') {
        st.phase = 'error';
        st.note = msg.message;
        finish();
        return;
      } else return;
      draw();
    },
    onClosed(detail) {
      st.phase = 'error';
      st.note = detail;
      finish();
    },
  });
  draw();
  const p = req.params;
  const sent = client
    .generate({
      id,
      model: req.model,
      token_ids: req.tokenIds,
      // The run's length (a saved trace without a continuation: the server's default).
      max_new_tokens: p.max_new_tokens > 0 ? p.max_new_tokens : undefined,
      temperature: p.temperature,
      top_k: p.top_k,
      top_p: p.top_p,
      seed: p.seed,
      stop: p.stop,
      stop_at_eos: p.stop_at_eos,
      hooks: [],
      logit_lens: false,
      alternatives: 1,
      interventions: req.interventions,
      compare: true,
    })
    .then(
      () => true,
      (err: unknown) => {
        st.phase = 'error';
        st.note = describeError(err);
        finish();
        return false;
      },
    );
  return {
    id,
    intervene: (list, label) => {
      pendingLabels.push(list.length ? label : '');
      void sent.then((ok) => ok && live && client.intervene(id, list));
    },
    // After the generate frame went out (it waits for the connection), or the server would not know the id.
    stop: () => void sent.then((ok) => ok && client.cancel(id)),
    detach: () => {
      undo();
      live = false;
    },
  };
}

export function bothPlaceholder(): HTMLElement {
  return h('p', { class: 'muted' }, 'Generate both: the clean and the intervened text, token by token.');
}
