// ConfigReader: typed, bounded access to the fields of a raw HF config.json; failures name the field.
import { badRequest } from '../errors/problem-error.js';
import { CONFIG_FIELDS, type FieldBound } from './config-bounds.js';

type Raw = Readonly<Record<string, unknown>>;

function invalid(field: string, sentence: string) {
  return badRequest('invalid_config', `config.${field} ${sentence}`, { field });
}

function bound(field: string): FieldBound {
  const b = CONFIG_FIELDS[field];
  // A field missing from the table is a programming error, not a user error.
  if (!b) throw new Error(`config field ${field} has no bound in CONFIG_FIELDS`);
  return b;
}

/** Checks one present value against its bound; throws invalid_config with a plain sentence. */
function check(field: string, value: unknown): void {
  const b = bound(field);
  switch (b.kind) {
    case 'int':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a number.');
      if (b.kind === 'int' && !Number.isInteger(value)) throw invalid(field, 'must be a whole number.');
      if (value < b.min || value > b.max) throw invalid(field, `must be between ${b.min} and ${b.max} (got ${value}).`);
      return;
    }
    case 'bool':
      if (typeof value !== 'boolean') throw invalid(field, 'must be true or false.');
      return;
    case 'string':
      if (typeof value !== 'string') throw invalid(field, 'must be a string.');
      return;
    case 'int[]':
      if (!Array.isArray(value) || value.length > b.maxItems)
        throw invalid(field, `must be a list of at most ${b.maxItems} layer indices.`);
      for (const v of value)
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > b.max)
          throw invalid(field, 'must list whole layer indices.');
      return;
    case 'string[]':
      if (!Array.isArray(value) || value.length > b.maxItems)
        throw invalid(field, `must be a list of at most ${b.maxItems} strings.`);
      for (const v of value) if (typeof v !== 'string') throw invalid(field, 'must list strings.');
      return;
  }
}

export class ConfigReader {
  constructor(private readonly raw: Raw) {}

  /** The value if present and non-null (validated), else undefined. */
  private get(field: string): unknown {
    const v = this.raw[field];
    if (v === undefined || v === null) return undefined;
    check(field, v);
    return v;
  }

  has(field: string): boolean {
    return this.get(field) !== undefined;
  }

  /** A required whole number; the first present of `fields` wins (HF aliases like n_positions / n_ctx). */
  int(...fields: string[]): number {
    for (const f of fields) {
      const v = this.get(f);
      if (v !== undefined) return v as number;
    }
    throw invalid(fields[0]!, `is required for model_type "${String(this.raw.model_type)}".`);
  }

  optInt(field: string): number | undefined {
    return this.get(field) as number | undefined;
  }

  intOr(field: string, def: number): number {
    return (this.get(field) as number | undefined) ?? def;
  }

  numOr(field: string, def: number): number {
    return (this.get(field) as number | undefined) ?? def;
  }

  boolOr(field: string, def: boolean): boolean {
    return (this.get(field) as boolean | undefined) ?? def;
  }

  strOr(field: string, def: string): string {
    return (this.get(field) as string | undefined) ?? def;
  }

  intList(field: string): number[] {
    return [...((this.get(field) as number[] | undefined) ?? [])];
  }

  strList(field: string): string[] | undefined {
    const v = this.get(field) as string[] | undefined;
    return v ? [...v] : undefined;
  }

  /** Throw invalid_config unless `ok`; for relations between fields (heads divide d_model, ...). */
  require(ok: boolean, field: string, sentence: string): void {
    if (!ok) throw invalid(field, sentence);
  }
}
