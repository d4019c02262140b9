// normalizeConfig: any supported HF config.json -> a frozen ArchSpec (per-family rules live in families.ts).
import { unprocessable, badRequest } from '../errors/problem-error.js';
import { ConfigReader } from './config-reader.js';
import { FAMILY_RULES } from './families.js';
import { SUPPORTED_MODEL_TYPES, type ArchSpec, type ModelType } from './spec.js';

const isSupported = (t: unknown): t is ModelType =>
  typeof t === 'string' && (SUPPORTED_MODEL_TYPES as readonly string[]).includes(t);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Multimodal checkpoints (e.g. Gemma 3 4B+, model_type "gemma3") keep the language model under text_config;
 * we describe that text model and say so.
 */
function unwrap(raw: Record<string, unknown>, notes: string[]): Record<string, unknown> {
  if (isSupported(raw.model_type)) return raw;
  const text = raw.text_config;
  if (isObject(text) && isSupported(text.model_type)) {
    notes.push(
      `model_type "${String(raw.model_type)}" wraps a text model; counted text_config (${text.model_type}) only, without vision or audio towers.`,
    );
    return text;
  }
  return raw;
}

/** Throws 400 invalid_config (missing/ill-typed field, named) or 422 unsupported_model_type (listing the supported ones). */
export function normalizeConfig(input: unknown): ArchSpec {
  if (!isObject(input))
    throw badRequest('invalid_config', 'The config must be a JSON object (the contents of config.json).', {
      field: null,
    });
  const notes: string[] = [];
  const raw = unwrap(input, notes);
  const type = raw.model_type;
  if (type === undefined || type === null) {
    throw badRequest('invalid_config', 'config.model_type is required (e.g. "llama", "gpt2").', {
      field: 'model_type',
    });
  }
  if (!isSupported(type)) {
    throw unprocessable(
      'unsupported_model_type',
      `model_type ${JSON.stringify(type).slice(0, 80)} is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}.`,
      {
        supported: [...SUPPORTED_MODEL_TYPES],
      },
    );
  }
  const built = FAMILY_RULES[type].build(new ConfigReader(raw), notes);
  const spec: ArchSpec = { ...built, modelType: type, notes };
  return deepFreeze(spec);
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
