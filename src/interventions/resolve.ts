// Request interventions -> resolved interventions: every field checked against the model, 400s naming the field.
import { createHash } from 'node:crypto';
import { assertTokenIds } from '../arch/token-rules.js';
import { badRequest } from '../errors/problem-error.js';
import { dimSize, type HookSite, parseHookName, unknownHook } from '../hooks/catalogue.js';
import type { Applied, InterventionInput } from '../schemas/interventions.js';
import { encode } from '../tokenizer/gpt2-tokenizer.js';
import type { ResolvedIntervention } from './types.js';
import type { ModelFamily } from '../arch/model-dims.js';

/** The model sizes resolution needs (a subset of ModelDims). */
export interface InterventionDims {
  family?: ModelFamily;
  nLayer: number;
  nHead: number;
  /** Key/value heads of grouped-query attention (llama family hook_k / hook_v); omitted = nHead. */
  nKvHeads?: number;
  dModel: number;
  dHead: number;
  dMlp: number;
  dVocab: number;
}

/**
 * Hooks that can be edited: tensors on the forward path with a position axis first and at least one more axis.
 * Not: attention scores / pattern (their key axis spans the cache), LayerNorm scales (a side output, not on the
 * path), logits (nothing reads them) and attn.hook_result (a side output; edit hook_z instead).
 */
export function isIntervenable(site: HookSite): boolean {
  return site.dims[0] === 'pos' && site.dims.length >= 2 && !site.logits && !site.sideOutput;
}

const fieldOf = (i: number, f: string) => `interventions[${i}].${f}`;

function fail(code: string, field: string, detail: string, extra: Record<string, unknown> = {}): never {
  throw badRequest(code, `${field}: ${detail}`, { field, ...extra });
}

function finite(v: number, field: string): number {
  if (!Number.isFinite(v)) fail('non_finite_value', field, `must be a finite number, got ${v}.`);
  return v;
}

/** A JSON array or {base64: float32 LE} -> float32 values of the expected length, all finite. */
export function decodeVector(v: number[] | { base64: string }, length: number, field: string): Float32Array {
  let out: Float32Array;
  if (Array.isArray(v)) out = Float32Array.from(v);
  else {
    const bytes = Buffer.from(v.base64, 'base64');
    if (bytes.length % 4 !== 0 || bytes.length === 0) {
      fail(
        'invalid_vector',
        field,
        `base64 must hold little-endian float32 values (a multiple of 4 bytes), got ${bytes.length} bytes.`,
      );
    }
    out = new Float32Array(bytes.length / 4);
    for (let k = 0; k < out.length; k++) out[k] = bytes.readFloatLE(4 * k);
  }
  if (out.length !== length) {
    fail('vector_length_mismatch', field, `has ${out.length} values; the last axis of this hook has ${length}.`, {
      expected: length,
      got: out.length,
    });
  }
  const bad = out.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) fail('non_finite_value', field, `value ${bad} is ${out[bad]}; every value must be finite.`);
  if (Array.isArray(v)) {
    const wide = v.findIndex((x) => !Number.isFinite(Math.fround(x)));
    if (wide >= 0) fail('non_finite_value', field, `value ${wide} (${v[wide]}) does not fit in float32.`);
  }
  return out;
}

function checkList(list: number[], size: number, field: string, code: string, what: string): number[] {
  const bad = list.filter((h) => h < 0 || h >= size);
  if (bad.length > 0)
    fail(code, field, `${what} ${bad.slice(0, 5).join(', ')} outside [0, ${size - 1}].`, {
      bad: bad.slice(0, 100),
      size,
    });
  return [...new Set(list)].sort((a, b) => a - b);
}

export interface ResolveOptions {
  dims: InterventionDims;
  /** Prompt length: explicit positions are prompt positions (negative from its end). */
  promptLength: number;
  /** MAX_INTERVENTIONS. */
  max: number;
  /** The model's tokenizer for patch sources given as text (default: GPT-2 BPE). */
  encode?: (text: string) => number[];
}

