// safetensors reader/writer: round trips (F32, F16), strict header validation naming the bad tensor.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from '../../src/checkpoint/safetensors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'st-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A file from a header object and a data length (the data bytes are zeros). */
async function rawFile(name: string, header: unknown, dataBytes: number, headerText?: string): Promise<string> {
  const text = Buffer.from(headerText ?? JSON.stringify(header));
  const buf = Buffer.alloc(8 + text.length + dataBytes);
  buf.writeBigUInt64LE(BigInt(text.length));
  text.copy(buf, 8);
  const p = path.join(dir, name);
  await writeFile(p, buf);
  return p;
}

async function failure(p: Promise<unknown>): Promise<CheckpointError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CheckpointError);
  return e as CheckpointError;
}

describe('round trip', () => {
  it('writes and reads F32 and F16 with metadata and aligned offsets', async () => {
    const p = path.join(dir, 'rt.safetensors');
    const a = Float32Array.from([1, -2.5, 3.25, 1e-3, 65504, 0]);
    await writeSafetensors(
      p,
      [
        { name: 'a', shape: [2, 3], dtype: 'F32', data: a },
        { name: 'b', shape: [6], dtype: 'F16', data: a },
      ],
      { format: 'pt' },
    );
    const f = await readSafetensors(p);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect(f.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['a', 'F32', [2, 3]],
      ['b', 'F16', [6]],
    ]);
    expect(f.tensors[0].dataOffset % 8).toBe(0);
    expect(await f.readFloat32('a')).toEqual(a);
    const b = await f.readFloat32('b');
    expect(Array.from(b)).toEqual([1, -2.5, 3.25, halfToFloat(floatToHalf(1e-3)), 65504, 0]);
    expect(Math.abs(b[3] - 1e-3)).toBeLessThan(1e-6);
  });

  it('BF16: round to nearest even, read back widened', async () => {
    expect(floatToBfloat16(1)).toBe(0x3f80);
    expect(floatToBfloat16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(floatToBfloat16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie -> even (up)
    const p = path.join(dir, 'bf.safetensors');
    await writeSafetensors(p, [{ name: 'w', shape: [3], dtype: 'BF16', data: Float32Array.from([1, -0.5, 3.1416]) }]);
    expect(Array.from(await (await readSafetensors(p)).readFloat32('w'))).toEqual([1, -0.5, 3.140625]);
  });

  it('half conversion: exact values, round-to-nearest-even, subnormals, overflow', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(1e6)).toBe(0x7c00);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });
});

describe('validation names the problem', () => {
  it('missing file', async () => {
    const e = await failure(readSafetensorsHeader(path.join(dir, 'nope.safetensors')));
    expect(e.code).toBe('invalid_checkpoint');
    expect(e.statusCode).toBe(422);
  });

  it('corrupt header: huge declared length, bad JSON', async () => {
    const p = path.join(dir, 'huge.safetensors');
    const buf = Buffer.alloc(16);
    buf.writeBigUInt64LE(1n << 40n);
    await writeFile(p, buf);
    expect((await failure(readSafetensorsHeader(p))).message).toMatch(/corrupt header/);
    const bad = await rawFile('badjson.safetensors', null, 0, '{"a": ');
    expect((await failure(readSafetensorsHeader(bad))).message).toMatch(/not valid JSON/);
  });

  it('truncated file names the tensor whose data is cut off', async () => {
    const p = path.join(dir, 'trunc.safetensors');
    await writeSafetensors(p, [
      { name: 'x', shape: [4], dtype: 'F32', data: new Float32Array(4) },
      { name: 'y', shape: [4], dtype: 'F32', data: new Float32Array(4) },
    ]);
    const full = await readFile(p);
    await writeFile(p, full.subarray(0, full.length - 4));
    const e = await failure(readSafetensorsHeader(p));
    expect(e.tensor).toBe('y');
    expect(e.message).toMatch(/truncated/);
  });

  it.each([
    ['unsupported dtype', { w: { dtype: 'Q4', shape: [2], data_offsets: [0, 2] } }, 2, 'w', /unsupported dtype/],
    ['size mismatch', { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8, 'w', /needs 12/],
    ['negative dim', { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, 0, 'w', /shape/],
    ['end before begin', { w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, 8, 'w', /end before/],
    [
      'overlap',
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      12,
      'b',
      /overlaps/,
    ],
  ])('%s', async (_label, header, bytes, tensor, msg) => {
    const p = await rawFile(`${tensor}-${bytes}-${Math.random()}.safetensors`, header, bytes);
    const e = await failure(readSafetensorsHeader(p));
    expect(e.tensor).toBe(tensor);
    expect(e.message).toMatch(msg);
  });
});
