// Group identical layers: "layers 0-2 dense x3, layers 3-60 MoE x58" instead of 61 copies.
import type { LayerKind } from './spec.js';

export interface LayerGroup {
  /** Stable id, e.g. "dense", "moe", "dense-sliding". */
  id: string;
  kind: LayerKind;
  /** Layer indices in order. */
  indices: number[];
  /** Compact ranges, e.g. "0-2" or "0-4,6-10". */
  ranges: string;
}

/** "0,1,2,5,7,8" -> "0-2,5,7-8". */
export function formatRanges(indices: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < indices.length) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j]! + 1) j++;
    parts.push(j === i ? `${indices[i]}` : `${indices[i]}-${indices[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function id(kind: LayerKind, withWindow: boolean): string {
  if (!withWindow) return kind.mlp;
  return kind.attention.kind === 'sliding' ? `${kind.mlp}-sliding` : `${kind.mlp}-global`;
}

/**
 * Groups layers by MLP kind (parameters) or by MLP kind and attention window (shapes, masks).
 * Groups come out in order of their first layer.
 */
export function groupLayers(layers: readonly LayerKind[], withWindow: boolean): LayerGroup[] {
  const byId = new Map<string, { kind: LayerKind; indices: number[] }>();
  layers.forEach((kind, i) => {
    const key = id(kind, withWindow);
    const g = byId.get(key);
    if (g) g.indices.push(i);
    else byId.set(key, { kind, indices: [i] });
  });
  return [...byId.entries()].map(([key, g]) => ({
    id: key,
    kind: g.kind,
    indices: g.indices,
    ranges: formatRanges(g.indices),
  }));
}
