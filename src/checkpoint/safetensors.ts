// safetensors: strict header validation, tensor data as Float32Array (fp16/bf16 widened), and a writer.
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets:[begin,end]}, __metadata__?},
// then the raw little-endian tensor bytes; offsets are relative to the end of the header.
import { open, writeFile, stat } from 'node:fs/promises';
import { unprocessable, ProblemError } from '../errors/problem-error.js';

/** A checkpoint that cannot be used: names the offending tensor (or file) and what was expected. */
export class CheckpointError extends ProblemError {
  override name = 'CheckpointError';
  constructor(
    detail: string,
    /** The tensor at fault, when one is. */
    readonly tensor?: string,
    /** The file at fault. */
    readonly file?: string,
  ) {
    const base = unprocessable('invalid_checkpoint', detail, tensor ? { tensor } : {});
    super(base.statusCode, base.code, base.title, base.detail, base.extra);
  }
}

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offset of the data in the file (8 + header length + begin). */
  dataOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  path: string;
  /** Bytes of the JSON header (without the 8-byte length prefix). */
  headerLength: number;
  /** The JSON header text exactly as stored (hashing it identifies the checkpoint layout). */
  headerText: string;
  /** In file order (by offset). */
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  fileSize: number;
}

/** Largest JSON header we accept; real headers are tens of KB (gpt2-xl: ~60 KB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Read and validate the header only (no tensor data is read). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  let fileSize: number;
  try {
    fileSize = (await stat(path)).size;
  } catch {
    throw new CheckpointError(`The file ${path} does not exist or cannot be read.`, undefined, path);
  }
  const fh = await open(path, 'r');
  try {
    if (fileSize < 8)
      throw new CheckpointError(`${path} is ${fileSize} bytes, too short to be a safetensors file.`, undefined, path);
    const prefix = Buffer.alloc(8);
    await fh.read(prefix, 0, 8, 0);
    const n = prefix.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER_BYTES) || n < 2n) {
      throw new CheckpointError(
        `${path} declares a ${n}-byte header; expected 2..${MAX_HEADER_BYTES} bytes (corrupt header).`,
        undefined,
        path,
      );
    }
    const headerLength = Number(n);
    if (8 + headerLength > fileSize) {
      throw new CheckpointError(
        `${path} declares a ${headerLength}-byte header but the file has only ${fileSize} bytes (truncated).`,
        undefined,
        path,
      );
    }
    const buf = Buffer.alloc(headerLength);
    await fh.read(buf, 0, headerLength, 8);
    const headerText = buf.toString('utf8');
    return { ...parseHeader(path, headerText, headerLength, fileSize), headerText, headerLength, fileSize, path };
  } finally {
    await fh.close();
  }
}

function parseHeader(path: string, text: string, headerLength: number, fileSize: number) {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/ +$/, ''));
  } catch {
    throw new CheckpointError(`The header of ${path} is not valid JSON (corrupt header).`, undefined, path);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError(`The header of ${path} must be a JSON object.`, undefined, path);
  }
  const dataStart = 8 + headerLength;
  const dataSize = fileSize - dataStart;
  const tensors: TensorInfo[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(path, raw);
      continue;
    }
    const bad = (why: string) => new CheckpointError(`Tensor ${name} in ${path}: ${why}.`, name, path);
    if (typeof raw !== 'object' || raw === null) throw bad('entry must be an object');
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) throw bad(`unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw bad('shape must be a list of non-negative integers');
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw bad('data_offsets must be [begin, end] with non-negative integers');
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw bad(`data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataSize)
      throw bad(`data ends at byte ${end} but the file holds only ${dataSize} data bytes (truncated file)`);
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = numel * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (end - begin !== expected)
      throw bad(`holds ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${expected}`);
    tensors.push({
      name,
      dtype: dtype as SafetensorsDtype,
      shape: shape as number[],
      dataOffset: dataStart + begin,
      byteLength: expected,
    });
  }
  tensors.sort((a, b) => a.dataOffset - b.dataOffset || a.byteLength - b.byteLength);
  for (let i = 1; i < tensors.length; i++) {
    const prev = tensors[i - 1];
    const cur = tensors[i];
    if (cur.dataOffset < prev.dataOffset + prev.byteLength) {
      throw new CheckpointError(`Tensor ${cur.name} in ${path} overlaps the data of ${prev.name}.`, cur.name, path);
    }
  }
  return { tensors, metadata };
}

function parseMetadata(path: string, raw: unknown): Record<string, string> {
  if (
    typeof raw !== 'object' ||
    raw === null ||
    Array.isArray(raw) ||
    !Object.values(raw).every((v) => typeof v === 'string')
  ) {
    throw new CheckpointError(`__metadata__ in ${path} must map strings to strings.`, undefined, path);
  }
  return raw as Record<string, string>;
}

/** Header + a reader of any tensor's values as float32. */
export interface SafetensorsFile extends SafetensorsHeader {
  tensor(name: string): TensorInfo;
  /** Values as float32 (F16/BF16/F64/ints widened or narrowed), row-major. */
  readFloat32(name: string): Promise<Float32Array>;
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  const header = await readSafetensorsHeader(path);
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const tensor = (name: string): TensorInfo => {
    const t = byName.get(name);
    if (!t) throw new CheckpointError(`Tensor ${name} is missing from ${path}.`, name, path);
    return t;
  };
  return {
    ...header,
    tensor,
    async readFloat32(name) {
      const t = tensor(name);
      const fh = await open(path, 'r');
      try {
        const bytes = Buffer.alloc(t.byteLength);
        const { bytesRead } = await fh.read(bytes, 0, t.byteLength, t.dataOffset);
        if (bytesRead !== t.byteLength)
          throw new CheckpointError(`Tensor ${name} in ${path} is truncated.`, name, path);
        return toFloat32(bytes, t.dtype);
      } finally {
        await fh.close();
      }
    },
  };
}

