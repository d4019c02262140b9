;; The statistics and histogram passes of src/stats in WebAssembly (SIMD), one chunk at a time: the caller copies up to
;; CHUNK float32 values to offset 0, calls `stats`, `find` or `hist`, and reads the results (see wasm-kernels.ts).
;; Memory (2 pages): [0, 65536) the chunk, f32[16384]; STATS = 65536, the running statistics (below);
;; COUNTS = 65792, i32[4, bins + 1].
;; Rebuild the bytes after an edit: `npm run build:wasm` (a test fails when kernels-wasm.ts is stale).
(module
  (memory (export "memory") 2)

;; STATS (added to by every `stats` call; the caller zeroes it first):
;;   +0 f64 sum (x - shift)   +8 f64 sum (x - shift)^2   +16 f64 sum x^2
;;   +24 f32 min   +28 f32 max (of the finite values; the caller starts them at +Inf / -Inf)
;;   +32 i32 finite   +36 i32 NaN   +40 i32 +Inf   +44 i32 -Inf
  ;; stats(n, shift): the fused statistics pass over the n values at offset 0 (tensorStats' float64 rule: each x is
  ;; promoted, then x - shift and its square are summed in float64). Four values per step: the low and the high pair
  ;; each have their own f64x2 sums, and the extrema are f32x4 lanes (pmin / pmax: a lane keeps its first value on
  ;; ties). `x - x` is 0 for a finite x, so one comparison clears a group of four; a group holding NaN/±Inf and the
  ;; tail go one value at a time.
  (func (export "stats") (param $n i32) (param $shift f64)
    (local $i i32) (local $end i32) (local $stop i32) (local $limit i32) (local $x f32) (local $d f64) (local $q f64)
    (local $v v128) (local $lo v128) (local $hi v128) (local $dl v128) (local $dh v128) (local $sh v128)
    (local $s1a v128) (local $s1b v128) (local $s2a v128) (local $s2b v128) (local $sqa v128) (local $sqb v128)
    (local $mn v128) (local $mx v128)
    (local $finite i32) (local $nan i32) (local $pinf i32) (local $ninf i32) (local $s1 f64) (local $s2 f64) (local $sq f64)
    (local.set $sh (f64x2.splat (local.get $shift)))
    (local.set $mn (f32x4.splat (f32.load (i32.const 65560))))
    (local.set $mx (f32x4.splat (f32.load (i32.const 65564))))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $stop (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $main
        (br_if $done (i32.ge_u (local.get $i) (local.get $stop)))
        (local.set $limit (local.get $stop))
        (if (i32.lt_u (local.get $i) (local.get $end))
          (then
            (local.set $v (v128.load (local.get $i)))
            (if (i32x4.all_true (f32x4.eq (f32x4.sub (local.get $v) (local.get $v)) (v128.const f32x4 0 0 0 0)))
              (then
                ;; [4] f32 -> [2] f64 (x0, x1) and [2] f64 (x2, x3)
                (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
                (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
                  (local.get $v) (local.get $v))))
                (local.set $dl (f64x2.sub (local.get $lo) (local.get $sh)))
                (local.set $dh (f64x2.sub (local.get $hi) (local.get $sh)))
                (local.set $s1a (f64x2.add (local.get $s1a) (local.get $dl)))
                (local.set $s1b (f64x2.add (local.get $s1b) (local.get $dh)))
                (local.set $s2a (f64x2.add (local.get $s2a) (f64x2.mul (local.get $dl) (local.get $dl))))
                (local.set $s2b (f64x2.add (local.get $s2b) (f64x2.mul (local.get $dh) (local.get $dh))))
                (local.set $sqa (f64x2.add (local.get $sqa) (f64x2.mul (local.get $lo) (local.get $lo))))
                (local.set $sqb (f64x2.add (local.get $sqb) (f64x2.mul (local.get $hi) (local.get $hi))))
                (local.set $mn (f32x4.pmin (local.get $v) (local.get $mn)))
                (local.set $mx (f32x4.pmax (local.get $mx) (local.get $v)))
                (local.set $finite (i32.add (local.get $finite) (i32.const 4)))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $main)))
            ;; four -Inf (the masked part of attention scores): counted at once
            (if (i32x4.all_true (f32x4.eq (local.get $v) (v128.const f32x4 -inf -inf -inf -inf)))
              (then
                (local.set $ninf (i32.add (local.get $ninf) (i32.const 4)))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $main)))
            (local.set $limit (i32.add (local.get $i) (i32.const 16)))))
        ;; value by value: the tail, or a group of four holding a NaN/±Inf
        (block $slow_done
          (loop $slow
            (br_if $slow_done (i32.ge_u (local.get $i) (local.get $limit)))
            (local.set $x (f32.load (local.get $i)))
            (if (f32.eq (f32.sub (local.get $x) (local.get $x)) (f32.const 0))
              (then
                (local.set $q (f64.promote_f32 (local.get $x)))
                (local.set $d (f64.sub (local.get $q) (local.get $shift)))
                (local.set $s1 (f64.add (local.get $s1) (local.get $d)))
                (local.set $s2 (f64.add (local.get $s2) (f64.mul (local.get $d) (local.get $d))))
                (local.set $sq (f64.add (local.get $sq) (f64.mul (local.get $q) (local.get $q))))
                (local.set $mn (f32x4.pmin (f32x4.splat (local.get $x)) (local.get $mn)))
                (local.set $mx (f32x4.pmax (local.get $mx) (f32x4.splat (local.get $x))))
                (local.set $finite (i32.add (local.get $finite) (i32.const 1))))
              (else
                (if (f32.ne (local.get $x) (local.get $x))
                  (then (local.set $nan (i32.add (local.get $nan) (i32.const 1))))
                  (else
                    (if (f32.gt (local.get $x) (f32.const 0))
                      (then (local.set $pinf (i32.add (local.get $pinf) (i32.const 1))))
                      (else (local.set $ninf (i32.add (local.get $ninf) (i32.const 1)))))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $slow)))
        (br $main)))
    ;; lanes -> the running statistics
    (local.set $s1a (f64x2.add (local.get $s1a) (local.get $s1b)))
    (local.set $s2a (f64x2.add (local.get $s2a) (local.get $s2b)))
    (local.set $sqa (f64x2.add (local.get $sqa) (local.get $sqb)))
    (f64.store (i32.const 65536) (f64.add (f64.load (i32.const 65536)) (f64.add (local.get $s1)
      (f64.add (f64x2.extract_lane 0 (local.get $s1a)) (f64x2.extract_lane 1 (local.get $s1a))))))
    (f64.store (i32.const 65544) (f64.add (f64.load (i32.const 65544)) (f64.add (local.get $s2)
      (f64.add (f64x2.extract_lane 0 (local.get $s2a)) (f64x2.extract_lane 1 (local.get $s2a))))))
    (f64.store (i32.const 65552) (f64.add (f64.load (i32.const 65552)) (f64.add (local.get $sq)
      (f64.add (f64x2.extract_lane 0 (local.get $sqa)) (f64x2.extract_lane 1 (local.get $sqa))))))
    (f32.store (i32.const 65560) (f32.min
      (f32.min (f32x4.extract_lane 0 (local.get $mn)) (f32x4.extract_lane 1 (local.get $mn)))
      (f32.min (f32x4.extract_lane 2 (local.get $mn)) (f32x4.extract_lane 3 (local.get $mn)))))
    (f32.store (i32.const 65564) (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
      (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
    (i32.store (i32.const 65568) (i32.add (i32.load (i32.const 65568)) (local.get $finite)))
    (i32.store (i32.const 65572) (i32.add (i32.load (i32.const 65572)) (local.get $nan)))
    (i32.store (i32.const 65576) (i32.add (i32.load (i32.const 65576)) (local.get $pinf)))
    (i32.store (i32.const 65580) (i32.add (i32.load (i32.const 65580)) (local.get $ninf))))

  ;; find(n, a, b): the index of the first of the n values at offset 0 that equals a or b, or -1. Four at a time;
  ;; the group that holds a match is searched value by value.
  (func (export "find") (param $n i32) (param $a f32) (param $b f32) (result i32)
    (local $i i32) (local $end i32) (local $va v128) (local $vb v128) (local $v v128)
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $vb (f32x4.splat (local.get $b)))
    (local.set $end (i32.and (local.get $n) (i32.const -4)))
    (block $found
      (loop $groups
        (br_if $found (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (i32.shl (local.get $i) (i32.const 2))))
        (br_if $found (v128.any_true (v128.or (f32x4.eq (local.get $v) (local.get $va))
          (f32x4.eq (local.get $v) (local.get $vb)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $groups)))
    (block $none
      (loop $values
        (br_if $none (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (f32x4.splat (f32.load (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.or (f32.eq (f32x4.extract_lane 0 (local.get $v)) (local.get $a))
              (f32.eq (f32x4.extract_lane 0 (local.get $v)) (local.get $b)))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $values)))
    (i32.const -1))

  ;; hist(n, min, scale, top, fast): for every finite x of the n values at offset 0, with t = (x - min) * scale in float64,
  ;; bin b = t >= top ? top : t < 1 ? 0 : trunc(t) (histogramKernel's rule; here min(max(trunc_sat(t), 0), top), the same
  ;; for every t), one count more in lane (i % 4)'s histogram: COUNTS + 4 (lane (top + 1) + b). Four histograms, so
  ;; runs of one bin do not wait on the same counter; the caller adds them up.
  ;; With `fast` (the caller's min is a float32 value and top <= 4096), a group of four first computes t in float32:
  ;; x - min then has a relative error of at most 2^-24, and t of about 3 * 2^-24, under 7.4e-4 for |t| <= 4097. So
  ;; where every lane's float32 t is at least 1/256 from an integer, its floor is the float64 floor (and a float32 t of
  ;; 0 means x = min, so t = 0 in float64 too: the zeros of an attention pattern stay on the fast path); beyond
  ;; [-1, top + 1] both clamp to the same end bin. Otherwise (about 1 group in 30) the group takes the float64 rule.
  (func (export "hist") (param $n i32) (param $min f64) (param $scale f64) (param $top i32) (param $fast i32)
    (local $i i32) (local $end i32) (local $stop i32) (local $limit i32) (local $x f32) (local $t f64) (local $b i32)
    (local $v v128) (local $mn v128) (local $sc v128) (local $tp v128) (local $zero v128) (local $bl v128) (local $bh v128)
    (local $stride i32) (local $lane i32) (local $mn4 v128) (local $sc4 v128) (local $t4 v128) (local $fr v128)
    (local $bi v128) (local $lanes v128)
    (local.set $mn4 (f32x4.splat (f32.demote_f64 (local.get $min))))
    (local.set $sc4 (f32x4.splat (f32.demote_f64 (local.get $scale))))
    (local.set $mn (f64x2.splat (local.get $min)))
    (local.set $sc (f64x2.splat (local.get $scale)))
    (local.set $tp (i32x4.splat (local.get $top)))
    ;; bytes between two lanes' histograms
    (local.set $stride (i32.shl (i32.add (local.get $top) (i32.const 1)) (i32.const 2)))
    (local.set $lanes (i32x4.add (i32x4.splat (i32.const 65792)) (i32x4.mul (i32x4.splat (local.get $stride))
      (v128.const i32x4 0 1 2 3))))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $stop (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $main
        (br_if $done (i32.ge_u (local.get $i) (local.get $stop)))
        (local.set $limit (local.get $stop))
        (if (i32.lt_u (local.get $i) (local.get $end))
          (then
            (local.set $v (v128.load (local.get $i)))
            (if (i32x4.all_true (f32x4.eq (f32x4.sub (local.get $v) (local.get $v)) (v128.const f32x4 0 0 0 0)))
              (then
                (local.set $t4 (f32x4.mul (f32x4.sub (local.get $v) (local.get $mn4)) (local.get $sc4)))
                (local.set $fr (f32x4.sub (local.get $t4) (f32x4.floor (local.get $t4))))
                (if (i32.and (local.get $fast) (i32x4.all_true (v128.or (v128.and
                      (f32x4.gt (local.get $fr) (v128.const f32x4 0.00390625 0.00390625 0.00390625 0.00390625))
                      (f32x4.lt (local.get $fr) (v128.const f32x4 0.99609375 0.99609375 0.99609375 0.99609375)))
                      (f32x4.eq (local.get $t4) (v128.const f32x4 0 0 0 0)))))
                  (then
                    ;; float32 t is at least 1/256 from an integer in every lane: its floor is float64's (see above)
                    (local.set $bi (i32x4.min_s (i32x4.max_s (i32x4.trunc_sat_f32x4_s (local.get $t4)) (local.get $zero))
                      (local.get $tp))))
                  (else
                    ;; [4] f32 -> t [2] f64 x 2 -> bins i32 (lanes 0-1 of each) -> [4] bins
                    (local.set $bl (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (f64x2.sub
                      (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mn)) (local.get $sc))))
                    (local.set $bh (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (f64x2.sub
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
                        (local.get $v) (local.get $v))) (local.get $mn)) (local.get $sc))))
                    (local.set $bi (i32x4.min_s (i32x4.max_s (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                      (local.get $bl) (local.get $bh)) (local.get $zero)) (local.get $tp)))))
                ;; bins -> counter addresses, COUNTS + lane stride + 4 b, then one count more in each
                (local.set $bi (i32x4.add (i32x4.shl (local.get $bi) (i32.const 2)) (local.get $lanes)))
                (local.set $b (i32x4.extract_lane 0 (local.get $bi)))
                (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 1)))
                (local.set $b (i32x4.extract_lane 1 (local.get $bi)))
                (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 1)))
                (local.set $b (i32x4.extract_lane 2 (local.get $bi)))
                (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 1)))
                (local.set $b (i32x4.extract_lane 3 (local.get $bi)))
                (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 1)))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $main)))
            ;; no finite value in the group (e.g. four masked scores): nothing to count
            (if (i32.eqz (v128.any_true (f32x4.eq (f32x4.sub (local.get $v) (local.get $v)) (v128.const f32x4 0 0 0 0))))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $main)))
            (local.set $limit (i32.add (local.get $i) (i32.const 16)))))
        ;; value by value (into lane 0's histogram): the tail, or a group of four holding a NaN/±Inf
        (block $slow_done
          (loop $slow
            (br_if $slow_done (i32.ge_u (local.get $i) (local.get $limit)))
            (local.set $x (f32.load (local.get $i)))
            (if (f32.eq (f32.sub (local.get $x) (local.get $x)) (f32.const 0))
              (then
                (local.set $t (f64.mul (f64.sub (f64.promote_f32 (local.get $x)) (local.get $min)) (local.get $scale)))
                (local.set $b
                  (select
                    (local.get $top)
                    (select (i32.const 0) (i32.trunc_sat_f64_s (local.get $t)) (f64.lt (local.get $t) (f64.const 1)))
                    (f64.ge (local.get $t) (f64.convert_i32_s (local.get $top)))))
                (local.set $b (i32.add (i32.const 65792) (i32.shl (local.get $b) (i32.const 2))))
                (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 1)))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $slow)))
        (br $main)))))
