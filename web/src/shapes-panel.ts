// The shape-flow section: pick any known architecture and a token count, draw its stages and parameter breakdown.
import type { z } from 'zod';
import type {
  ModelDetailSchema,
  ModelListSchema,
  ParamsReportSchema,
  ShapesReportSchema,
} from '../../src/schemas/models.js';
import { describeError, getJson, isAbort } from './api.js';
import { byId, h } from './dom.js';
import { formatCompact } from './layout/format.js';
import { renderParams } from './views/params-view.js';
import { renderPublished } from './views/published-view.js';
import { renderShapeFlow } from './views/shape-flow-view.js';
import { attachStages } from './tensor-panel.js';

type ModelList = z.infer<typeof ModelListSchema>;
type ShapesReport = z.infer<typeof ShapesReportSchema>;
type ParamsReport = z.infer<typeof ParamsReportSchema>;
type ModelDetail = z.infer<typeof ModelDetailSchema>;

/** The last drawn flow, redrawn without a request when the true-size toggle changes. */
let drawn: { name: string; shapes: ShapesReport; params: ParamsReport; display: string } | null = null;
const trueSize = () => byId<HTMLInputElement>('true-size').checked;

function drawFlow(): void {
  if (!drawn) return;
  const { name, shapes, params, display } = drawn;
  const flow = renderShapeFlow(shapes.stages, shapes.layer_groups, { trueSize: trueSize() });
  attachStages(flow, shapes.stages, name === runModel());
  byId('shape-flow').replaceChildren(summary(shapes, params, display), flow);
  byId('scale-legend').textContent = trueSize()
    ? 'true proportions: one linear scale for the whole flow, every head of a stack drawn'
    : 'boxes on a log scale, labels exact';
}

const select = () => byId<HTMLSelectElement>('shape-model');
const seqInput = () => byId<HTMLInputElement>('seq-len');

let abort: AbortController | null = null;
/** Once the user types a token count, the prompt length stops overwriting it. */
let seqLenTouched = false;
/** Once the user picks an architecture, the run model stops overwriting it. */
let modelTouched = false;
/** The model the page runs: its stages open their real values. */
let runModel: () => string | null = () => null;

function fillModels(list: ModelList, preferred: string | null): void {
  const byFamily = new Map<string, ModelList['models']>();
  for (const m of list.models) byFamily.set(m.family, [...(byFamily.get(m.family) ?? []), m]);
  const groups = [...byFamily.entries()].map(([family, models]) =>
    h(
      'optgroup',
      { label: family },
      ...models.map((m) =>
        h('option', { value: m.name }, m.runnable ? `${m.display_name} · runnable` : m.display_name),
      ),
    ),
  );
  select().replaceChildren(...groups);
  const names = list.models.map((m) => m.name);
  select().value =
    preferred && names.includes(preferred) ? preferred : (names.find((n) => n === 'gpt2') ?? names[0] ?? '');
}

function summary(shapes: ShapesReport, params: ParamsReport, display: string): HTMLElement {
  const groups = shapes.layer_groups
    .map((g) => `${g.count}× ${g.mlp}${g.attention === 'sliding' ? ' sliding-window' : ''}`)
    .join(' + ');
  const active = params.active !== null ? ` (${formatCompact(params.active)} active per token)` : '';
  return h(
    'p',
    { class: 'flow-summary' },
    h('strong', {}, display),
    ` · ${formatCompact(params.total)} parameters${active} · layers: ${groups} · ${shapes.seq_len} token${shapes.seq_len === 1 ? '' : 's'} × batch ${shapes.batch}`,
    ` · forward pass ${formatCompact(shapes.totals.forward_flops)} FLOPs (${formatCompact(shapes.totals.flops_per_token)} per token)`,
  );
}

/** Fetch and draw the flow for the selected architecture and token count; shows loading and problem details. */
async function load(): Promise<void> {
  const name = select().value;
  if (!name) return;
  const seq = Number(seqInput().value);
  const flowBox = byId('shape-flow');
  const paramsBox = byId('params');
  if (!Number.isInteger(seq) || seq < 1) {
    seqInput().setAttribute('aria-invalid', 'true');
    flowBox.replaceChildren(h('p', { class: 'status error' }, 'Tokens must be a whole number of at least 1.'));
    return;
  }
  seqInput().removeAttribute('aria-invalid');
  abort?.abort();
  const ac = new AbortController();
  abort = ac;
  flowBox.setAttribute('aria-busy', 'true');
  flowBox.replaceChildren(
    h(
      'p',
      { class: 'status busy' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      `Computing the shape flow of ${name}…`,
    ),
  );
  const enc = encodeURIComponent(name);
  try {
    const [shapes, params, detail] = await Promise.all([
      getJson<ShapesReport>(`/models/${enc}/shapes?seq_len=${seq}&batch=1`, ac.signal),
      getJson<ParamsReport>(`/models/${enc}/params`, ac.signal),
      getJson<ModelDetail>(`/models/${enc}`, ac.signal).catch(() => null),
    ]);
    const display = select().selectedOptions[0]?.textContent?.replace(/ · runnable$/, '') ?? name;
    drawn = { name, shapes, params, display };
    drawFlow();
    paramsBox.replaceChildren(
      renderParams(params),
      detail ? renderPublished(detail.published, detail.computed, detail.source.params) : '',
    );
  } catch (err) {
    if (isAbort(err)) return;
    flowBox.replaceChildren(h('p', { class: 'status error', role: 'alert' }, describeError(err)));
    paramsBox.replaceChildren();
  } finally {
    if (abort === ac) flowBox.removeAttribute('aria-busy');
  }
}

let timer: number | undefined;
function scheduleLoad(delay = 250): void {
  window.clearTimeout(timer);
  timer = window.setTimeout(() => void load(), delay);
}

/** The prompt's token count becomes the flow's sequence length until the user sets one. */
export function setShapeSeqLen(n: number): void {
  if (seqLenTouched || String(n) === seqInput().value) return;
  seqInput().value = String(n);
  scheduleLoad();
}

/** The model chosen for running becomes the drawn architecture until the user picks one. */
export function followRunModel(name: string): void {
  if (modelTouched || !name || select().value === name) return;
  if (!Array.from(select().options).some((o) => o.value === name)) return;
  select().value = name;
  scheduleLoad(0);
}

export async function initShapes(preferredModel: () => string | null): Promise<void> {
  runModel = preferredModel;
  byId('true-size').addEventListener('change', drawFlow);
  select().addEventListener('change', () => {
    modelTouched = true;
    scheduleLoad(0);
  });
  seqInput().addEventListener('input', () => {
    seqLenTouched = true;
    scheduleLoad(400);
  });
  seqInput().addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      seqLenTouched = true;
      scheduleLoad(0);
    }
  });
  try {
    const list = await getJson<ModelList>('/models');
    fillModels(list, preferredModel());
    await load();
  } catch (err) {
    select().replaceChildren(h('option', { value: '' }, 'unavailable'));
    byId('shape-flow').replaceChildren(h('p', { class: 'status error', role: 'alert' }, describeError(err)));
  }
}
