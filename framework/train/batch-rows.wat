;; Bytes to model-input floats on the wasm fast path (batch-rows.ts): dst[p] = table[(p % c) * 256 + src[p]]
;; for the n bytes of one example row at src (byte offsets; table: 256 floats per channel). A float is
;; moved, never computed, so every value is bit for bit the table's: what the prepare step's lookup gives.
(module (import "env" "mem" (memory 1))
;; one channel: four bytes a load while they last, then byte by byte
(func (export "gray") (param $src i32) (param $dst i32) (param $n i32) (param $table i32)
  (local $end i32) (local $end4 i32) (local $w i32)
  (local.set $end (i32.add (local.get $src) (local.get $n)))
  (local.set $end4 (i32.add (local.get $src) (i32.and (local.get $n) (i32.const -4))))
  (block $done4 (loop $l4
    (br_if $done4 (i32.ge_u (local.get $src) (local.get $end4)))
    (local.set $w (i32.load (local.get $src)))
    (f32.store offset=0 (local.get $dst) (f32.load (i32.add (local.get $table) (i32.shl (i32.and (local.get $w) (i32.const 255)) (i32.const 2)))))
    (f32.store offset=4 (local.get $dst) (f32.load (i32.add (local.get $table) (i32.and (i32.shr_u (local.get $w) (i32.const 6)) (i32.const 1020)))))
    (f32.store offset=8 (local.get $dst) (f32.load (i32.add (local.get $table) (i32.and (i32.shr_u (local.get $w) (i32.const 14)) (i32.const 1020)))))
    (f32.store offset=12 (local.get $dst) (f32.load (i32.add (local.get $table) (i32.and (i32.shr_u (local.get $w) (i32.const 22)) (i32.const 1020)))))
    (local.set $src (i32.add (local.get $src) (i32.const 4)))
    (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
    (br $l4)))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
    (f32.store (local.get $dst) (f32.load (i32.add (local.get $table) (i32.shl (i32.load8_u (local.get $src)) (i32.const 2)))))
    (local.set $src (i32.add (local.get $src) (i32.const 1)))
    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
    (br $l)))
)
;; c channels (channels-last): the channel's table advances 1024 bytes a byte and wraps every c
(func (export "channels") (param $src i32) (param $dst i32) (param $n i32) (param $table i32) (param $c i32)
  (local $end i32) (local $t i32) (local $last i32)
  (local.set $end (i32.add (local.get $src) (local.get $n)))
  (local.set $t (local.get $table))
  (local.set $last (i32.add (local.get $table) (i32.shl (i32.sub (local.get $c) (i32.const 1)) (i32.const 10))))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
    (f32.store (local.get $dst) (f32.load (i32.add (local.get $t) (i32.shl (i32.load8_u (local.get $src)) (i32.const 2)))))
    (local.set $t (select (local.get $table) (i32.add (local.get $t) (i32.const 1024)) (i32.eq (local.get $t) (local.get $last))))
    (local.set $src (i32.add (local.get $src) (i32.const 1)))
    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
    (br $l)))
)
)
