(module (import "env" "mem" (memory 1))
;; Max-pooling over p x p windows with stride p (valid), NHWC, C % 4 == 0, four channels per vector.
;; y: each window's maximum; arg: its window position u * p + v (i32), the first maximum in row-major
;; window order (a strict > scan from -inf, as tfjs-cpu and PyTorch). Byte offsets.
(func (export "max_fwd") (param $x i32) (param $y i32) (param $arg i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32) (param $p i32)
  (local $b i32) (local $i i32) (local $j i32) (local $c i32) (local $u i32) (local $v i32)
  (local $oh i32) (local $ow i32) (local $rs i32) (local $base i32) (local $px i32) (local $k i32)
  (local $best v128) (local $at v128) (local $val v128) (local $m v128)
  (local.set $oh (i32.div_u (local.get $H) (local.get $p)))
  (local.set $ow (i32.div_u (local.get $W) (local.get $p)))
  (local.set $rs (i32.shl (i32.mul (local.get $W) (local.get $C)) (i32.const 2)))
  (local.set $b (i32.const 0))
  (block $bend (loop $bloop
    (br_if $bend (i32.ge_u (local.get $b) (local.get $B)))
    (local.set $i (i32.const 0))
    (block $iend (loop $iloop
      (br_if $iend (i32.ge_u (local.get $i) (local.get $oh)))
      (local.set $j (i32.const 0))
      (block $jend (loop $jloop
        (br_if $jend (i32.ge_u (local.get $j) (local.get $ow)))
        ;; byte offset of the window's top-left pixel
        (local.set $base (i32.add (local.get $x) (i32.add
          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (i32.mul (local.get $i) (local.get $p))) (local.get $rs))
          (i32.shl (i32.mul (i32.mul (local.get $j) (local.get $p)) (local.get $C)) (i32.const 2)))))
        (local.set $c (i32.const 0))
        (block $cend (loop $cloop
          (br_if $cend (i32.ge_u (local.get $c) (local.get $C)))
          (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
          (local.set $at (v128.const i32x4 0 0 0 0))
          (local.set $k (i32.const 0))
          (local.set $u (i32.const 0))
          (block $uend (loop $uloop
            (br_if $uend (i32.ge_u (local.get $u) (local.get $p)))
            (local.set $px (i32.add (i32.add (local.get $base) (i32.mul (local.get $u) (local.get $rs))) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $v (i32.const 0))
            (block $vend (loop $vloop
              (br_if $vend (i32.ge_u (local.get $v) (local.get $p)))
              (local.set $val (v128.load (local.get $px)))
              (local.set $m (f32x4.gt (local.get $val) (local.get $best)))
              (local.set $best (v128.bitselect (local.get $val) (local.get $best) (local.get $m)))
              (local.set $at (v128.bitselect (i32x4.splat (local.get $k)) (local.get $at) (local.get $m)))
              (local.set $px (i32.add (local.get $px) (i32.shl (local.get $C) (i32.const 2))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (local.set $v (i32.add (local.get $v) (i32.const 1)))
              (br $vloop)))
            (local.set $u (i32.add (local.get $u) (i32.const 1)))
            (br $uloop)))
          (v128.store (local.get $y) (local.get $best))
          (v128.store (local.get $arg) (local.get $at))
          (local.set $y (i32.add (local.get $y) (i32.const 16)))
          (local.set $arg (i32.add (local.get $arg) (i32.const 16)))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $cloop)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $iloop)))
    (local.set $b (i32.add (local.get $b) (i32.const 1)))
    (br $bloop)))
)
;; dx of max_fwd: each window position gets dy where arg names it, +0 elsewhere. Positions in no window
;; (odd H or W) are not written: the caller zeroes dx first then. $y, when not 0: the pooled outputs of
;; a ReLU's output, and dy is first multiplied by (y > 0) as the ReLU's backward would multiply dx
;; (relu_bwd in activations.wat): the maximum is the ReLU's output at the position dy goes to, and
;; the other positions are +0 either way, so the bits are those of max_bwd then relu_bwd.
(func (export "max_bwd") (param $dy i32) (param $arg i32) (param $dx i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32) (param $p i32) (param $y i32)
  (local $b i32) (local $i i32) (local $j i32) (local $c i32) (local $u i32) (local $v i32)
  (local $oh i32) (local $ow i32) (local $rs i32) (local $base i32) (local $px i32) (local $k i32)
  (local $d v128) (local $a v128)
  (local.set $oh (i32.div_u (local.get $H) (local.get $p)))
  (local.set $ow (i32.div_u (local.get $W) (local.get $p)))
  (local.set $rs (i32.shl (i32.mul (local.get $W) (local.get $C)) (i32.const 2)))
  (local.set $b (i32.const 0))
  (block $bend (loop $bloop
    (br_if $bend (i32.ge_u (local.get $b) (local.get $B)))
    (local.set $i (i32.const 0))
    (block $iend (loop $iloop
      (br_if $iend (i32.ge_u (local.get $i) (local.get $oh)))
      (local.set $j (i32.const 0))
      (block $jend (loop $jloop
        (br_if $jend (i32.ge_u (local.get $j) (local.get $ow)))
        (local.set $base (i32.add (local.get $dx) (i32.add
          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (i32.mul (local.get $i) (local.get $p))) (local.get $rs))
          (i32.shl (i32.mul (i32.mul (local.get $j) (local.get $p)) (local.get $C)) (i32.const 2)))))
        (local.set $c (i32.const 0))
        (block $cend (loop $cloop
          (br_if $cend (i32.ge_u (local.get $c) (local.get $C)))
          (local.set $d (v128.load (local.get $dy)))
          (if (local.get $y) (then
            (local.set $d (f32x4.mul (local.get $d)
              (v128.and (f32x4.gt (v128.load (local.get $y)) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))))
          (local.set $a (v128.load (local.get $arg)))
          (local.set $k (i32.const 0))
          (local.set $u (i32.const 0))
          (block $uend (loop $uloop
            (br_if $uend (i32.ge_u (local.get $u) (local.get $p)))
            (local.set $px (i32.add (i32.add (local.get $base) (i32.mul (local.get $u) (local.get $rs))) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $v (i32.const 0))
            (block $vend (loop $vloop
              (br_if $vend (i32.ge_u (local.get $v) (local.get $p)))
              (v128.store (local.get $px) (v128.and (local.get $d) (i32x4.eq (local.get $a) (i32x4.splat (local.get $k)))))
              (local.set $px (i32.add (local.get $px) (i32.shl (local.get $C) (i32.const 2))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (local.set $v (i32.add (local.get $v) (i32.const 1)))
              (br $vloop)))
            (local.set $u (i32.add (local.get $u) (i32.const 1)))
            (br $uloop)))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
          (local.set $arg (i32.add (local.get $arg) (i32.const 16)))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $cloop)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $iloop)))
    (local.set $b (i32.add (local.get $b) (i32.const 1)))
    (br $bloop)))
)
)
