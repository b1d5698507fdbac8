(module
  ;; The vector kernels of L-BFGS (optimizers.ts) in WebAssembly SIMD: the pairs and vectors they read live in
  ;; this memory, which JavaScript also views as Float32Arrays. Addresses and lengths are in bytes, multiples
  ;; of 16 (vectors are padded with zeros to a multiple of 4 values).
  (import "env" "memory" (memory 1))

  ;; Sums the four f32 lanes of v into an f64.
  (func $lanes (param $v v128) (result f64)
    (f64.add
      (f64.add (f64.promote_f32 (f32x4.extract_lane 0 (local.get $v))) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $v))))
      (f64.add (f64.promote_f32 (f32x4.extract_lane 2 (local.get $v))) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $v))))))

  ;; s·g, y·g, s·v, y·v over `bytes` (a multiple of 16). Products are summed in f32 lanes over chunks of
  ;; 256 values, and the chunks in f64, so rounding stays that of a 256-term f32 sum.
  (func (export "pairDots") (param $s i32) (param $y i32) (param $g i32) (param $v i32) (param $bytes i32)
    (result f64 f64 f64 f64)
    (local $j i32) (local $chunkEnd i32)
    (local $a v128) (local $b v128) (local $gj v128) (local $vj v128)
    (local $sg v128) (local $yg v128) (local $sv v128) (local $yv v128)
    (local $tsg f64) (local $tyg f64) (local $tsv f64) (local $tyv f64)
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $j) (local.get $bytes)))
        (local.set $chunkEnd (i32.add (local.get $j) (i32.const 1024)))
        (if (i32.gt_u (local.get $chunkEnd) (local.get $bytes)) (then (local.set $chunkEnd (local.get $bytes))))
        (local.set $sg (v128.const i64x2 0 0))
        (local.set $yg (v128.const i64x2 0 0))
        (local.set $sv (v128.const i64x2 0 0))
        (local.set $yv (v128.const i64x2 0 0))
        (loop $values
          (local.set $a (v128.load (i32.add (local.get $s) (local.get $j))))
          (local.set $b (v128.load (i32.add (local.get $y) (local.get $j))))
          (local.set $gj (v128.load (i32.add (local.get $g) (local.get $j))))
          (local.set $vj (v128.load (i32.add (local.get $v) (local.get $j))))
          (local.set $sg (f32x4.add (local.get $sg) (f32x4.mul (local.get $a) (local.get $gj))))
          (local.set $yg (f32x4.add (local.get $yg) (f32x4.mul (local.get $b) (local.get $gj))))
          (local.set $sv (f32x4.add (local.get $sv) (f32x4.mul (local.get $a) (local.get $vj))))
          (local.set $yv (f32x4.add (local.get $yv) (f32x4.mul (local.get $b) (local.get $vj))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $values (i32.lt_u (local.get $j) (local.get $chunkEnd))))
        (local.set $tsg (f64.add (local.get $tsg) (call $lanes (local.get $sg))))
        (local.set $tyg (f64.add (local.get $tyg) (call $lanes (local.get $yg))))
        (local.set $tsv (f64.add (local.get $tsv) (call $lanes (local.get $sv))))
        (local.set $tyv (f64.add (local.get $tyv) (call $lanes (local.get $yv))))
        (br $chunks)))
    (local.get $tsg) (local.get $tyg) (local.get $tsv) (local.get $tyv))

  ;; out = a·s + b·y + keep·out (keep 0 starts a sum, 1 adds to it).
  (func (export "addPair") (param $a f32) (param $s i32) (param $b f32) (param $y i32) (param $keep f32) (param $out i32) (param $bytes i32)
    (local $j i32) (local $va v128) (local $vb v128) (local $vk v128) (local $p i32)
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $vb (f32x4.splat (local.get $b)))
    (local.set $vk (f32x4.splat (local.get $keep)))
    (block $done
      (loop $values
        (br_if $done (i32.ge_u (local.get $j) (local.get $bytes)))
        (local.set $p (i32.add (local.get $out) (local.get $j)))
        (v128.store (local.get $p)
          (f32x4.add
            (f32x4.mul (local.get $vk) (v128.load (local.get $p)))
            (f32x4.add
              (f32x4.mul (local.get $va) (v128.load (i32.add (local.get $s) (local.get $j))))
              (f32x4.mul (local.get $vb) (v128.load (i32.add (local.get $y) (local.get $j)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $values))))

  ;; a·b, summed like pairDots.
  (func (export "dot") (param $a i32) (param $b i32) (param $bytes i32) (result f64)
    (local $j i32) (local $chunkEnd i32) (local $sum v128) (local $total f64)
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $j) (local.get $bytes)))
        (local.set $chunkEnd (i32.add (local.get $j) (i32.const 1024)))
        (if (i32.gt_u (local.get $chunkEnd) (local.get $bytes)) (then (local.set $chunkEnd (local.get $bytes))))
        (local.set $sum (v128.const i64x2 0 0))
        (loop $values
          (local.set $sum
            (f32x4.add (local.get $sum)
              (f32x4.mul
                (v128.load (i32.add (local.get $a) (local.get $j)))
                (v128.load (i32.add (local.get $b) (local.get $j))))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $values (i32.lt_u (local.get $j) (local.get $chunkEnd))))
        (local.set $total (f64.add (local.get $total) (call $lanes (local.get $sum))))
        (br $chunks)))
    (local.get $total))
)
