// Page entry: wires the prompt form, the live stream, the step panels and the shape-flow section together.
import type { ServerMessage } from '../../src/schemas/stream.js';
import type { TokenizeResponse } from '../../src/schemas/tokenize.js';
import { describeError, isAbort, postJson } from './api.js';
import { byId, h } from './dom.js';
import { applyMessage, newRun, type RunState } from './run-state.js';
import { renderRun } from './run-view.js';
import { followRunModel, initShapes, setShapeSeqLen } from './shapes-panel.js';
import { StreamClient } from './stream-client.js';
import { setTensorContext } from './tensor-panel.js';
import { initNextPanel, updateNextPanel } from './next-panel.js';
import { updateResidPanel } from './resid-panel.js';
import { initAblationPanel, updateAblationPanel } from './ablation-panel.js';
import { initShareToolbar, initialState, openSavedTrace, syncUrl } from './share-toolbar.js';
import type { PageState } from './share/url-state.js';
import { enterRuns, FormError, fillSelect, flagField, generateRequest, readForm } from './views/controls.js';

const form = byId<HTMLFormElement>('run-form');
const promptBox = byId<HTMLTextAreaElement>('prompt');
const modelSelect = byId<HTMLSelectElement>('model');
const runButton = byId<HTMLButtonElement>('run');
const stopButton = byId<HTMLButtonElement>('stop');
const layerSelect = byId<HTMLSelectElement>('layer');
const statusBox = byId('status');

let run: RunState | null = null;
let layer = 0;
let maxNewTokens = 256;
let runCounter = 0;
let redrawQueued = false;
/** The saved trace on screen (opened from /?trace=ID), until the next Run. */
let saved: { id: string; interventions: PageState['interventions'] } | null = null;

function setStatus(kind: 'idle' | 'busy' | 'ok' | 'error', text: string): void {
  statusBox.className = `status ${kind}`;
  statusBox.replaceChildren(kind === 'busy' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : '', text);
}

/** Redraw at most once per animation frame: a fast model sends frames quicker than the page can lay them out. */
function redraw(): void {
  if (redrawQueued) return;
  redrawQueued = true;
  requestAnimationFrame(() => {
    redrawQueued = false;
    if (run) renderRun(run, { layer, onSelectToken: selectToken });
    updateNextPanel(run);
    updateResidPanel(run);
    updateAblationPanel(run, layer);
  });
}

function selectToken(index: number): void {
  if (!run) return;
  run.pinned = index;
  redraw();
  syncUrl();
  // Keep keyboard focus on the chosen chip after the redraw replaced it.
  requestAnimationFrame(() =>
    document.querySelector<HTMLButtonElement>(`#tokens button[data-index="${index}"]`)?.focus(),
  );
}

function setRunning(running: boolean): void {
  runButton.disabled = running;
  stopButton.disabled = !running;
  runButton.textContent = running ? 'Running…' : 'Run';
}

function fillLayers(nLayer: number): void {
  layer = Math.min(layer, Math.max(0, nLayer - 1));
  fillSelect(
    layerSelect,
    Array.from({ length: nLayer }, (_, i) => String(i)),
    String(layer),
  );
  layerSelect.disabled = nLayer === 0;
}

function onMessage(msg: ServerMessage): void {
  if (!run) return;
  if (msg.type === 'error' && msg.id === null) {
    setStatus('error', msg.message);
    return;
  }
  applyMessage(run, msg);
  if (msg.type === 'started' && 'id' in msg && msg.id === run.id) {
    fillLayers(msg.dims.n_layer);
    setStatus('busy', `Generating with ${msg.model}…`);
  }
  if (run.phase === 'error' && run.error) {
    setRunning(false);
    setStatus('error', run.error.message);
  } else if (run.done) {
    setRunning(false);
    const d = run.done;
    const why = {
      length: 'reached the token limit',
      stop: 'hit a stop string',
      eos: 'ended the text',
      cancelled: 'was stopped',
      error: 'failed',
    }[d.reason];
    setStatus(
      d.reason === 'error' ? 'error' : 'ok',
      // Count what the page shows: one chip per generated token, an end-of-text token included.
      `Done: ${run.tokens.length} token${run.tokens.length === 1 ? '' : 's'}, the model ${why} ` +
        `(${d.timings.total_ms.toFixed(0)} ms).${d.detail ? ` ${d.detail}` : ''}`,
    );
  }
  redraw();
}

const client = new StreamClient({
  onMessage,
  onClosed: (detail) => {
    if (run && (run.phase === 'running' || run.phase === 'connecting')) {
      run.phase = 'error';
      run.error = { code: 'stream_closed', message: detail };
      setRunning(false);
      setStatus('error', detail);
      redraw();
    }
  },
});

async function start(): Promise<void> {
  flagField(null);
  let values;
  try {
    values = readForm(maxNewTokens);
  } catch (err) {
    if (err instanceof FormError) {
      flagField(err.field);
      setStatus('error', err.message);
      return;
    }
    throw err;
  }
  saved = null;
  syncUrl();
  runCounter += 1;
  const id = `page-${Date.now().toString(36)}-${runCounter}`;
  run = newRun(id);
  setRunning(true);
  setStatus('busy', 'Connecting to the live stream…');
  redraw();
  try {
    await client.generate(generateRequest(id, values));
  } catch (err) {
    run.phase = 'error';
    setRunning(false);
    setStatus('error', describeError(err));
  }
}

