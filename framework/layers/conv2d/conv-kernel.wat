(module (import "env" "mem" (memory 1))
;; Copy n floats from src to dst (byte offsets): four at a time while n >= 4, then one at a time.
(func $copy (param $dst i32) (param $src i32) (param $n i32)
  (block $vend (loop $vloop
    (br_if $vend (i32.lt_u (local.get $n) (i32.const 4)))
    (v128.store (local.get $dst) (v128.load (local.get $src)))
    (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
    (local.set $src (i32.add (local.get $src) (i32.const 16)))
    (local.set $n (i32.sub (local.get $n) (i32.const 4)))
    (br $vloop)))
  (block $send (loop $sloop
    (br_if $send (i32.eqz (local.get $n)))
    (f32.store (local.get $dst) (f32.load (local.get $src)))
    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
    (local.set $src (i32.add (local.get $src) (i32.const 4)))
    (local.set $n (i32.sub (local.get $n) (i32.const 1)))
    (br $sloop)))
)
(func $zero (param $dst i32) (param $n i32)
  (block $send (loop $sloop
    (br_if $send (i32.eqz (local.get $n)))
    (f32.store (local.get $dst) (f32.const 0))
    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
    (local.set $n (i32.sub (local.get $n) (i32.const 1)))
    (br $sloop)))
)
;; One patch row of a stride-1 conv at output pixel (h, w) of the image at $x, written at $o:
;; row[(u * kw + v) * C + c] = x[h + u - top, w + v - left, c], zero outside the image and in columns
;; K..Kp (K = kh * kw * C). Returns the byte offset after the row. May read up to 3 floats past the
;; image and write up to 3 past the row (a kernel row of up to 4 floats is copied as one vector; the
;; floats past it are rewritten later: the next kernel row, the K..Kp zeros, the next patch row, or
;; for the last row the start of the caller's next region, written after).
(func $patch (param $o i32) (param $x i32) (param $h i32) (param $w i32) (param $H i32) (param $W i32) (param $C i32) (param $kh i32) (param $kw i32) (param $top i32) (param $left i32) (param $Kp i32) (result i32)
  (local $u i32) (local $v i32) (local $hh i32) (local $ww i32) (local $K i32) (local $cb i32) (local $run i32)
  (local.set $K (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (local.get $C)))
  (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
  (local.set $run (i32.mul (local.get $kw) (local.get $C)))
  (local.set $hh (i32.sub (local.get $h) (local.get $top)))
  (local.set $ww (i32.sub (local.get $w) (local.get $left)))
  ;; a patch inside the image (most of them): kh kernel rows of kw * C floats, copied inline
  (if (i32.and
        (i32.and (i32.ge_s (local.get $hh) (i32.const 0)) (i32.le_s (i32.add (local.get $hh) (local.get $kh)) (local.get $H)))
        (i32.and (i32.ge_s (local.get $ww) (i32.const 0)) (i32.le_s (i32.add (local.get $ww) (local.get $kw)) (local.get $W))))
    (then
      (local.set $x (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $hh) (local.get $W)) (local.get $ww)) (local.get $cb))))
      (local.set $u (local.get $kh))
      (block $iend (loop $iloop
        (br_if $iend (i32.eqz (local.get $u)))
        (if (i32.le_u (local.get $run) (i32.const 4))
          (then (v128.store (local.get $o) (v128.load (local.get $x))))
          (else
            (local.set $v (i32.const 0))
            (block $vend (loop $vloop
              (br_if $vend (i32.ge_u (i32.add (local.get $v) (i32.const 4)) (i32.add (local.get $run) (i32.const 1))))
              (v128.store (i32.add (local.get $o) (i32.shl (local.get $v) (i32.const 2))) (v128.load (i32.add (local.get $x) (i32.shl (local.get $v) (i32.const 2)))))
              (local.set $v (i32.add (local.get $v) (i32.const 4)))
              (br $vloop)))
            (block $tend (loop $tloop
              (br_if $tend (i32.ge_u (local.get $v) (local.get $run)))
              (f32.store (i32.add (local.get $o) (i32.shl (local.get $v) (i32.const 2))) (f32.load (i32.add (local.get $x) (i32.shl (local.get $v) (i32.const 2)))))
              (local.set $v (i32.add (local.get $v) (i32.const 1)))
              (br $tloop)))))
        (local.set $o (i32.add (local.get $o) (i32.shl (local.get $run) (i32.const 2))))
        (local.set $x (i32.add (local.get $x) (i32.mul (local.get $W) (local.get $cb))))
        (local.set $u (i32.sub (local.get $u) (i32.const 1)))
        (br $iloop)))
      (call $zero (local.get $o) (i32.sub (local.get $Kp) (local.get $K)))
      (return (i32.add (local.get $o) (i32.shl (i32.sub (local.get $Kp) (local.get $K)) (i32.const 2))))))
  (local.set $u (i32.const 0))
  (block $uend (loop $uloop
    (br_if $uend (i32.ge_u (local.get $u) (local.get $kh)))
    (local.set $hh (i32.sub (i32.add (local.get $h) (local.get $u)) (local.get $top)))
    (local.set $ww (i32.sub (local.get $w) (local.get $left)))
    (if (i32.ge_u (local.get $hh) (local.get $H))
      (then (call $zero (local.get $o) (local.get $run)))
      (else (if (i32.and (i32.ge_s (local.get $ww) (i32.const 0)) (i32.le_s (i32.add (local.get $ww) (local.get $kw)) (local.get $W)))
        ;; the kernel row inside the image: kw * C contiguous floats
        (then (if (i32.le_u (local.get $run) (i32.const 4))
          (then (v128.store (local.get $o) (v128.load
            (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $hh) (local.get $W)) (local.get $ww)) (local.get $cb))))))
          (else (call $copy (local.get $o)
            (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $hh) (local.get $W)) (local.get $ww)) (local.get $cb)))
            (local.get $run)))))
        ;; at the left or right edge: pixel by pixel
        (else
          (local.set $v (i32.const 0))
          (block $vend (loop $vloop
            (br_if $vend (i32.ge_u (local.get $v) (local.get $kw)))
            (if (i32.lt_u (i32.add (local.get $ww) (local.get $v)) (local.get $W))
              (then (call $copy (i32.add (local.get $o) (i32.mul (local.get $v) (local.get $cb)))
                (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $hh) (local.get $W)) (i32.add (local.get $ww) (local.get $v))) (local.get $cb)))
                (local.get $C)))
              (else (call $zero (i32.add (local.get $o) (i32.mul (local.get $v) (local.get $cb))) (local.get $C))))
            (local.set $v (i32.add (local.get $v) (i32.const 1)))
            (br $vloop)))))))
    (local.set $o (i32.add (local.get $o) (i32.shl (local.get $run) (i32.const 2))))
    (local.set $u (i32.add (local.get $u) (i32.const 1)))
    (br $uloop)))
  (call $zero (local.get $o) (i32.sub (local.get $Kp) (local.get $K)))
  (i32.add (local.get $o) (i32.shl (i32.sub (local.get $Kp) (local.get $K)) (i32.const 2)))
)
;; cols[(h * W + w) * B + b, :] = the 'same' patch row of x[b] at (h, w): rows in (h, w, b) order, the
;; order XNNPACK sums the filter gradient's conv of transposes in. Byte offsets.
(func (export "im2col_hwb") (param $x i32) (param $cols i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32) (param $kh i32) (param $kw i32) (param $Kp i32)
  (local $h i32) (local $w i32) (local $b i32) (local $top i32) (local $left i32) (local $o i32) (local $img i32)
  (local.set $top (i32.shr_u (i32.sub (local.get $kh) (i32.const 1)) (i32.const 1)))
  (local.set $left (i32.shr_u (i32.sub (local.get $kw) (i32.const 1)) (i32.const 1)))
  (local.set $img (i32.shl (i32.mul (i32.mul (local.get $H) (local.get $W)) (local.get $C)) (i32.const 2)))
  (local.set $o (local.get $cols))
  (local.set $h (i32.const 0))
  (block $hend (loop $hloop
    (br_if $hend (i32.ge_u (local.get $h) (local.get $H)))
    (local.set $w (i32.const 0))
    (block $wend (loop $wloop
      (br_if $wend (i32.ge_u (local.get $w) (local.get $W)))
      (local.set $b (i32.const 0))
      (block $bend (loop $bloop
        (br_if $bend (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $o (call $patch (local.get $o) (i32.add (local.get $x) (i32.mul (local.get $b) (local.get $img)))
          (local.get $h) (local.get $w) (local.get $H) (local.get $W) (local.get $C) (local.get $kh) (local.get $kw) (local.get $top) (local.get $left) (local.get $Kp)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bloop)))
      (local.set $w (i32.add (local.get $w) (i32.const 1)))
      (br $wloop)))
    (local.set $h (i32.add (local.get $h) (i32.const 1)))
    (br $hloop)))
)
;; cols[(b * H + h) * W + w, :] = the patch row of x[b] at (h, w) with padding top, left: rows in NHWC
;; order, so cols @ W is the conv's output as it lies (the fast path's forward and input gradient).
(func (export "im2col_bhw") (param $x i32) (param $cols i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32) (param $kh i32) (param $kw i32) (param $top i32) (param $left i32) (param $Kp i32)
  (local $h i32) (local $w i32) (local $b i32) (local $o i32) (local $img i32) (local $xb i32)
  (local.set $img (i32.shl (i32.mul (i32.mul (local.get $H) (local.get $W)) (local.get $C)) (i32.const 2)))
  (local.set $o (local.get $cols))
  (local.set $b (i32.const 0))
  (block $bend (loop $bloop
    (br_if $bend (i32.ge_u (local.get $b) (local.get $B)))
    (local.set $xb (i32.add (local.get $x) (i32.mul (local.get $b) (local.get $img))))
    (local.set $h (i32.const 0))
    (block $hend (loop $hloop
      (br_if $hend (i32.ge_u (local.get $h) (local.get $H)))
      (local.set $w (i32.const 0))
      (block $wend (loop $wloop
        (br_if $wend (i32.ge_u (local.get $w) (local.get $W)))
        (local.set $o (call $patch (local.get $o) (local.get $xb)
          (local.get $h) (local.get $w) (local.get $H) (local.get $W) (local.get $C) (local.get $kh) (local.get $kw) (local.get $top) (local.get $left) (local.get $Kp)))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (br $wloop)))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br $hloop)))
    (local.set $b (i32.add (local.get $b) (i32.const 1)))
    (br $bloop)))
)
;; d[(h * W + w) * B + b, c] = dy[b, h, w, c] for c < N, zero for N <= c < Np. Byte offsets.
(func (export "rows_hwb") (param $dy i32) (param $d i32) (param $B i32) (param $H i32) (param $W i32) (param $N i32) (param $Np i32)
  (local $h i32) (local $w i32) (local $b i32) (local $o i32) (local $img i32) (local $nb i32) (local $pad i32)
  (local.set $img (i32.shl (i32.mul (i32.mul (local.get $H) (local.get $W)) (local.get $N)) (i32.const 2)))
  (local.set $nb (i32.shl (local.get $N) (i32.const 2)))
  (local.set $pad (i32.sub (local.get $Np) (local.get $N)))
  (local.set $o (local.get $d))
  (local.set $h (i32.const 0))
  (block $hend (loop $hloop
    (br_if $hend (i32.ge_u (local.get $h) (local.get $H)))
    (local.set $w (i32.const 0))
    (block $wend (loop $wloop
      (br_if $wend (i32.ge_u (local.get $w) (local.get $W)))
      (local.set $b (i32.const 0))
      (block $bend (loop $bloop
        (br_if $bend (i32.ge_u (local.get $b) (local.get $B)))
        (call $copy (local.get $o)
          (i32.add (i32.add (local.get $dy) (i32.mul (local.get $b) (local.get $img))) (i32.mul (i32.add (i32.mul (local.get $h) (local.get $W)) (local.get $w)) (local.get $nb)))
          (local.get $N))
        (local.set $o (i32.add (local.get $o) (local.get $nb)))
        (call $zero (local.get $o) (local.get $pad))
        (local.set $o (i32.add (local.get $o) (i32.shl (local.get $pad) (i32.const 2))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bloop)))
      (local.set $w (i32.add (local.get $w) (i32.const 1)))
      (br $wloop)))
    (local.set $h (i32.add (local.get $h) (i32.const 1)))
    (br $hloop)))
)
;; g[K,N] = cols[M,K]^T @ d[M,N] with M = B * HW rows in NHWC order (row b * HW + p), summed over
;; rows in (p, b) order: the filter gradient from the forward's patches, in the order of im2col_hwb's
;; rows, so the bits equal wgrad on im2col_hwb + rows_hwb (the tf engine's). K % 4 == 0, N % 8 == 0.
;; Rows in (p, b) order are far apart in memory (one image to the next): the rows go in chunks of P
;; pixel positions (all B images), small enough to stay in cache across the tiles; a tile's sums
;; carry from chunk to chunk through g (float32, as in registers), so each g element still adds its
;; rows one by one in (p, b) order.
(func (export "wgrad_hwb") (param $x i32) (param $d i32) (param $g i32) (param $B i32) (param $HW i32) (param $K i32) (param $N i32) (param $P i32)
  (local $k i32) (local $j i32) (local $p i32) (local $p0 i32) (local $pe i32) (local $b i32) (local $xp i32) (local $dp i32) (local $gp i32) (local $xs i32) (local $ns i32) (local $xi i32) (local $di i32)
  (local $d0 v128) (local $d1 v128) (local $s v128)
  (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
  (local.set $xs (i32.shl (local.get $K) (i32.const 2)))
  (local.set $ns (i32.shl (local.get $N) (i32.const 2)))
  ;; bytes from one image's row to the next image's same row
  (local.set $xi (i32.mul (local.get $HW) (local.get $xs)))
  (local.set $di (i32.mul (local.get $HW) (local.get $ns)))
  (local.set $p0 (i32.const 0))
  (block $cend (loop $cloop
    (br_if $cend (i32.ge_u (local.get $p0) (local.get $HW)))
    (local.set $pe (i32.add (local.get $p0) (local.get $P)))
    (if (i32.gt_u (local.get $pe) (local.get $HW)) (then (local.set $pe (local.get $HW))))
    (local.set $k (i32.const 0))
    (block $kend (loop $kloop
      (br_if $kend (i32.ge_u (local.get $k) (local.get $K)))
      (local.set $j (i32.const 0))
      (block $jend (loop $jloop
        (br_if $jend (i32.ge_u (local.get $j) (local.get $N)))
        (local.set $gp (i32.add (local.get $g) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $N)) (local.get $j)) (i32.const 2))))
        (if (i32.eqz (local.get $p0))
          (then
            (local.set $a00 (v128.const f32x4 0 0 0 0)) (local.set $a01 (v128.const f32x4 0 0 0 0)) (local.set $a10 (v128.const f32x4 0 0 0 0)) (local.set $a11 (v128.const f32x4 0 0 0 0)) (local.set $a20 (v128.const f32x4 0 0 0 0)) (local.set $a21 (v128.const f32x4 0 0 0 0)) (local.set $a30 (v128.const f32x4 0 0 0 0)) (local.set $a31 (v128.const f32x4 0 0 0 0)))
          (else
            (local.set $a00 (v128.load (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 0)))))
            (local.set $a01 (v128.load offset=16 (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 0)))))
            (local.set $a10 (v128.load (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 1)))))
            (local.set $a11 (v128.load offset=16 (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 1)))))
            (local.set $a20 (v128.load (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 2)))))
            (local.set $a21 (v128.load offset=16 (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 2)))))
            (local.set $a30 (v128.load (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 3)))))
            (local.set $a31 (v128.load offset=16 (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 3)))))))
        (local.set $p (local.get $p0))
        (block $pend (loop $ploop
          (br_if $pend (i32.ge_u (local.get $p) (local.get $pe)))
          (local.set $xp (i32.add (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))) (i32.mul (local.get $p) (local.get $xs))))
          (local.set $dp (i32.add (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2))) (i32.mul (local.get $p) (local.get $ns))))
          (local.set $b (local.get $B))
          (block $bend (loop $bloop
            (br_if $bend (i32.eqz (local.get $b)))
            (local.set $d0 (v128.load (local.get $dp)))
            (local.set $d1 (v128.load offset=16 (local.get $dp)))
            (local.set $s (v128.load32_splat offset=0 (local.get $xp)))
            (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $s (v128.load32_splat offset=4 (local.get $xp)))
            (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $s (v128.load32_splat offset=8 (local.get $xp)))
            (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $s (v128.load32_splat offset=12 (local.get $xp)))
            (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $xp (i32.add (local.get $xp) (local.get $xi)))
            (local.set $dp (i32.add (local.get $dp) (local.get $di)))
            (local.set $b (i32.sub (local.get $b) (i32.const 1)))
            (br $bloop)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $ploop)))
        (v128.store (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 0))) (local.get $a00))
        (v128.store offset=16 (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 0))) (local.get $a01))
        (v128.store (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 1))) (local.get $a10))
        (v128.store offset=16 (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 1))) (local.get $a11))
        (v128.store (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 2))) (local.get $a20))
        (v128.store offset=16 (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 2))) (local.get $a21))
        (v128.store (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 3))) (local.get $a30))
        (v128.store offset=16 (i32.add (local.get $gp) (i32.mul (local.get $ns) (i32.const 3))) (local.get $a31))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $jloop)))
      (local.set $k (i32.add (local.get $k) (i32.const 4)))
      (br $kloop)))
    (local.set $p0 (local.get $pe))
    (br $cloop)))
)
;; wf[((kh-1-u) * kw + (kw-1-v)) * O + o, i] = w[(u * kw + v) * I + i, o]: the filter of the input
;; gradient's conv (spatially flipped, in and out channels swapped). w has row stride Nw floats, wf Nf;
;; wf's other entries are left as they are (zero). Byte offsets.
(func (export "flip_filter") (param $w i32) (param $wf i32) (param $kh i32) (param $kw i32) (param $I i32) (param $O i32) (param $Nw i32) (param $Nf i32)
  (local $u i32) (local $v i32) (local $i i32) (local $o i32) (local $src i32) (local $dst i32)
  (local.set $u (i32.const 0))
  (block $uend (loop $uloop
    (br_if $uend (i32.ge_u (local.get $u) (local.get $kh)))
    (local.set $v (i32.const 0))
    (block $vend (loop $vloop
      (br_if $vend (i32.ge_u (local.get $v) (local.get $kw)))
      (local.set $i (i32.const 0))
      (block $iend (loop $iloop
        (br_if $iend (i32.ge_u (local.get $i) (local.get $I)))
        (local.set $src (i32.add (local.get $w) (i32.shl (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $u) (local.get $kw)) (local.get $v)) (local.get $I)) (local.get $i)) (local.get $Nw)) (i32.const 2))))
        ;; row (kh-1-u, kw-1-v, 0) of wf, column i
        (local.set $dst (i32.add (local.get $wf) (i32.shl (i32.add (i32.mul (i32.mul (i32.add (i32.mul (i32.sub (i32.sub (local.get $kh) (i32.const 1)) (local.get $u)) (local.get $kw)) (i32.sub (i32.sub (local.get $kw) (i32.const 1)) (local.get $v))) (local.get $O)) (local.get $Nf)) (local.get $i)) (i32.const 2))))
        (local.set $o (i32.const 0))
        (block $oend (loop $oloop
          (br_if $oend (i32.ge_u (local.get $o) (local.get $O)))
          (f32.store (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $o) (local.get $Nf)) (i32.const 2)))
            (f32.load (i32.add (local.get $src) (i32.shl (local.get $o) (i32.const 2)))))
          (local.set $o (i32.add (local.get $o) (i32.const 1)))
          (br $oloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iloop)))
      (local.set $v (i32.add (local.get $v) (i32.const 1)))
      (br $vloop)))
    (local.set $u (i32.add (local.get $u) (i32.const 1)))
    (br $uloop)))
)
)
