;; The histogram pass of src/stats in WebAssembly (SIMD), one chunk at a time: the caller copies up to CHUNK float32
;; values to offset 0, calls `hist`, and adds up the counts (see wasm-kernels.ts).
;; Memory (2 pages): [0, 65536) the chunk, f32[16384]; COUNTS = 65792, i32[4, bins + 1].
;; (The statistics pass was tried here too, f64x2 sums and f32x4 extrema: no faster than the JavaScript loop, 0.4-1.3x.)
;; Rebuild the bytes after an edit: `npm run build:wasm` (a test fails when kernels-wasm.ts is stale).
(module
  (memory (export "memory") 2)

  ;; hist(n, min, scale, top): for every finite x of the n values at offset 0, with t = (x - min) * scale in float64,
  ;; bin b = t >= top ? top : t < 1 ? 0 : trunc(t) (histogramKernel's rule; here min(max(trunc_sat(t), 0), top), the same
  ;; for every t), one count more in lane (i % 4)'s histogram: COUNTS + 4 (lane (top + 1) + b). Four histograms, so
  ;; runs of one bin do not wait on the same counter; the caller adds them up.
  (func (export "hist") (param $n i32) (param $min f64) (param $scale f64) (param $top i32)
    (local $i i32) (local $end i32) (local $stop i32) (local $limit i32) (local $x f32) (local $t f64) (local $b i32)
    (local $v v128) (local $mn v128) (local $sc v128) (local $tp v128) (local $zero v128) (local $bl v128) (local $bh v128)
    (local $stride i32) (local $lane i32)
    (local.set $mn (f64x2.splat (local.get $min)))
    (local.set $sc (f64x2.splat (local.get $scale)))
    (local.set $tp (i32x4.splat (local.get $top)))
    ;; bytes between two lanes' histograms
    (local.set $stride (i32.shl (i32.add (local.get $top) (i32.const 1)) (i32.const 2)))
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
                ;; [4] f32 -> t [2] f64 x 2 -> bins i32 (lanes 0-1 of each)
                (local.set $bl (i32x4.min_s (i32x4.max_s (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (f64x2.sub
                  (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mn)) (local.get $sc))) (local.get $zero))
                  (local.get $tp)))
                (local.set $bh (i32x4.min_s (i32x4.max_s (i32x4.trunc_sat_f64x2_s_zero (f64x2.mul (f64x2.sub
                  (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
                    (local.get $v) (local.get $v))) (local.get $mn)) (local.get $sc))) (local.get $zero))
                  (local.get $tp)))
                (local.set $b (i32.add (i32.const 65792) (i32.shl (i32x4.extract_lane 0 (local.get $bl)) (i32.const 2))))
                (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 1)))
                (local.set $b (i32.add (i32.add (i32.const 65792) (local.get $stride))
                  (i32.shl (i32x4.extract_lane 1 (local.get $bl)) (i32.const 2))))
                (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 1)))
                (local.set $b (i32.add (i32.add (i32.const 65792) (i32.shl (local.get $stride) (i32.const 1)))
                  (i32.shl (i32x4.extract_lane 0 (local.get $bh)) (i32.const 2))))
                (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 1)))
                (local.set $b (i32.add (i32.add (i32.const 65792) (i32.mul (local.get $stride) (i32.const 3)))
                  (i32.shl (i32x4.extract_lane 1 (local.get $bh)) (i32.const 2))))
                (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 1)))
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
