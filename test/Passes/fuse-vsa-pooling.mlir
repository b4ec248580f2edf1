// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-fuse-vsa-pooling))' | FileCheck %s
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-fuse-vsa-pooling),func.func(vrt-plan-memory{target=cuda}))' | FileCheck %s --check-prefix=PLAN

// q and k straight from norm_rope in the selection's layouts (bshd): both
// norm_ropes pool the selection's 3 tiles, (B, H, 3, 16) fp32 (4-head q,
// 2-head k: grouped-query), and the selection reads those; the attention
// still reads the rows.
// CHECK-LABEL: func.func @vsa
// CHECK: %[[T:.*]] = vrt.weight "tiles"
// CHECK: %[[Q:.*]], %[[PQ:.*]] = vrt.norm_rope rms %arg0 scale %{{.*}} rope %arg2, %arg3 pool %[[T]] {epsilon = 9.9999999999999995E-7 : f64} : (tensor<1x12x64xf32>, tensor<64xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<3xi64>) -> (tensor<1x12x4x16xf32>, tensor<1x4x2x16xf32>)
// CHECK: %[[K:.*]], %[[PK:.*]] = vrt.norm_rope rms %arg1 rope %arg2, %arg3 pool %[[T]] {epsilon = 9.9999999999999995E-7 : f64} : (tensor<1x12x32xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<3xi64>) -> (tensor<1x12x2x16xf32>, tensor<1x2x2x16xf32>)
// CHECK: vrt.vsa_select %[[Q]], %[[K]] pooled(%[[PQ]], %[[PK]]) tiles(%[[T]])
// CHECK: vrt.attention %[[Q]], %[[K]], %arg4 blocks(
// The tile means are fp32 on CUDA too: 4 x 2 x 16 x 4 = 512 bytes after
// the bf16 rows (1536 bytes).
// PLAN-LABEL: func.func @vsa
// PLAN: vrt.norm_rope rms %arg0 {{.*}} offsets = array<i64: 0, 1536>
func.func @vsa(%xq: tensor<1x12x64xf32>, %xk: tensor<1x12x32xf32>, %cos: tensor<12x8xf32>, %sin: tensor<12x8xf32>, %v: tensor<1x12x2x16xf32>) -> tensor<1x12x4x16xf32> {
  %t = vrt.weight "tiles" : tensor<3xi64>
  %s = vrt.weight "norm_q.weight" : tensor<64xf32>
  %q = vrt.norm_rope rms %xq scale %s rope %cos, %sin {epsilon = 1.0e-06 : f64} : (tensor<1x12x64xf32>, tensor<64xf32>, tensor<12x8xf32>, tensor<12x8xf32>) -> tensor<1x12x4x16xf32>
  %k = vrt.norm_rope rms %xk rope %cos, %sin {epsilon = 1.0e-06 : f64} : (tensor<1x12x32xf32>, tensor<12x8xf32>, tensor<12x8xf32>) -> tensor<1x12x2x16xf32>
  %lo, %l = vrt.vsa_select %q, %k tiles(%t) {scale = 0.25 : f64, sparsity = 0.5 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>} : (tensor<1x12x4x16xf32>, tensor<1x12x2x16xf32>, tensor<3xi64>) -> (tensor<9xi64>, tensor<16xi32>)
  %o = vrt.attention %q, %k, %v blocks(%t, %lo, %l) {scale = 0.25 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>} : (tensor<1x12x4x16xf32>, tensor<1x12x2x16xf32>, tensor<1x12x2x16xf32>, tensor<3xi64>, tensor<9xi64>, tensor<16xi32>) -> tensor<1x12x4x16xf32>
  return %o : tensor<1x12x4x16xf32>
}

// -----

