// Replies, frames and saved traces as JSON bytes: JSON.stringify, except that every Float32Array in the value
// (attention rows and detail=full values, views on the activations) is written as an array of float32 decimals
// (float32-text.ts), without first becoming a JavaScript array of doubles.
import { randomBytes } from 'node:crypto';
import { writeFloat32 } from './float32-text.js';

/**
 * `v` with every Float32Array inside replaced by `placeholder(list)`; objects and arrays on the way to one are
 * copied, everything else is returned as it is (the caller's value is not changed).
 */
function withPlaceholders(v: unknown, placeholder: (list: Float32Array) => string): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Float32Array) return placeholder(v);
  if (ArrayBuffer.isView(v) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (x === null || typeof x !== 'object') continue;
      const y = withPlaceholders(x, placeholder);
      if (y !== x) (out ??= v.slice())[i] = y;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | null = null;
  const o = v as Record<string, unknown>;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const x = o[key];
    if (x === null || typeof x !== 'object') continue;
    const y = withPlaceholders(x, placeholder);
    if (y !== x) (out ??= { ...o })[key] = y;
  }
  return out ?? v;
}

/** Bytes a float32 decimal takes at most (`-1.2345678e-38`), with its comma. */
const MAX_VALUE_BYTES = 16;

/** `value` as UTF-8 JSON; a Float32Array is a JSON array of its values (NaN/±Infinity as null). */
export function jsonBytes(value: unknown): Buffer {
  const lists: Float32Array[] = [];
  // a string no reply can contain: JSON.stringify writes the NUL as the six characters \u0000, and the random part
  // is new for every call that has lists
  let marker = '';
  const placeholder = (list: Float32Array) => {
    if (!marker) marker = `\u0000f32:${randomBytes(9).toString('hex')}:`;
    lists.push(list);
    return `${marker}${lists.length - 1}`;
  };
  // a replacer function would take JSON.stringify off its fast path (2.6x slower on a 400 KB trace reply)
  const text = JSON.stringify(withPlaceholders(value, placeholder));
  if (text === undefined) throw new TypeError('jsonBytes: the value has no JSON form');
  if (lists.length === 0) return Buffer.from(text);
  // the text is cut at each placeholder, `"\u0000f32:<random>:<index>"`, and the list is written in its place
  const parts = text.split(`"${JSON.stringify(marker).slice(1, -1)}`);
  let size = Buffer.byteLength(parts[0]!);
  const order: Float32Array[] = []; // the list at each placeholder, and the text after it
  const rest: string[] = [];
  for (let p = 1; p < parts.length; p++) {
    const part = parts[p]!;
    const end = part.indexOf('"');
    const list = lists[Number(part.slice(0, end))]!;
    order.push(list);
    rest.push(part.slice(end + 1));
    size += 2 + list.length * MAX_VALUE_BYTES + Buffer.byteLength(rest[rest.length - 1]!);
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.write(parts[0]!);
  for (let p = 0; p < rest.length; p++) {
    const list = order[p]!;
    out[at++] = 91; // [
    for (let k = 0; k < list.length; k++) {
      if (k > 0) out[at++] = 44; // ,
      at = writeFloat32(out, at, list[k]!);
    }
    out[at++] = 93; // ]
    at += out.write(rest[p]!, at);
  }
  return out.subarray(0, at);
}
