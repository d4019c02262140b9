// The requests and commands the share toolbar hands out, from the page state (pure).
import { PAGE_HOOKS } from '../views/controls.js';
import type { PageState } from './url-state.js';

/** POST /trace and POST /traces body that reproduces the page's prompt pass (greedy continuation when asked). */
export function traceBody(s: PageState): Record<string, unknown> {
  return {
    prompt: s.prompt ?? '',
    ...(s.model ? { model: s.model } : {}),
    hooks: PAGE_HOOKS,
    positions: 'all',
    histogram_bins: 40,
    top_k: 10,
    ...(s.max_new_tokens ? { max_new_tokens: s.max_new_tokens } : {}),
    ...(s.interventions?.length ? { interventions: s.interventions } : {}),
  };
}

/** POST /trace body of the .safetensors download: every hook of the prompt pass. */
export function exportBody(s: PageState): Record<string, unknown> {
  return {
    prompt: s.prompt ?? '',
    ...(s.model ? { model: s.model } : {}),
    hooks: ['*'],
    format: 'safetensors',
    ...(s.interventions?.length ? { interventions: s.interventions } : {}),
  };
}

/** A single-quoted shell word. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function curlCommand(origin: string, s: PageState): string {
  return (
    `curl -s -X POST ${origin}/trace -H 'content-type: application/json' \\\n` +
    `  -d ${shellQuote(JSON.stringify(traceBody(s)))}`
  );
}

/** A JSON value as a Python literal (True/False/None; strings in JSON's escapes, which Python reads alike). */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number' || typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${pyLiteral(x)}`);
  return `{${entries.join(', ')}}`;
}

export function pythonSnippet(origin: string, s: PageState): string {
  const args = [pyLiteral(s.prompt ?? '')];
  if (s.model) args.push(`model=${pyLiteral(s.model)}`);
  if (s.interventions?.length) args.push(`interventions=${pyLiteral(s.interventions)}`);
  const layer = s.layer ?? 0;
  const head = s.head ?? 0;
  return [
    '# PYTHONPATH=clients/python (from the tensortrace repository); needs numpy',
    'from tensortrace import TensorTrace',
    `tt = TensorTrace(${pyLiteral(origin)})`,
    `logits, cache = tt.run_with_cache(${args.join(', ')})`,
    `pattern = cache["blocks.${layer}.attn.hook_pattern"][0, ${head}]  # [query_pos, key_pos]`,
    'print(logits.shape, pattern.shape)',
  ].join('\n');
}
