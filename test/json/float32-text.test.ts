// Float32 values as JSON numbers, checked against two independent references: the engine's own conversions
// (Math.fround(Number(text)) reads the text back; toPrecision gives the fewest digits that do) and numpy's shortest
// float32 repr (Dragon4, unique=True) on the same values.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { writeFloat32 } from '../../src/json/float32-text.js';
import { jsonBytes } from '../../src/json/json-bytes.js';

const out = new Uint8Array(32);
const text = (v: number) => Buffer.from(out.buffer, 0, writeFloat32(out, 0, v)).toString('latin1');

/** Deterministic float32 bit patterns (xorshift32), finite ones only. */
function randomFloat32s(n: number, seed = 0x9e3779b9): Float32Array {
  const f = new Float32Array(n);
  const u = new Uint32Array(f.buffer);
  let x = seed >>> 0;
  for (let i = 0; i < n; ) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    u[i] = x;
    if (Number.isFinite(f[i]!)) i++;
  }
  return f;
}

/** Significant digits of a decimal text. */
const sigDigits = (t: string) =>
  t.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;

/** The fewest significant digits p with which some p-digit decimal reads back to v (toPrecision rounds to nearest). */
function fewestDigits(v: number): number {
  let p = 1;
  while (Math.fround(Number(v.toPrecision(p))) !== v) p++;
  return p;
}

const EDGES = [
  1,
  0.5,
  0.1,
  -0.1,
  100,
  1e21,
  1e20,
  1.5e-7,
  1e-7,
  1e-6,
  123456789,
  2 ** 24,
  2 ** 24 + 2,
  2 ** -126,
  2 ** -149,
  3 * 2 ** -149,
  3.4028234663852886e38,
  338384384,
  2183815.25,
  1.1754942106924411e-38,
  0.3,
  2 / 3,
  1 / 3,
  1024,
  2 ** -10,
  65504,
  1e-45,
].map(Math.fround);

describe('writeFloat32', () => {
  it('reads back to the same float32, with the fewest digits, in JavaScript’s own layout', () => {
    const values = [...randomFloat32s(50_000), ...EDGES, ...EDGES.map((v) => -v)];
    for (const v of values) {
      const t = text(v);
      expect(Math.fround(Number(t)), t).toBe(v);
      expect(sigDigits(t), `${v}: ${t}`).toBeLessThanOrEqual(fewestDigits(v));
      expect(String(Number(t)), t).toBe(t); // the layout Number.prototype.toString gives that decimal
    }
  });

  it('writes what JSON.stringify writes for values no float32 rounding touches', () => {
    for (const v of [0, 1, -1, 0.5, 0.25, 100, 1e21, 1e-7, 2 ** -10, 12345678]) expect(text(v)).toBe(JSON.stringify(v));
    expect(text(-0)).toBe('0');
    for (const v of [Number.NaN, Infinity, -Infinity]) expect(text(v)).toBe('null');
  });

  it.skipIf(!existsSync('/usr/bin/python3'))('matches numpy’s shortest float32 repr', () => {
    const values = [...randomFloat32s(20_000, 12345), ...EDGES];
    const py = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys, numpy as np\n' +
          'v = np.frombuffer(sys.stdin.buffer.read(), dtype="<f4")\n' +
          'print("\\n".join(np.format_float_scientific(x, unique=True) for x in v))',
      ],
      { input: Buffer.from(new Float32Array(values).buffer), maxBuffer: 1 << 26 },
    )
      .toString()
      .trim()
      .split('\n');
    expect(py).toHaveLength(values.length);
    values.forEach((v, i) => expect(Number(text(v)), `${v}: ${text(v)} vs numpy ${py[i]}`).toBe(Number(py[i])));
  });
});

describe('jsonBytes', () => {
  it('is JSON.stringify for values without float32 lists', () => {
    const v = { a: [1, 2.5, null], b: 'x"\u0000f32:', c: { d: true } };
    expect(jsonBytes(v).toString()).toBe(JSON.stringify(v));
  });

  it('writes each Float32Array (whole, or a view) as an array of its values, in place', () => {
    const data = randomFloat32s(50, 7);
    const v = {
      text: 'über \u0000f32:0 "quoted"',
      rows: [data.subarray(0, 3), data.subarray(10, 10), data.subarray(20, 50)],
      nested: { last: data.subarray(49), n: 3 },
      special: new Float32Array([Number.NaN, -0, Infinity]),
    };
    const back = JSON.parse(jsonBytes(v).toString());
    expect(back.text).toBe(v.text);
    expect(back.rows.map((r: number[]) => r.map(Math.fround))).toEqual(v.rows.map((r) => Array.from(r)));
    expect(back.nested).toEqual({ last: [Number(text(data[49]!))], n: 3 });
    expect(back.special).toEqual([null, 0, null]);
    // the value itself is left as it was: the lists are still there, not their placeholders
    expect(v.rows[0]).toBeInstanceOf(Float32Array);
    expect(v.nested.last).toBeInstanceOf(Float32Array);
  });
});
