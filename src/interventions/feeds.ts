// Host side of interventions: the per-call numbers of every edit (see EditKind for what a and b mean).
import { EDIT_KIND, type ResolvedIntervention, editInputA, editInputB } from './types.js';

export interface EditFeed {
  name: string;
  data: Float32Array;
  dims: number[];
}

/**
 * Which entries of a call over absolute positions [past, past + nNew) an intervention selects.
 * Returns, per new position, null (untouched) or the source row to patch from (the absolute position),
 * and the selection over the flattened rest axes [rest] as 0/1.
 */
export function selection(r: ResolvedIntervention, past: number, nNew: number): { rows: boolean[]; inner: Uint8Array } {
  const rows = Array.from({ length: nNew }, (_, t) => {
    const p = past + t;
    if (r.positions === 'all') return true;
    if (r.positions === 'last') return t === nNew - 1;
    return r.positions.includes(p);
  });
  if (r.op === 'patch') {
    const srcLen = (r.source?.length ?? 0) / restSize(r.rest);
    for (let t = 0; t < nNew; t++) if (past + t >= srcLen) rows[t] = false; // beyond the source: untouched
  }
  const size = restSize(r.rest);
  const last = r.rest[r.rest.length - 1];
  const inner = new Uint8Array(size);
  const heads = r.heads ? new Set(r.heads) : null;
  const index = r.index ? new Set(r.index) : null;
  for (let j = 0; j < size; j++) {
    const head = Math.floor(j / last); // only meaningful when rest is [head, last]
    inner[j] = (heads === null || heads.has(head)) && (index === null || index.has(j % last)) ? 1 : 0;
  }
  return { rows, inner };
}

export const restSize = (rest: readonly number[]) => rest.reduce((a, b) => a * b, 1);

/** Feeds of edit i for one forward call: past cached tokens, nNew new ones. */
export function editFeeds(list: readonly ResolvedIntervention[], past: number, nNew: number): EditFeed[] {
  const feeds: EditFeed[] = [];
  list.forEach((r, i) => {
    const size = restSize(r.rest);
    const last = r.rest[r.rest.length - 1];
    const dims = [nNew, ...r.rest];
    const { rows, inner } = selection(r, past, nNew);
    const kind = EDIT_KIND[r.op];
    const a = new Float32Array(kind === 'project' ? last : nNew * size);
    const b = new Float32Array(nNew * size);
    if (kind === 'project') a.set(r.vector as Float32Array);
    else if (kind === 'clamp') a.fill(-Infinity);
    else a.fill(1);
    if (kind === 'clamp') b.fill(Infinity);
    for (let t = 0; t < nNew; t++) {
      if (!rows[t]) continue;
      const o = t * size;
      for (let j = 0; j < size; j++) {
        if (!inner[j]) continue;
        const k = o + j;
        switch (r.op) {
          case 'zero':
            a[k] = 0;
            break;
          case 'scale':
            a[k] = r.factor;
            break;
          case 'add':
            b[k] = (r.vector as Float32Array)[j % last];
            break;
          case 'set':
            a[k] = 0;
            b[k] = (r.vector as Float32Array)[j % last];
            break;
          case 'patch':
            a[k] = 0;
            b[k] = (r.source as Float32Array)[(past + t) * size + j];
            break;
          case 'clamp':
            a[k] = r.min;
            b[k] = r.max;
            break;
          case 'project':
            b[k] = (1 - r.coeff) * (r.vector as Float32Array)[j % last];
            break;
          case 'mean':
            a[k] = 0;
            b[k] = 1;
            break;
        }
      }
    }
    feeds.push({ name: editInputA(i), data: a, dims: kind === 'project' ? [last] : dims });
    feeds.push({ name: editInputB(i), data: b, dims });
  });
  return feeds;
}

/**
 * Whether an edit can still select anything at absolute positions >= `from` (a generation's next tokens): explicit
 * positions are prompt positions, and a patch copies only the positions its source covers.
 */
export function actsFrom(r: ResolvedIntervention, from: number): boolean {
  if (Array.isArray(r.positions) && !r.positions.some((p) => p >= from)) return false;
  if (r.op === 'patch') return (r.sourceIds?.length ?? 0) > from;
  return true;
}
