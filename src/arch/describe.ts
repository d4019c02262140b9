// Model descriptions for /models: registry entries and runnable checkpoints in one shape, and name resolution.
import { notFound } from '../errors/problem-error.js';
import { normalizeConfig } from './normalize.js';
import { countParams, type ParamsReport } from './params.js';
import { lookupKey, type ArchRegistry, type ArchEntry } from './registry.js';
import type { ArchSpec } from './spec.js';

/** What the models registry plugin tells us about an installed checkpoint (name + its config.json). */
export interface RunnableRef {
  name: string;
  config?: Record<string, unknown>;
}

export interface ModelView {
  name: string;
  display_name: string;
  family: string;
  model_type: string;
  aliases: string[];
  released: string | null;
  runnable: boolean;
  in_registry: boolean;
  entry: ArchEntry | null;
  config: Record<string, unknown>;
  spec: ArchSpec;
  params: ParamsReport;
}

function fromEntry(e: ArchEntry, runnable: boolean): ModelView {
  return {
    name: e.name,
    display_name: e.display_name,
    family: e.family,
    model_type: e.spec.modelType,
    aliases: [...e.aliases],
    released: e.released ?? null,
    runnable,
    in_registry: true,
    entry: e,
    config: e.config,
    spec: e.spec,
    params: e.params,
  };
}

/** A runnable checkpoint with no registry entry (e.g. gpt2-mini); null if its config cannot be described. */
function fromRunnable(r: RunnableRef): ModelView | null {
  if (!r.config) return null;
  try {
    const spec = normalizeConfig(r.config);
    return {
      name: r.name,
      display_name: r.name,
      family: 'gpt2',
      model_type: spec.modelType,
      aliases: [],
      released: null,
      runnable: true,
      in_registry: false,
      entry: null,
      config: r.config,
      spec,
      params: countParams(spec),
    };
  } catch {
    return null;
  }
}

/** Registry entries (runnable ones marked) followed by runnable checkpoints the registry does not know. */
export function listModels(registry: ArchRegistry, runnable: readonly RunnableRef[], family?: string): ModelView[] {
  const runnableEntries = new Set<ArchEntry>();
  const extra: ModelView[] = [];
  for (const r of runnable) {
    const e = registry.find(r.name);
    if (e) runnableEntries.add(e);
    else {
      const v = fromRunnable(r);
      if (v) extra.push(v);
    }
  }
  const entries = family === undefined ? registry.entries : registry.byFamily(family);
  const views = entries.map((e) => fromEntry(e, runnableEntries.has(e)));
  const extras =
    family === undefined ? extra : extra.filter((v) => v.family.toLowerCase() === family.trim().toLowerCase());
  return [...views, ...extras];
}

/** The model `name` (registry name/alias or runnable checkpoint) or 404 unknown_model with suggestions. */
export function resolveModel(registry: ArchRegistry, runnable: readonly RunnableRef[], name: string): ModelView {
  const e = registry.find(name);
  const isRunnable = (entry: ArchEntry) => runnable.some((r) => registry.find(r.name) === entry);
  if (e) return fromEntry(e, isRunnable(e));
  const r = runnable.find((x) => lookupKey(x.name) === lookupKey(name));
  const v = r ? fromRunnable(r) : null;
  if (v) return v;
  const suggestions = registry.closestNames(
    name,
    5,
    runnable.map((x) => x.name),
  );
  throw notFound(
    'unknown_model',
    `There is no model named "${name.slice(0, 100)}"${suggestions.length ? `; did you mean ${suggestions.slice(0, 3).join(', ')}?` : '.'}`,
    { suggestions },
  );
}