// ---------------------------------------------------------------- prompt length (tokens) and the shape flow

let tokenizeAbort: AbortController | null = null;
let tokenizeTimer: number | undefined;

async function tokenizePrompt(): Promise<void> {
  tokenizeAbort?.abort();
  const ac = new AbortController();
  tokenizeAbort = ac;
  const countEl = byId('token-count');
  try {
    const body = { text: promptBox.value, ...(modelSelect.value ? { model: modelSelect.value } : {}) };
    const res = await postJson<TokenizeResponse>('/tokenize', body, ac.signal);
    countEl.textContent = `${res.count} token${res.count === 1 ? '' : 's'}`;
    if (res.count > 0) setShapeSeqLen(res.count);
  } catch (err) {
    if (isAbort(err)) return;
    countEl.textContent = 'token count unavailable';
  }
}

function scheduleTokenize(): void {
  window.clearTimeout(tokenizeTimer);
  tokenizeTimer = window.setTimeout(() => void tokenizePrompt(), 200);
}

// ---------------------------------------------------------------- wiring

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (!runButton.disabled) void start();
});
enterRuns(promptBox, form);
stopButton.addEventListener('click', () => {
  if (run && run.phase === 'running') client.cancel(run.id);
});
layerSelect.addEventListener('change', () => {
  layer = Number(layerSelect.value);
  redraw();
  syncUrl();
});
promptBox.addEventListener('input', scheduleTokenize);
modelSelect.addEventListener('change', () => {
  scheduleTokenize();
  followRunModel(modelSelect.value);
});
window.addEventListener('resize', () => redraw());

async function boot(): Promise<void> {
  setStatus('busy', 'Connecting…');
  try {
    const hello = await client.connect();
    maxNewTokens = hello.limits.max_new_tokens;
    byId<HTMLInputElement>('max-new-tokens').max = String(maxNewTokens);
    if (hello.models.length === 0) {
      fillSelect(modelSelect, [], '');
      setStatus(
        'error',
        `No runnable model on this server (default "${hello.default_model}" is missing). See the README to add one.`,
      );
      runButton.disabled = true;
    } else {
      const def = hello.models.includes(hello.default_model) ? hello.default_model : hello.models[0];
      fillSelect(modelSelect, hello.models, def);
      setStatus('idle', 'Ready. Press Run or Enter.');
    }
  } catch (err) {
    setStatus('error', describeError(err));
  }
  const opened = initialState();
  applyState(opened);
  if (opened.trace) {
    await openSavedTrace(opened.trace, opened).catch((err: unknown) => setStatus('error', describeError(err)));
  }
  await tokenizePrompt();
}

// ---------------------------------------------------------------- the page state in the URL (share toolbar)

function inputNumber(id: string): number | undefined {
  const raw = byId<HTMLInputElement>(id).value.trim();
  return raw === '' || !Number.isFinite(Number(raw)) ? undefined : Number(raw);
}

function pageState(): PageState {
  return {
    prompt: promptBox.value,
    model: modelSelect.value || undefined,
    max_new_tokens: inputNumber('max-new-tokens'),
    temperature: inputNumber('temperature'),
    top_k: inputNumber('top-k'),
    top_p: inputNumber('top-p'),
    seed: inputNumber('seed'),
    layer,
    token: run?.pinned ?? undefined,
    interventions: saved?.interventions,
    trace: saved?.id,
  };
}

function applyState(st: PageState): void {
  if (st.prompt !== undefined) promptBox.value = st.prompt;
  if (st.model && Array.from(modelSelect.options).some((o) => o.value === st.model)) modelSelect.value = st.model;
  const fields = [
    ['max-new-tokens', st.max_new_tokens],
    ['temperature', st.temperature],
    ['top-k', st.top_k],
    ['top-p', st.top_p],
    ['seed', st.seed],
  ] as const;
  for (const [id, v] of fields) if (v !== undefined) byId<HTMLInputElement>(id).value = String(v);
  if (st.layer !== undefined && Number.isInteger(st.layer) && st.layer >= 0) layer = st.layer;
}

initShareToolbar({
  state: pageState,
  showRun(r, st) {
    saved = st.trace ? { id: st.trace, interventions: st.interventions } : null;
    applyState(st);
    run = r;
    if (r.started) fillLayers(r.started.dims.n_layer);
    const pin = st.token;
    run.pinned = pin !== undefined && Number.isInteger(pin) && pin >= 0 && pin < r.tokens.length ? pin : null;
    redraw();
    syncUrl();
  },
  status: setStatus,
});

initNextPanel();
initAblationPanel(client);
setTensorContext(() => ({ run, layer, prompt: promptBox.value, model: modelSelect.value }));

// The flow starts on the model the page runs (known once the stream said hello).
void boot().then(() => initShapes(() => modelSelect.value || null));
