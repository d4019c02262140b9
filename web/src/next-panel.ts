// "Drawn from": the full next-token distribution of the shown step, fetched once (its logits row via POST /trace),
// then reshaped live in the page by the temperature / top-k / top-p controls — no request per change.
import type { TraceResponse } from '../../src/schemas/trace.js';
import { describeError, isAbort, postJson } from './api.js';
import { byId, h } from './dom.js';
import { type Reshape, reshape } from './layout/distribution.js';
import { traceBodyFor } from './layout/tensor-request.js';
import { type RunState, shownIndex } from './run-state.js';
import { renderDistribution } from './views/distribution-view.js';

interface Row {
  key: string;
  logits: number[];
  texts: Map<number, string>;
  chosenId: number;
}

let row: Row | null = null;
let pending: string | null = null;
let abort: AbortController | null = null;
let controlsFor: string | null = null;
/** The sampling parameters of the run on screen, for "Reset". */
let runParams: Reshape = { temperature: 0, topK: 0, topP: 1 };

const temp = () => byId<HTMLInputElement>('dist-temperature');
const topK = () => byId<HTMLInputElement>('dist-top-k');
const topP = () => byId<HTMLInputElement>('dist-top-p');

function readControls(): Reshape {
  const t = Number(temp().value);
  const k = Number(topK().value);
  const p = Number(topP().value);
  return {
    temperature: Number.isFinite(t) && t >= 0 ? t : 1,
    topK: Number.isInteger(k) && k >= 0 ? k : 0,
    topP: Number.isFinite(p) && p > 0 && p <= 1 ? p : 1,
  };
}

function setControls(r: Reshape): void {
  temp().value = String(r.temperature);
  topK().value = String(r.topK);
  topP().value = String(r.topP);
}

function draw(): void {
  byId('dist-temperature-value').textContent = Number(temp().value).toFixed(2);
  if (!row) return;
  byId('dist').replaceChildren(renderDistribution({ dist: reshape(row.logits, readControls()), ...row }));
}

function sequenceIds(run: RunState): number[] {
  const ids = (run.started?.prompt_tokens ?? []).map((t) => t.id);
  for (const t of run.tokens) if (t) ids[t.position] = t.token.id;
  return ids;
}

async function fetchRow(run: RunState, index: number, key: string): Promise<void> {
  const tok = run.tokens[index];
  if (!tok || !run.started) return;
  abort?.abort();
  const ac = new AbortController();
  abort = ac;
  pending = key;
  byId('dist').replaceChildren(
    h(
      'p',
      { class: 'status busy' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      'Fetching the logits row…',
    ),
  );
  try {
    // The predicting position is the one before the token's.
    const body = traceBodyFor(
      run.started.model,
      sequenceIds(run),
      { positions: [tok.position - 1] },
      { hook: 'logits', lastOnly: true },
    );
    const res = await postJson<TraceResponse>('/trace', { ...body, top_k: 20 }, ac.signal);
    const values = (res.hooks[0]?.values ?? []) as (number | null)[]; // parsed JSON: a plain array
    row = {
      key,
      logits: values.map((v) => (v === null ? Number.NEGATIVE_INFINITY : Math.fround(v))), // the float32 logits
      texts: new Map(res.top_k.map((t) => [t.id, t.text])),
      chosenId: tok.token.id,
    };
    for (const a of tok.alternatives) row.texts.set(a.id, a.text);
    row.texts.set(tok.token.id, tok.token.text);
    draw();
  } catch (err) {
    if (isAbort(err)) return;
    byId('dist').replaceChildren(h('p', { class: 'status error', role: 'alert' }, describeError(err)));
  } finally {
    if (pending === key) pending = null;
  }
}

/**
 * Called on every redraw: once the run is finished (or a token is pinned), fetch the shown step's logits once and
 * set the controls to the run's sampling parameters; afterwards only the controls change the bars.
 */
export function updateNextPanel(run: RunState | null): void {
  if (!run) return;
  const index = shownIndex(run);
  const tok = run.tokens[index];
  const settled = run.done !== null || run.pinned !== null;
  if (!tok || !settled) {
    if (!tok) byId('dist').replaceChildren(h('p', { class: 'muted' }, 'After the run: the full distribution, live.'));
    return;
  }
  const key = `${run.id}:${index}`;
  if (controlsFor !== run.id) {
    controlsFor = run.id;
    const s = tok.sampling;
    runParams = { temperature: s.temperature, topK: s.top_k, topP: s.top_p };
    setControls(runParams);
  }
  if (row?.key === key || pending === key) return;
  void fetchRow(run, index, key);
}

export function initNextPanel(): void {
  for (const el of [temp(), topK(), topP()]) el.addEventListener('input', draw);
  byId('dist-reset').addEventListener('click', () => {
    setControls(runParams);
    draw();
  });
  draw();
}
