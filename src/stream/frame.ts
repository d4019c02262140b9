// A generation frame serialised once: the fields after `type`/`id`/`seq` as UTF-8 JSON, shared by every client.
// Each client gets it under its own label (ids are per connection) with its own header fields (`owner`,
// `coalesced`), so nothing is re-serialised per client and no object copy of the frame is kept.
import { jsonBytes } from '../json/json-bytes.js';

export interface BufferedFrame {
  readonly seq: number;
  readonly type: string;
  /** The body object's JSON without its opening brace (`"step":3,…}`, or `}` for an empty body). */
  readonly tail: Buffer;
  /** Bytes held: the tail's length (allocated outside the pool, so this is what the frame keeps alive). */
  readonly bytes: number;
}

/** Serialise a frame's body once. `body` must not contain type/id/seq or the per-client header fields. */
export function encodeFrame(type: string, seq: number, body: Record<string, unknown>): BufferedFrame {
  const json = jsonBytes(body);
  const n = json.length - 1;
  const tail = Buffer.allocUnsafeSlow(n); // not from the shared slab: bytes held = bytes counted
  json.copy(tail, 0, 1);
  return { seq, type, tail, bytes: n };
}

/** The complete JSON frame for one client: `{"type","id":label,"seq",…header,…body}`. */
export function renderFrame(f: BufferedFrame, label: string, header: Record<string, unknown> = {}): Buffer {
  let head = `{"type":${JSON.stringify(f.type)},"id":${JSON.stringify(label)},"seq":${f.seq}`;
  for (const [k, v] of Object.entries(header)) head += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  if (f.bytes > 1) head += ',';
  return Buffer.concat([Buffer.from(head), f.tail]);
}

/** An `error` frame; a problem's extra fields (valid_patterns, suggestions...) travel as on REST, under the fixed ones. */
export function errorFrame(
  id: string | null,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...extra, type: 'error', id, code, message };
}