// Heads-major norm_ropes feed a bhsd selection alike; a head dim of 6
// pools into rows of 8 (rounded up to 4).
// CHECK-LABEL: func.func @heads_major
// CHECK: vrt.norm_rope {{.*}} pool {{.*}} -> (tensor<1x2x12x6xf32>, tensor<1x2x3x8xf32>)
// CHECK: vrt.norm_rope {{.*}} pool {{.*}} -> (tensor<1x2x12x6xf32>, tensor<1x2x3x8xf32>)
// CHECK: vrt.vsa_select {{.*}} pooled(
func.func @heads_major(%x: tensor<1x12x12xf32>, %cos: tensor<12x3xf32>, %sin: tensor<12x3xf32>) -> (tensor<7xi64>, tensor<18xi32>) {
  %t = vrt.weight "tiles" : tensor<4xi64>
  %q = vrt.norm_rope layer %x rope %cos, %sin {epsilon = 1.0e-06 : f64, heads_major} : (tensor<1x12x12xf32>, tensor<12x3xf32>, tensor<12x3xf32>) -> tensor<1x2x12x6xf32>
  %k = vrt.norm_rope rms %x rope %cos, %sin {epsilon = 1.0e-06 : f64, heads_major} : (tensor<1x12x12xf32>, tensor<12x3xf32>, tensor<12x3xf32>) -> tensor<1x2x12x6xf32>
  %lo, %l = vrt.vsa_select %q, %k tiles(%t) {scale = 0.25 : f64, sparsity = 0.5 : f64} : (tensor<1x2x12x6xf32>, tensor<1x2x12x6xf32>, tensor<4xi64>) -> (tensor<7xi64>, tensor<18xi32>)
  return %lo, %l : tensor<7xi64>, tensor<18xi32>
}

// -----

// What stays: a q that no norm_rope wrote; a norm_rope whose layout is not
// the one the selection reads (heads-major rows read as bshd); q and k
// from one norm_rope; tile offsets computed after the norm_ropes.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: pool
// CHECK: return
func.func @kept(%x: tensor<1x12x32xf32>, %q0: tensor<1x12x2x16xf32>, %cos: tensor<12x8xf32>, %sin: tensor<12x8xf32>, %t0: tensor<3xi64>) -> (tensor<5xi64>, tensor<5xi64>, tensor<5xi64>, tensor<5xi64>) {
  %t = vrt.weight "tiles" : tensor<3xi64>
  %k = vrt.norm_rope rms %x rope %cos, %sin {epsilon = 1.0e-06 : f64} : (tensor<1x12x32xf32>, tensor<12x8xf32>, tensor<12x8xf32>) -> tensor<1x12x2x16xf32>
  %a, %al = vrt.vsa_select %q0, %k tiles(%t) {scale = 0.25 : f64, sparsity = 0.5 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>} : (tensor<1x12x2x16xf32>, tensor<1x12x2x16xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  %qh = vrt.norm_rope rms %x rope %cos, %sin {epsilon = 1.0e-06 : f64, heads_major} : (tensor<1x12x32xf32>, tensor<12x8xf32>, tensor<12x8xf32>) -> tensor<1x2x12x16xf32>
  %qv = vrt.view %qh : tensor<1x2x12x16xf32> -> tensor<1x12x2x16xf32>
  %b, %bl = vrt.vsa_select %qv, %k tiles(%t) {scale = 0.25 : f64, sparsity = 0.5 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>} : (tensor<1x12x2x16xf32>, tensor<1x12x2x16xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  %c, %cl = vrt.vsa_select %k, %k tiles(%t) {scale = 0.25 : f64, sparsity = 0.5 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>} : (tensor<1x12x2x16xf32>, tensor<1x12x2x16xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  %q2 = vrt.norm_rope rms %x rope %cos, %sin {epsilon = 1.0e-06 : f64} : (tensor<1x12x32xf32>, tensor<12x8xf32>, tensor<12x8xf32>) -> tensor<1x12x2x16xf32>
  %t2 = vrt.kernel "kt"(%t0) : (tensor<3xi64>) -> tensor<3xi64> {
  ^bb0(%a0: tensor<3xi64>):
    vrt.yield %a0 : tensor<3xi64>
  }
  %d, %dl = vrt.vsa_select %q2, %k tiles(%t2) {scale = 0.25 : f64, sparsity = 0.5 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>} : (tensor<1x12x2x16xf32>, tensor<1x12x2x16xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  return %a, %b, %c, %d : tensor<5xi64>, tensor<5xi64>, tensor<5xi64>, tensor<5xi64>
}
