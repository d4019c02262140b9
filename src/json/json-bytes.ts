// Replies, frames and saved traces as JSON bytes: JSON.stringify, except that every Float32Array in the value (the
// attention rows, which are views on the activations) is written as an array of float32 decimals (float32-text.ts),
// without first becoming a JavaScript array of doubles.
import { randomBytes } from 'node:crypto';
import { writeFloat32 } from './float32-text.js';

/** Bytes a float32 decimal takes at most (`-1.2345678e-38`), with its comma. */
const MAX_VALUE_BYTES = 16;

/** `value` as UTF-8 JSON; a Float32Array is a JSON array of its values (NaN/±Infinity as null). */
export function jsonBytes(value: unknown): Buffer {
  const lists: Float32Array[] = [];
  let marker = '';
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (!(v instanceof Float32Array)) return v;
    // a string no reply can contain: JSON.stringify writes the NUL as the six characters \u0000, and the
    // random part is new for every call
    if (!marker) marker = `\u0000f32:${randomBytes(9).toString('hex')}:`;
    lists.push(v);
    return `${marker}${lists.length - 1}`;
  });
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
