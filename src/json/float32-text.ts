// Float32 values as JSON numbers: the shortest decimal that reads back to the same float32, written straight into
// bytes. An activation is a float32; printing it as the double it widens to (0.5510608553886414) spends 17 digits on
// a value that 8 digits (0.55106086) name exactly, and JSON.stringify's double formatting is ~250 ns a value.

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
/** POW10[j] = 10^j and POW10_NEG[j] = 10^-j, each rounded to the nearest double (10^j exact up to 10^22). */
const POW10 = Float64Array.from({ length: 64 }, (_, j) => Number(`1e${j}`));
const POW10_NEG = Float64Array.from({ length: 64 }, (_, j) => Number(`1e-${j}`));
/** 10^m as the nearest double, -64 < m < 64. */
const tenTo = (m: number) => (m >= 0 ? POW10[m]! : POW10_NEG[-m]!);
/** STEP[e] = one float32 step at biased exponent e: 2^(e-150), and 2^-149 for subnormals (e = 0). */
const STEP = Float64Array.from({ length: 256 }, (_, e) => 2 ** (Math.max(e, 1) - 150));
/** E10[e] = floor((e - 127) * log10 2): floor(log10 v) or one less for a normal float32 v at biased exponent e. */
const E10 = Int32Array.from({ length: 256 }, (_, e) => Math.floor((e - 127) * Math.log10(2)));
/**
 * TEN_UP[e] = 10^(E10[e] + 1) as the nearest double: v >= TEN_UP[e] exactly when v >= 10^(E10[e] + 1), since no
 * float32 lies between a power of ten and its nearest double (checked below, where the table is made).
 */
const TEN_UP = Float64Array.from({ length: 256 }, (_, e) => {
  const t = Number(`1e${E10[e]! + 1}`);
  if (E10[e]! + 1 > 10 && Math.fround(t) === t) throw new Error(`10^${E10[e]! + 1} rounds to a float32`);
  return t;
});
/** x + ROUNDER - ROUNDER rounds x (0 <= x < 2^51) to the nearest integer, ties to even, in two additions. */
const ROUNDER = 2 ** 52 + 2 ** 51;
/**
 * Safety margin, relative: the scaled interval ends lo·10^m and hi·10^m are each within ~3e-16 (relative) of the
 * true products, so an integer more than 1e-15 inside them is inside the true interval.
 */
const MARGIN = 1e-15;
const ZERO = 48; // '0'

/**
 * Writes `v` (a float32 value) at `out[at]` as a JSON number; returns the index after it. NaN and ±Infinity are
 * written as `null` and -0 as `0`, as JSON.stringify does. The digits are the fewest that read back to `v` as a
 * float32 (`Math.fround(Number(text)) === v`), closest to `v` among those; the layout is JavaScript's own
 * (Number.prototype.toString: plain decimals for 1e-7 <= |v| < 1e21, else `d.ddde±x`). `out` needs 16 bytes free.
 */
