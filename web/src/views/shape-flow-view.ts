// Shape-flow drawing: every stage as proportional boxes (data blue, weights grey) with exact dims, grouped by block.
import type { z } from 'zod';
import type { StageSchema } from '../../../src/schemas/models.js';
import { h, s, svgRoot } from '../dom.js';
import { formatCompact, formatDims } from '../layout/format.js';
import { linearScale } from '../layout/scale.js';
import { layoutStage, type FlowOperand, type FlowStage, type StageLayoutOptions } from '../layout/shape-flow.js';

type Stage = z.infer<typeof StageSchema>;
type TensorRef = Stage['output'];

export interface LayerGroupInfo {
  id: string;
  /** "0-31" style ranges. */
  layers: string;
  count: number;
}

/** Vectors (biases, norm gains) are listed in the text, not drawn: they would add a box per stage and no insight. */
const isMatrix = (t: TensorRef) => t.shape.length >= 2;

/** Short display name: drop the `blocks.{i}.` prefix and hook_ words, keep TL names recognisable. */
export function shortName(name: string): string {
  return name
    .replace(/^blocks\.\d+\./, '')
    .replace(/^attn\.hook_|^hook_|\.hook_/g, (m) => (m.startsWith('.') ? '.' : ''));
}

const drawsWeights = (op: string) => op === 'matmul' || op === 'lookup';

/**
 * Which tensors a stage draws, in equation order. Matmuls and lookups draw their weight matrices between the data
 * ([5, 768] x [768, 64]); other ops draw only their data inputs (a gathered W_pos row block is named in the text).
 */
export function flowStage(stage: Stage): FlowStage {
  // Per-head stages draw every per-head tensor as a stack; the shared input (the normalised residual) stays single.
  const heads = stage.per_head && stage.heads ? stage.heads : 1;
  const sharedInput = (t: TensorRef) => heads > 1 && stage.weights.some(isMatrix) && t === stage.inputs[0];
  const data: FlowOperand[] = stage.inputs.map((t) => ({
    dims: t.shape,
    role: 'data',
    name: shortName(t.name),
    copies: sharedInput(t) ? 1 : heads,
  }));
  const output: FlowOperand = {
    dims: stage.output.shape,
    role: 'data',
    name: shortName(stage.output.name),
    copies: heads,
  };
  if (!drawsWeights(stage.op)) return { op: stage.op, operands: data, output };
  const weights: FlowOperand[] = stage.weights
    .filter(isMatrix)
    .map((t) => ({ dims: t.shape, role: 'weight', name: shortName(t.name), copies: heads }));
  return { op: stage.op, operands: [...data.slice(0, 1), ...weights, ...data.slice(1)], output };
}

/** `[5, 768] x [768, 64] = [5, 64]`, `[5, 768] + [5, 768] = [5, 768]`, `softmax([12, 5, 5]) = ...`, then the undrawn weights. */
export function equation(stage: Stage): string {
  const f = flowStage(stage);
  const drawn = new Set(f.operands.filter((o) => o.role === 'weight').map((o) => o.name));
  const extra = stage.weights
    .filter((t) => !drawn.has(shortName(t.name)))
    .map((t) => `${shortName(t.name)} ${formatDims(t.shape)}`);
  const dims = f.operands.map((o) => formatDims(o.dims));
  let lhs: string;
  if (stage.op === 'matmul') lhs = dims.join(' × ');
  else if (stage.op === 'lookup') lhs = dims.join(' → ');
  else if (stage.op === 'add' || stage.op === 'combine') lhs = dims.join(' + ');
  else lhs = `${stage.op}(${dims.join(', ')})`;
  return `${lhs} = ${formatDims(stage.output.shape)}${extra.length ? ` · with ${extra.join(', ')}` : ''}`;
}

export interface FlowViewOptions {
  /** Draw dimensions in true proportion (one linear scale for the whole flow) and every head of a stack. */
  trueSize?: boolean;
}

/** Largest dimension any stage draws: the true-size scale gives it the full width. */
export function largestDrawnDim(stages: readonly Stage[]): number {
  let max = 1;
  for (const st of stages) {
    const f = flowStage(st);
    for (const o of [...f.operands, ...(f.output ? [f.output] : [])])
      for (const d of o.dims.slice(-2)) if (d > max) max = d;
  }
  return max;
}