/** Validate and resolve. Patch sources are tokenized here and run later (runPatchSources). */
export function resolveInterventions(list: readonly InterventionInput[], o: ResolveOptions): ResolvedIntervention[] {
  if (list.length > o.max) {
    throw badRequest(
      'too_many_interventions',
      `interventions has ${list.length} entries; the server allows ${o.max} (MAX_INTERVENTIONS).`,
      {
        field: 'interventions',
        max: o.max,
      },
    );
  }
  const d = o.dims;
  return list.map((iv, i) => {
    const parsed = parseHookName(iv.hook, d.nLayer, d.family ?? 'gpt2');
    if (!parsed) throw unknownHook([iv.hook], d.nLayer, d.family ?? 'gpt2', fieldOf(i, 'hook'));
    if (!isIntervenable(parsed.site)) {
      fail(
        'hook_not_intervenable',
        fieldOf(i, 'hook'),
        `${iv.hook} cannot be edited (attention scores/patterns, LayerNorm scales, logits and hook_result are read-only; edit hook_z for a head).`,
      );
    }
    const rest = parsed.site.dims.slice(1).map((w) => dimSize(w, d, { pos: 0, keyPos: 0 }));
    const last = rest[rest.length - 1];
    const headAxis = parsed.site.dims.includes('kv_head')
      ? 'kv_head'
      : parsed.site.dims.includes('head')
        ? 'head'
        : null;
    let heads: number[] | null = null;
    if (iv.heads !== undefined) {
      if (headAxis === null)
        return fail(
          'heads_without_head_axis',
          fieldOf(i, 'heads'),
          `${iv.hook} has no head axis (dims ${parsed.site.dims.join(', ')}).`,
        );
      heads = checkList(
        iv.heads,
        dimSize(headAxis, d, { pos: 0, keyPos: 0 }),
        fieldOf(i, 'heads'),
        'head_out_of_range',
        `has ${headAxis === 'kv_head' ? 'key/value ' : ''}heads`,
      );
    }
    const index =
      iv.index === undefined
        ? null
        : checkList(iv.index, last, fieldOf(i, 'index'), 'index_out_of_range', 'has indices');
    let positions: ResolvedIntervention['positions'];
    if (iv.positions === 'all' || iv.positions === 'last') positions = iv.positions;
    else {
      const T = o.promptLength;
      const bad = iv.positions.filter((p) => p < -T || p >= T);
      if (bad.length > 0) {
        fail(
          'position_out_of_range',
          fieldOf(i, 'positions'),
          `positions ${bad.slice(0, 5).join(', ')} are outside the prompt of ${T} tokens ([${-T}, ${T - 1}]).`,
          { n_tokens: T },
        );
      }
      positions = [...new Set(iv.positions.map((p) => (p < 0 ? T + p : p)))].sort((a, b) => a - b);
    }
    const r: ResolvedIntervention = {
      hook: iv.hook,
      op: iv.op,
      rest,
      heads,
      positions,
      index,
      factor: 1,
      vector: null,
      coeff: 0,
      min: -Infinity,
      max: Infinity,
      sourceIds: null,
      source: null,
    };
    switch (iv.op) {
      case 'scale':
        r.factor = finite(iv.factor, fieldOf(i, 'factor'));
        break;
      case 'add': {
        const v = decodeVector(iv.vector, last, fieldOf(i, 'vector'));
        const s = finite(iv.scale, fieldOf(i, 'scale'));
        r.vector = v.map((x) => x * s);
        if (r.vector.some((x) => !Number.isFinite(x)))
          fail('non_finite_value', fieldOf(i, 'scale'), 'vector x scale overflows float32.');
        break;
      }
      case 'set':
        r.vector = decodeVector(iv.vector, last, fieldOf(i, 'vector'));
        break;
      case 'clamp':
        if (iv.min === undefined && iv.max === undefined)
          fail('invalid_clamp', fieldOf(i, 'min'), 'give min, max or both.');
        r.min = iv.min === undefined ? -Infinity : finite(iv.min, fieldOf(i, 'min'));
        r.max = iv.max === undefined ? Infinity : finite(iv.max, fieldOf(i, 'max'));
        if (r.min > r.max) fail('invalid_clamp', fieldOf(i, 'min'), `min ${r.min} is above max ${r.max}.`);
        break;
      case 'project': {
        if (index)
          fail(
            'index_not_supported',
            fieldOf(i, 'index'),
            'project acts on the whole last axis; give the direction as a full vector instead.',
          );
        const v = decodeVector(iv.vector, last, fieldOf(i, 'vector'));
        const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
        if (!(norm > 0) || !Number.isFinite(norm))
          fail('zero_vector', fieldOf(i, 'vector'), 'the direction must have a non-zero, finite length.');
        r.vector = v.map((x) => x / norm);
        r.coeff = finite(iv.coeff, fieldOf(i, 'coeff'));
        break;
      }
      case 'patch': {
        const ids = 'prompt' in iv.source ? (o.encode ?? encode)(iv.source.prompt) : [...iv.source.token_ids];
        const field = fieldOf(i, 'source');
        if (ids.length === 0) fail('patch_source_length', field, 'the source is empty.');
        assertTokenIds(ids, d.dVocab, field);
        const needed = positions === 'all' || positions === 'last' ? o.promptLength : Math.max(...positions) + 1;
        if (ids.length < needed) {
          fail(
            'patch_source_length',
            field,
            `the source has ${ids.length} tokens but the selected positions need ${needed} (positions map one to one).`,
            {
              source_tokens: ids.length,
              needed,
            },
          );
        }
        r.sourceIds = ids;
        break;
      }
    }
    return r;
  });
}

/** applied[]: each intervention as resolved, with the shape and count of what it touches at the prompt. */
export function describeApplied(list: readonly ResolvedIntervention[], promptLength: number): Applied[] {
  return list.map((r) => {
    const nPos = r.positions === 'all' ? promptLength : r.positions === 'last' ? 1 : r.positions.length;
    const last = r.rest[r.rest.length - 1];
    const shape = [
      nPos,
      ...(r.rest.length === 2 ? [r.heads ? r.heads.length : r.rest[0]] : []),
      r.index ? r.index.length : last,
    ];
    return {
      hook: r.hook,
      op: r.op,
      heads: r.heads,
      positions: r.positions,
      index: r.index,
      shape,
      values: shape.reduce((a, b) => a * b, 1),
    };
  });
}

/** A stable hash of what the interventions do (sha256 over their resolved fields and numbers). */
export function interventionsHash(list: readonly ResolvedIntervention[]): string {
  const h = createHash('sha256');
  for (const r of list) {
    h.update(
      JSON.stringify([r.hook, r.op, r.heads, r.positions, r.index, r.factor, r.coeff, r.min, r.max, r.sourceIds]),
    );
    if (r.vector) h.update(Buffer.from(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength));
    h.update('\n');
  }
  return `sha256:${h.digest('hex')}`;
}
