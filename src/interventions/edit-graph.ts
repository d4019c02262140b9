// Graph side of interventions: edit nodes at the intervened hooks, their numbers fed per call as inputs.
import { DT, type GraphBuilder } from '../graph/onnx-builder.js';
import { type EditSlot, editInputA, editInputB } from './types.js';

/**
 * Register the edits on a graph builder before the model graph is built: each intervened hook's tensor is
 * rewritten in place (GraphBuilder.intercept), edits at one hook chained in order. `pos` is the graph's
 * symbol for the new positions. Shapes: x [pos, ...rest]; inputs a, b [pos, ...rest] (project: a [last]).
 */
export function addEdits(g: GraphBuilder, slots: readonly EditSlot[], pos: string): void {
  const byHook = new Map<string, number[]>();
  slots.forEach((s, i) => {
    byHook.set(s.hook, [...(byHook.get(s.hook) ?? []), i]);
  });
  for (const [hook, indices] of byHook) {
    for (const i of indices) {
      const s = slots[i];
      const last = s.rest[s.rest.length - 1];
      g.input(editInputA(i), DT.FLOAT, s.kind === 'project' ? [last] : [pos, ...s.rest]);
      g.input(editInputB(i), DT.FLOAT, [pos, ...s.rest]);
    }
    g.intercept(hook, (raw) => {
      let x = raw;
      indices.forEach((i, k) => {
        const out = k === indices.length - 1 ? hook : undefined;
        x = editNodes(g, slots[i], x, editInputA(i), editInputB(i), out, `edit.${i}`);
      });
    });
  }
}

function editNodes(
  g: GraphBuilder,
  s: EditSlot,
  x: string,
  a: string,
  b: string,
  out: string | undefined,
  scope: string,
) {
  switch (s.kind) {
    case 'affine': // x * a + b
      return g.op('Add', [g.op('Mul', [x, a], undefined, {}, scope), b], out, {}, scope);
    case 'clamp': // min(max(x, lo), hi)
      return g.op('Min', [g.op('Max', [x, a], undefined, {}, scope), b], out, {}, scope);
    case 'project': {
      // [pos, ..., last] . [last] -> [pos, ..., 1]; x - d * b
      const d = g.op(
        'ReduceSum',
        [g.op('Mul', [x, a], undefined, {}, scope), lastAxis(g, scope)],
        undefined,
        { keepdims: 1 },
        scope,
      );
      return g.op('Sub', [x, g.op('Mul', [d, b], undefined, {}, scope)], out, {}, scope);
    }
    case 'mean': {
      // mean over the call's positions: [pos, ...rest] -> [1, ...rest]; x * a + mean * b
      const m = g.op('ReduceMean', [x], undefined, { axes: [0], keepdims: 1 }, scope);
      return g.op(
        'Add',
        [g.op('Mul', [x, a], undefined, {}, scope), g.op('Mul', [m, b], undefined, {}, scope)],
        out,
        {},
        scope,
      );
    }
  }
}

function lastAxis(g: GraphBuilder, scope: string): string {
  return g.constInt64(`${scope}/last_axis`, [-1]);
}