/** IEEE half -> float (exact: every half is representable as a float). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// One shared scratch word to read a float's bits without allocating per value (writers convert millions).
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);
const float32Bits = (value: number): number => {
  scratchF32[0] = value;
  return scratchU32[0];
};

/** float -> IEEE half, round to nearest even (used to write fp16 checkpoints). */
export function floatToHalf(value: number): number {
  const x = float32Bits(value);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // a mantissa carry rolls into the exponent (up to infinity)
  return sign | half;
}

/** float -> bfloat16 (the top 16 bits of the float32), round to nearest even; NaN stays NaN. */
export function floatToBfloat16(value: number): number {
  const x = float32Bits(value);
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function toFloat32(bytes: Buffer, dtype: SafetensorsDtype): Float32Array {
  // Little-endian host (x86/arm64): F32 bytes are already float32 values.
  if (dtype === 'F32')
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  const read: Record<SafetensorsDtype, (i: number) => number> = {
    F32: (i) => view.getFloat32(i * 4, true),
    F64: (i) => view.getFloat64(i * 8, true),
    F16: (i) => halfToFloat(view.getUint16(i * 2, true)),
    BF16: (i) => {
      scratchU32[0] = view.getUint16(i * 2, true) << 16;
      return scratchF32[0];
    },
    I64: (i) => Number(view.getBigInt64(i * 8, true)),
    I32: (i) => view.getInt32(i * 4, true),
    I16: (i) => view.getInt16(i * 2, true),
    I8: (i) => view.getInt8(i),
    U8: (i) => view.getUint8(i),
    BOOL: (i) => view.getUint8(i),
  };
  const get = read[dtype];
  for (let i = 0; i < n; i++) out[i] = get(i);
  return out;
}

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  /** F32 writes the floats as is; F16 / BF16 round them (to nearest even). */
  dtype: 'F32' | 'F16' | 'BF16';
  data: Float32Array;
}

/** Write a safetensors file (header padded with spaces to 8 bytes so every tensor is aligned). */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length)
      throw new Error(`writeSafetensors: ${t.name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const size = numel * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors) {
    if (t.dtype === 'F32') {
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, pos);
      pos += t.data.byteLength;
    } else {
      const narrow = t.dtype === 'F16' ? floatToHalf : floatToBfloat16;
      for (let i = 0; i < t.data.length; i++, pos += 2) out.writeUInt16LE(narrow(t.data[i]), pos);
    }
  }
  await writeFile(path, out);
}

/** A float32 tensor to export: `data` is written as is (a view, never copied). */
export interface Float32Tensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** A safetensors file as a list of chunks (the header, then one view per tensor) and its exact size. */
export interface SafetensorsParts {
  byteLength: number;
  chunks: Buffer[];
}

/** The 8-byte length prefix + space-padded JSON header of F32 tensors laid out in order. */
export function safetensorsHeader(
  tensors: readonly { name: string; shape: readonly number[] }[],
  metadata?: Record<string, string>,
): { header: Buffer; dataBytes: number } {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1) * 4;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const text = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + text.length);
  out.writeBigUInt64LE(BigInt(text.length), 0);
  text.copy(out, 8);
  return { header: out, dataBytes: offset };
}

/** Lay out F32 tensors as safetensors without building the file: stream or write the chunks in order. */
export function safetensorsParts(
  tensors: readonly Float32Tensor[],
  metadata?: Record<string, string>,
): SafetensorsParts {
  for (const t of tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length)
      throw new Error(`safetensorsParts: ${t.name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
  const { header, dataBytes } = safetensorsHeader(tensors, metadata);
  const chunks = [header, ...tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
  return { byteLength: header.length + dataBytes, chunks };
}

/** Elements [first, first + count) of one tensor (row-major) as float32, read straight from the file (e.g. a few wte rows). */
export async function readFloat32Range(
  path: string,
  t: TensorInfo,
  first: number,
  count: number,
): Promise<Float32Array> {
  const size = DTYPE_BYTES[t.dtype];
  const total = t.byteLength / size;
  if (first < 0 || count < 0 || first + count > total)
    throw new CheckpointError(`Elements ${first}..${first + count} are outside tensor ${t.name}.`, t.name, path);
  const fh = await open(path, 'r');
  try {
    const bytes = Buffer.alloc(count * size);
    const { bytesRead } = await fh.read(bytes, 0, bytes.byteLength, t.dataOffset + first * size);
    if (bytesRead !== bytes.byteLength)
      throw new CheckpointError(`Tensor ${t.name} in ${path} is truncated.`, t.name, path);
    return toFloat32(bytes, t.dtype);
  } finally {
    await fh.close();
  }
}
