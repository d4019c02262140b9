// "Did you mean" for misspelt request fields: the keys a zod schema accepts at a path, and the nearest ones.
import type { z } from 'zod';
import { closestWords } from './edit-distance.js';

/** Common words people send for our fields (lower-case). */
const SYNONYMS: Readonly<Record<string, string>> = {
  text: 'prompt',
  input: 'prompt',
  inputs: 'prompt',
  max_tokens: 'max_new_tokens',
  n_tokens: 'max_new_tokens',
  tokens: 'token_ids',
  input_ids: 'token_ids',
  temp: 'temperature',
  hook: 'hooks',
};

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  getter?: () => z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
}

const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The object schemas reachable at `path` (through optional/default/union/array/pipe wrappers). */
function objectsAt(schema: unknown, path: readonly PropertyKey[], depth = 0): Def[] {
  const def = defOf(schema);
  if (!def || depth > 40) return [];
  const inner = def.innerType ?? def.in ?? def.getter?.();
  if (inner) return objectsAt(inner, path, depth + 1);
  if (def.type === 'union') return (def.options ?? []).flatMap((o) => objectsAt(o, path, depth + 1));
  if (def.type === 'intersection') return [def.left, def.right].flatMap((o) => objectsAt(o, path, depth + 1));
  if (path.length === 0) return def.type === 'object' ? [def] : [];
  const [head, ...rest] = path;
  if (def.type === 'array' && typeof head === 'number') return objectsAt(def.element, rest, depth + 1);
  if (def.type === 'object' && typeof head === 'string' && def.shape?.[head]) {
    return objectsAt(def.shape[head], rest, depth + 1);
  }
  return [];
}

/** The keys an object schema accepts at `path` (every option of a union). */
export function keysAt(schema: unknown, path: readonly PropertyKey[] = []): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((d) => Object.keys(d.shape ?? {})))];
}

/** For each unknown key, the accepted keys at that place closest to it ({"text": ["prompt"], "topk": ["top_k"]}). */
export function suggestKeys(
  schema: unknown,
  path: readonly PropertyKey[],
  unknown: readonly string[],
): Record<string, string[]> {
  const known = keysAt(schema, path);
  const out: Record<string, string[]> = {};
  for (const key of unknown.slice(0, 20)) {
    const near = closestWords(key, known, 3, SYNONYMS);
    if (near.length) out[key.slice(0, 100)] = near;
  }
  return out;
}

/** " (did you mean "prompt" for "text"?)" or "". */
export function didYouMeanPhrase(suggestions: Record<string, string[]>): string {
  const parts = Object.entries(suggestions).map(([k, v]) => `${v.map((s) => `"${s}"`).join(' or ')} for "${k}"`);
  return parts.length ? ` (did you mean ${parts.join(', ')}?)` : '';
}