/** Layout options of one stage: the compact log scale, or true proportions with every copy of a stack drawn. */
export function stageLayoutOptions(stage: Stage, maxDim: number, opts: FlowViewOptions): StageLayoutOptions {
  if (!opts.trueSize) return {};
  const heads = stage.per_head && stage.heads ? stage.heads : 1;
  return { scale: linearScale(maxDim), maxStack: 128, stackOffset: heads > 64 ? 1 : 2 };
}

export function renderStage(stage: Stage, layoutOptions: StageLayoutOptions = {}): HTMLElement {
  const layout = layoutStage(flowStage(stage), layoutOptions);
  const svg = svgRoot(layout.width + 8, layout.height + 4, {
    class: 'tensor',
    role: 'img',
    'aria-label': `${stage.name}: ${equation(stage)}`,
  });
  const g = s('g', { transform: 'translate(4,2)' });
  for (const b of layout.boxes) {
    for (let k = b.depth; k >= 1; k--) {
      // Copies behind, offset up-right: a stack of heads (or experts).
      g.append(s('rect', { x: b.x + k * 4, y: b.y - k * 4, width: b.w, height: b.h, class: b.role, opacity: 0.55 }));
    }
    g.append(
      s('rect', {
        x: b.x,
        y: b.y,
        width: b.w,
        height: b.h,
        class: b.role,
        'data-role': b.role,
        'data-dims': b.label,
        'data-copies': b.depth + 1,
      }),
    );
    if (b.name) g.append(s('text', { x: b.labelX, y: 11, class: 'name', 'text-anchor': 'middle' }, b.name));
    g.append(
      s('text', { x: b.labelX, y: b.labelY, class: 'dims', 'text-anchor': 'middle', 'data-dims': b.label }, b.label),
    );
  }
  for (const sym of layout.symbols)
    g.append(s('text', { x: sym.x, y: sym.y + 5, class: 'symbol', 'text-anchor': 'middle' }, sym.text));
  svg.append(g);

  const heads = stage.per_head && stage.heads ? `× ${stage.heads} heads` : '';
  const all = stage.all_heads
    ? `all heads: ${stage.all_heads.weights ? `${formatDims(stage.all_heads.weights)} → ` : ''}${formatDims(stage.all_heads.output)}`
    : '';
  return h(
    'div',
    { class: 'stage', 'data-stage': stage.id, 'data-op': stage.op },
    h(
      'div',
      { class: 'stage-text' },
      h('h4', {}, stage.name, heads ? h('span', { class: 'heads-badge' }, ` ${heads}`) : null),
      h('p', { class: 'eq' }, equation(stage)),
      all ? h('p', {}, all) : null,
      h(
        'p',
        {},
        stage.flops > 0 ? `${formatCompact(stage.flops)} FLOPs` : 'no FLOPs (data movement)',
        stage.note ? ` · ${stage.note}` : '',
      ),
    ),
    h('div', { class: 'stage-draw' }, svg),
  );
}

/** Stages in order; consecutive stages of one layer group sit in a box titled with the layers it stands for. */
export function renderShapeFlow(
  stages: readonly Stage[],
  groups: readonly LayerGroupInfo[],
  opts: FlowViewOptions = {},
): HTMLElement {
  const root = h('div', { class: opts.trueSize ? 'flow true-size' : 'flow' });
  const maxDim = largestDrawnDim(stages);
  const draw = (st: Stage) => renderStage(st, stageLayoutOptions(st, maxDim, opts));
  let current: { id: string; el: HTMLElement } | null = null;
  for (const st of stages) {
    if (st.layer_group === null) {
      current = null;
      root.append(draw(st));
      continue;
    }
    if (!current || current.id !== st.layer_group) {
      const info = groups.find((g) => g.id === st.layer_group);
      const title = info
        ? `Transformer block × ${info.count} (layers ${info.layers}) — drawn once for layer ${st.layer}`
        : `Transformer block (layer ${st.layer})`;
      // Collapsible: a group of identical layers (dense, MoE, MLA, sliding-window) can be folded away.
      const el: HTMLElement = h(
        'details',
        { class: 'block-group', 'data-group': st.layer_group, open: true },
        h('summary', { class: 'group-title' }, title),
      );
      root.append(el);
      current = { id: st.layer_group, el };
    }
    current.el.append(draw(st));
  }
  return root;
}
