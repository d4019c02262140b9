// The architecture registry: models/registry/*.json validated once at start, looked up by name or alias.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.js';
import { ProblemError } from '../errors/problem-error.js';
import { RegistryEntrySchema, RegistryFileSchema, type RegistryEntry } from './registry-format.js';
import { describeIssues } from '../errors/zod-words.js';
import { editDistance } from '../errors/edit-distance.js';
import { normalizeConfig } from './normalize.js';
import { countParams, type ParamsReport } from './params.js';
import type { ArchSpec } from './spec.js';

/** Where the registry files live: <project>/models/registry. */
export const DEFAULT_REGISTRY_DIR = path.join(PROJECT_ROOT, 'models', 'registry');

export interface ArchEntry extends RegistryEntry {
  /** Family of the file the entry came from (e.g. "mistral" for Mixtral). */
  family: string;
  file: string;
  /** `{...library_defaults, ...config}`: what transformers would build. */
  effectiveConfig: Record<string, unknown>;
  spec: ArchSpec;
  params: ParamsReport;
}

export class RegistryLoadError extends Error {
  override name = 'RegistryLoadError';
}

/**
 * Lookup key: lowercase, org prefix dropped ("meta-llama/Meta-Llama-3-8B" -> "meta-llama-3-8b"),
 * runs of "_", ".", spaces and "-" folded to one "-" ("qwen2.5_7b" -> "qwen2-5-7b").
 */
export function lookupKey(name: string): string {
  const base = name.trim().toLowerCase().split('/').pop() ?? '';
  return base.replace(/[\s._-]+/g, '-').replace(/^-|-$/g, '');
}

export class ArchRegistry {
  private readonly byKey = new Map<string, ArchEntry>();

  constructor(readonly entries: readonly ArchEntry[]) {
    for (const e of entries) {
      for (const alias of [e.name, ...e.aliases]) {
        // Both the alias as written (org included) and without its org prefix resolve.
        for (const key of new Set([lookupKey(alias), alias.trim().toLowerCase()])) {
          const other = this.byKey.get(key);
          if (other && other !== e)
            throw new RegistryLoadError(
              `${e.file}: "${alias}" of ${e.name} is also a name or alias of ${other.name} (${other.file}).`,
            );
          this.byKey.set(key, e);
        }
      }
    }
  }

  /** Reads every *.json under dir; throws RegistryLoadError naming the file and entry on the first problem. A missing dir is an empty registry. */
  static load(dir: string): ArchRegistry {
    const { entries, problems } = readRegistryDir(dir);
    // Report every bad entry at once, so one start-up shows the whole list.
    if (problems.length > 0)
      throw new RegistryLoadError(`Invalid architecture registry ${dir}:\n  ${problems.join('\n  ')}`);
    return new ArchRegistry(entries);
  }

  find(name: string): ArchEntry | undefined {
    return this.byKey.get(name.trim().toLowerCase()) ?? this.byKey.get(lookupKey(name));
  }

  /** Canonical name for a name or alias (the model-registry plugin's KnownArchitectures contract). */
  lookup(name: string): string | undefined {
    return this.find(name)?.name;
  }

  byFamily(family: string): ArchEntry[] {
    const f = family.trim().toLowerCase();
    return this.entries.filter((e) => e.family.toLowerCase() === f);
  }

  families(): string[] {
    return [...new Set(this.entries.map((e) => e.family))];
  }

  /** The n registry names closest to query by edit distance over names and aliases (ties keep registry order). */
  closestNames(query: string, n: number, extra: readonly string[] = []): string[] {
    const q = lookupKey(query);
    const best = new Map<string, number>();
    const consider = (name: string, alias: string) => {
      const d = editDistance(q, lookupKey(alias));
      if (d < (best.get(name) ?? Infinity)) best.set(name, d);
    };
    for (const e of this.entries) for (const a of [e.name, ...e.aliases]) consider(e.name, a);
    for (const name of extra) consider(name, name);
    return [...best.entries()]
      .sort((a, b) => a[1] - b[1])
      .slice(0, n)
      .map(([name]) => name);
  }
}

/** Every valid entry under dir plus one line per problem ("<file>, entry <name>: <why>"); a missing dir has neither. */
export function readRegistryDir(dir: string): { entries: ArchEntry[]; problems: string[] } {
  if (!existsSync(dir)) return { entries: [], problems: [] };
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const entries: ArchEntry[] = [];
  const problems: string[] = [];
  for (const f of files) entries.push(...loadFile(path.join(dir, f), f, problems));
  return { entries, problems };
}

/** Entries of one file; each problem is appended to `problems` as "<file>, entry <name>: <why>". */
function loadFile(file: string, label: string, problems: string[]): ArchEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(`${label}: not readable JSON (${(err as Error).message}).`);
    return [];
  }
  const top = RegistryFileSchema.safeParse(json);
  if (!top.success) {
    problems.push(`${label}: ${describeIssues(top.error.issues)}`);
    return [];
  }
  const out: ArchEntry[] = [];
  top.data.models.forEach((raw, i) => {
    const name =
      typeof (raw as { name?: unknown })?.name === 'string' ? (raw as { name: string }).name : `models[${i}]`;
    const parsed = RegistryEntrySchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(`${label}, entry ${name}: ${describeIssues(parsed.error.issues)}`);
      return;
    }
    const e = parsed.data;
    const effectiveConfig = { ...(e.library_defaults ?? {}), ...e.config };
    try {
      const spec = normalizeConfig(effectiveConfig);
      out.push({ ...e, family: top.data.family, file: label, effectiveConfig, spec, params: countParams(spec) });
    } catch (err) {
      const why = err instanceof ProblemError ? `${err.code}: ${err.detail}` : (err as Error).message;
      problems.push(`${label}, entry ${name}: config does not describe a supported architecture (${why})`);
    }
  });
  return out;
}
