// The page's state <-> the URL query (pure): prompt, model, sampling, interventions, selected token / layer / head,
// and a saved trace to open. Unknown or malformed parameters are dropped, never thrown.
import type { InterventionInput as Intervention } from '../../../src/schemas/interventions.js';

export interface PageState {
  prompt?: string;
  model?: string;
  max_new_tokens?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  seed?: number;
  /** Generated token index on screen. */
  token?: number;
  layer?: number;
  head?: number;
  interventions?: Intervention[];
  /** A saved trace id: the page shows it as stored, without recomputing. */
  trace?: string;
}

const NUMBERS = ['max_new_tokens', 'temperature', 'top_k', 'top_p', 'seed', 'token', 'layer', 'head'] as const;
const TRACE_ID = /^[A-Za-z0-9_-]{16}$/;

/** State -> `?a=b&...` (empty fields left out; interventions as JSON). */
export function stateToQuery(s: PageState): string {
  const q = new URLSearchParams();
  if (s.trace && TRACE_ID.test(s.trace)) q.set('trace', s.trace);
  if (s.prompt !== undefined && s.prompt !== '') q.set('prompt', s.prompt);
  if (s.model) q.set('model', s.model);
  for (const k of NUMBERS) {
    const v = s[k];
    if (v !== undefined && Number.isFinite(v)) q.set(k, String(v));
  }
  if (s.interventions && s.interventions.length > 0) q.set('interventions', JSON.stringify(s.interventions));
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** `?a=b&...` -> state; a parameter that does not parse is left out. */
export function stateFromQuery(search: string): PageState {
  const q = new URLSearchParams(search);
  const s: PageState = {};
  const prompt = q.get('prompt');
  if (prompt !== null) s.prompt = prompt;
  const model = q.get('model');
  if (model) s.model = model;
  for (const k of NUMBERS) {
    const raw = q.get(k);
    if (raw === null || raw.trim() === '') continue;
    const v = Number(raw);
    if (Number.isFinite(v)) s[k] = v;
  }
  const iv = q.get('interventions');
  if (iv) {
    try {
      const parsed = JSON.parse(iv) as unknown;
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))) {
        s.interventions = parsed as Intervention[];
      }
    } catch {
      // a hand-edited link: ignore the broken part
    }
  }
  const trace = q.get('trace');
  if (trace && TRACE_ID.test(trace)) s.trace = trace;
  return s;
}
