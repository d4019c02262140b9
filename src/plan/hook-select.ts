// Hook selection: names or glob patterns -> exact hook names of a model, in forward order.
import { allHookNames, parseHookName, unknownHook } from '../hooks/catalogue.js';
import { familyOf, type ModelDims, type ModelFamily } from '../arch/model-dims.js';

/**
 * The overview returned when a request names no hooks: the residual stream at every point, what
 * each sub-layer writes into it, the attention patterns, the MLP activations and the final norm;
 * in models with rotary embeddings also the rotated queries and keys (whose products are the scores).
 */
export const DEFAULT_HOOK_PATTERNS: readonly string[] = [
  'hook_embed',
  'hook_pos_embed',
  'blocks.*.hook_resid_pre',
  'blocks.*.attn.hook_rot_q',
  'blocks.*.attn.hook_rot_k',
  'blocks.*.attn.hook_pattern',
  'blocks.*.hook_attn_out',
  'blocks.*.hook_resid_mid',
  'blocks.*.mlp.hook_post',
  'blocks.*.hook_mlp_out',
  'blocks.*.hook_resid_post',
  'ln_final.hook_normalized',
];

/** DEFAULT_HOOK_PATTERNS that exist in this model (GPT-2 has no hook_rot_q/k, the llama family no hook_pos_embed). */
export function defaultHookPatterns(hookNames: readonly string[]): string[] {
  return DEFAULT_HOOK_PATTERNS.filter((p) => {
    const matches = globMatcher(p);
    return hookNames.some(matches);
  });
}

/**
 * Glob -> anchored matcher. `*` matches any run of characters, dots included, so `*resid_post`
 * matches `blocks.3.hook_resid_post`, `blocks.3.*` matches every hook of block 3 and
 * `blocks.*.attn.*` every attention hook. Every other character is literal.
 *
 * Segment matching, no regex: the text between stars must appear in order, the first segment as a
 * prefix and the last as a suffix; taking each middle segment at its leftmost occurrence is always
 * right for `*`-only globs, so the cost is linear in pattern × name whatever the number of stars
 * (a backtracking `.*` regex is exponential in them).
 */
export function globMatcher(pattern: string): (name: string) => boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return (name) => name === pattern;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  return (name) => {
    if (name.length < first.length + last.length) return false;
    if (!name.startsWith(first) || !name.endsWith(last)) return false;
    let at = first.length;
    const end = name.length - last.length;
    for (const seg of middle) {
      const i = name.indexOf(seg, at);
      if (i < 0 || i + seg.length > end) return false;
      at = i + seg.length;
    }
    return true;
  };
}

/**
 * Expand `patterns` against `hookNames` (the model's hooks in forward order). Result: each matched
 * name once, in forward order. A pattern or name that matches nothing -> 400 `unknown_hook`
 * listing every pattern that does not match and the valid site patterns.
 */
export function selectHooks(
  patterns: readonly string[],
  hookNames: readonly string[],
  nLayer: number,
  family: ModelFamily = 'gpt2',
): string[] {
  const chosen = new Set<string>();
  const unmatched: string[] = [];
  for (const pattern of patterns) {
    const matches = globMatcher(pattern.trim());
    let hit = false;
    for (const name of hookNames) {
      // an opt-in site (attn.hook_result) matches only a pattern that names it, never a broad glob
      const site = matches(name) ? parseHookName(name, nLayer, family)?.site : undefined;
      if (site && !(site.optIn && !pattern.includes(site.site))) {
        chosen.add(name);
        hit = true;
      }
    }
    if (!hit) unmatched.push(pattern);
  }
  if (unmatched.length > 0) throw unknownHook(unmatched, nLayer, family);
  return hookNames.filter((n) => chosen.has(n));
}

/** A request's `hooks` (or the default overview) -> exact hook names of a model of these dims, forward order. */
export function selectModelHooks(requested: readonly string[] | undefined, dims: ModelDims): string[] {
  const family = familyOf(dims);
  const names = allHookNames(dims.nLayer, family);
  return selectHooks(requested ?? defaultHookPatterns(names), names, dims.nLayer, family);
}
