;; Dropout on the wasm fast path (dropout.ts): out = a * b elementwise (the mask is drawn in JavaScript
;; from the run's seeded stream), n % 4 == 0, byte offsets; out may be a or b.
(module (import "env" "mem" (memory 1))
(func (export "mul") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
  (local $end i32)
  (local.set $end (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 2))))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
    (v128.store (local.get $o) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b))))
    (local.set $a (i32.add (local.get $a) (i32.const 16)))
    (local.set $b (i32.add (local.get $b) (i32.const 16)))
    (local.set $o (i32.add (local.get $o) (i32.const 16)))
    (br $l)))
)
)