export function writeFloat32(out: Uint8Array, at: number, v: number): number {
  if (v !== v || v === Infinity || v === -Infinity) {
    out[at] = 110; // null
    out[at + 1] = 117;
    out[at + 2] = 108;
    out[at + 3] = 108;
    return at + 4;
  }
  if (v === 0) {
    out[at] = ZERO;
    return at + 1;
  }
  let i = at;
  if (v < 0) {
    out[i++] = 45; // '-'
    v = -v;
  }
  // the float32 neighbours bound the decimals that round back to v: (lo, hi), ends excluded
  F32[0] = v;
  const bits = U32[0]!;
  const exp = bits >>> 23;
  const frac = bits & 0x7fffff;
  // one float32 step up from v; a step down is half as large at a power of two (not for subnormals)
  const up = STEP[exp]!;
  const down = frac === 0 && exp > 1 ? up / 2 : up;
  const lo = v - down / 2; // exact: a float32 midpoint needs 25 bits
  const hi = v + up / 2;
  // floor(log10 v), exactly (subnormals: from Math.log10, possibly one low, which costs a digit, never exactness)
  let e10 = exp === 0 ? Math.floor(Math.log10(v)) - 1 : E10[exp]! + (v >= TEN_UP[exp]! ? 1 : 0);
  const even = (bits & 1) === 0; // ties to even: a decimal exactly on an end reads back to v only then
  // fewest digits p: a p-digit candidate exists for every p above the shortest. Most float32 need 8 or 9 digits:
  // try 8, walk down while a candidate exists, or take 9 (which always names v) when 8 has none
  let best = 0;
  let bestK = 0;
  for (let p = 8; p >= 0; p--) {
    const k = e10 - p + 1; // candidate = n * 10^k
    const s = tenTo(-k);
    const L = lo * s * (1 + MARGIN);
    const H = hi * s * (1 - MARGIN);
    // the nearest candidate; halfway between two, the even one, as Dragon4 / Ryu choose (and v * s < 2^51)
    let n = v * s + ROUNDER - ROUNDER;
    if (n <= L) n = Math.floor(L) + 1;
    else if (n >= H) n = Math.ceil(H) - 1;
    if (!(n > L && n < H)) {
      // none strictly inside; with an even mantissa an end itself may be a short decimal (large integers)
      n = even ? onEnd(lo, s, k) || onEnd(hi, s, k) : 0;
      if (n === 0) {
        if (p === 8) {
          // 9 digits: the nearest 9-digit decimal is within half a unit of the 9th digit, well inside (lo, hi)
          bestK = e10 - 8;
          best = v * tenTo(-bestK) + ROUNDER - ROUNDER;
        }
        break;
      }
    }
    best = n;
    bestK = k;
  }
  // 0 < best < 10^9 (a 9-digit candidate rounding up to 10^9 loses its trailing zero below);
  // from here n is an int32 (a double `%` is a call into the runtime)
  let n = best | 0;
  let k = bestK;
  for (let q = (n / 10) | 0; n === q * 10; q = (n / 10) | 0) {
    n = q;
    k++;
  }
  let nd = 1; // digits of n (n < 2^31: at most 10)
  while (nd < 10 && n >= POW10[nd]!) nd++;
  const point = nd + k; // the decimal point sits after `point` digits (ECMAScript's n)
  e10 = point - 1;
  if (point >= nd && point <= 21) {
    i = digits(out, i, n, nd);
    for (let z = 0; z < k; z++) out[i++] = ZERO;
  } else if (point > 0 && point <= 21) {
    const d = digits(out, i, n, nd);
    // shift the fraction digits right by one to make room for the point
    for (let j = d; j > i + point; j--) out[j] = out[j - 1]!;
    out[i + point] = 46; // '.'
    i = d + 1;
  } else if (point > -6 && point <= 0) {
    out[i++] = ZERO;
    out[i++] = 46;
    for (let z = 0; z < -point; z++) out[i++] = ZERO;
    i = digits(out, i, n, nd);
  } else {
    const d = digits(out, i, n, nd);
    if (nd > 1) {
      for (let j = d; j > i + 1; j--) out[j] = out[j - 1]!;
      out[i + 1] = 46;
      i = d + 1;
    } else i = d;
    out[i++] = 101; // 'e'
    out[i++] = e10 < 0 ? 45 : 43;
    i = digits(out, i, Math.abs(e10), Math.abs(e10) >= 10 ? 2 : 1);
  }
  return i;
}

/** The integer n with n * 10^k exactly equal to `end` (a double), or 0. Exact, in BigInt: a rare path. */
function onEnd(end: number, s: number, k: number): number {
  const r = end * s;
  const n = Math.round(r);
  // r is within ~3e-16 (relative) of the true product, and n has at most 10 digits: farther than 1e-5 is not equal
  if (n < 1 || Math.abs(r - n) > 1e-5) return 0;
  // end = m * 2^e exactly
  let m = end;
  let e = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    e--;
  }
  const left = BigInt(n) * 10n ** BigInt(Math.max(k, 0)) * 2n ** BigInt(Math.max(-e, 0));
  const right = BigInt(m) * 10n ** BigInt(Math.max(-k, 0));
  return left === right ? n : 0;
}

/** Writes the `nd` decimal digits of the int32 n; returns the index after them. */
function digits(out: Uint8Array, at: number, n: number, nd: number): number {
  for (let j = at + nd - 1; j >= at; j--) {
    const q = (n / 10) | 0;
    out[j] = ZERO + (n - q * 10);
    n = q;
  }
  return at + nd;
}
