// The prompt form: reads and checks the controls into a `generate` frame; Enter runs, Shift+Enter adds a line.
import type { GenerateRequest } from '../stream-client.js';
import { byId, h } from '../dom.js';

/** Hooks the page draws: residual norms, attention patterns, MLP activations (the stream expands the globs). */
export const PAGE_HOOKS = [
  'blocks.0.hook_resid_pre',
  'blocks.*.hook_resid_post',
  'blocks.*.attn.hook_pattern',
  'blocks.*.mlp.hook_post',
];

/** Prefill rows beyond this many positions are not requested: the heatmap would be unreadable and the frame large. */
export const MAX_PREFILL_ROWS = 64;

export interface FormValues {
  prompt: string;
  model: string;
  max_new_tokens: number;
  temperature: number;
  top_k: number;
  top_p: number;
  seed: number | undefined;
}

export class FormError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function num(
  id: string,
  label: string,
  opts: { int?: boolean; min: number; max?: number; optional?: boolean },
): number | undefined {
  const input = byId<HTMLInputElement>(id);
  const raw = input.value.trim();
  if (raw === '' && opts.optional) return undefined;
  const v = Number(raw);
  const bad =
    raw === '' ||
    !Number.isFinite(v) ||
    (opts.int && !Number.isInteger(v)) ||
    v < opts.min ||
    (opts.max !== undefined && v > opts.max);
  if (bad) {
    const range = opts.max !== undefined ? `between ${opts.min} and ${opts.max}` : `at least ${opts.min}`;
    throw new FormError(id, `${label} must be ${opts.int ? 'a whole number ' : 'a number '}${range}.`);
  }
  return v;
}

/** Read the form; throws FormError naming the field for the first invalid value. */
export function readForm(maxNewTokens: number): FormValues {
  const prompt = byId<HTMLTextAreaElement>('prompt').value;
  if (prompt.trim() === '') throw new FormError('prompt', 'Type a prompt first.');
  return {
    prompt,
    model: byId<HTMLSelectElement>('model').value,
    max_new_tokens: num('max-new-tokens', 'Max new tokens', { int: true, min: 0, max: maxNewTokens }) ?? 0,
    temperature: num('temperature', 'Temperature', { min: 0, max: 100 }) ?? 0,
    top_k: num('top-k', 'Top-k', { int: true, min: 0 }) ?? 0,
    top_p: num('top-p', 'Top-p', { min: 0.0001, max: 1 }) ?? 1,
    seed: num('seed', 'Seed', { int: true, min: 0, max: 2 ** 32 - 1, optional: true }),
  };
}

/**
 * The `generate` frame. Prefill rows: the prompt's last MAX_PREFILL_ROWS positions, clipped by the server to the
 * prompt's length (no client-side token count that could be stale when the prompt was just edited).
 */
export function generateRequest(id: string, v: FormValues): GenerateRequest {
  const prefill = { last: MAX_PREFILL_ROWS };
  return {
    id,
    prompt: v.prompt,
    ...(v.model ? { model: v.model } : {}),
    max_new_tokens: v.max_new_tokens,
    temperature: v.temperature,
    top_k: v.top_k,
    top_p: v.top_p,
    ...(v.seed !== undefined ? { seed: v.seed } : {}),
    hooks: PAGE_HOOKS,
    prefill_positions: prefill,
    alternatives: 10,
    logit_lens: true,
    histogram_bins: 40,
  };
}

/** Mark a field invalid (aria-invalid + focus) and clear the marks on the others. */
export function flagField(field: string | null): void {
  document.querySelectorAll('#run-form [aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  if (!field) return;
  const el = document.getElementById(field);
  if (el) {
    el.setAttribute('aria-invalid', 'true');
    el.focus();
  }
}

/** Enter submits the form from the textarea; Shift+Enter keeps the newline. */
export function enterRuns(textarea: HTMLTextAreaElement, form: HTMLFormElement): void {
  textarea.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
}

export function fillSelect(
  select: HTMLSelectElement,
  names: readonly string[],
  selected: string,
  labels: Record<string, string> = {},
): void {
  select.replaceChildren(...names.map((n) => h('option', { value: n, selected: n === selected }, labels[n] ?? n)));
  select.value = selected;
}
