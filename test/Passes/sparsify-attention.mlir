// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=frame-window window=1 keyframe-interval=4 sink=2}))' | FileCheck %s
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=frame-window}))' | FileCheck %s --check-prefix=AUTO
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=frame-window horizon=4}))' | FileCheck %s --check-prefix=LONG
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=vsa tile=2x2x2 sparsity=0.5}))' | FileCheck %s --check-prefix=VSA
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=frame-window keyframe-interval=4 keyframe-offset=1 rotate=1}))' | FileCheck %s --check-prefix=ROT
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=vsa tile=1x2x2}))' | FileCheck %s --check-prefix=VSADEF
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=semantic q-clusters=8 kv-clusters=12 iterations=20 warm-iterations=3 top-p=0.75 min-kept=0.25}))' | FileCheck %s --check-prefix=SEM
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=semantic}))' | FileCheck %s --check-prefix=SEMDEF

// Video self-attention gets the pattern; cross-attention and attention
// without geometry stay dense.
// CHECK-LABEL: func.func @self_and_cross
// CHECK: dit.attention {{.*}} role self {{.*}}sparsity = #dit.sparsity<"frame-window", {keyframe_interval = 4 : i64, sink = 2 : i64, window = 1 : i64}>
// CHECK: dit.attention {{.*}} role cross
// CHECK-NOT: sparsity
// CHECK: dit.attention
// CHECK-NOT: sparsity
// CHECK: return
// keyframe-interval=auto: 10 frames within the default horizon 21 keep every
// frame (dense); with horizon 4, ceil(10 / 4) = 3.
// AUTO: keyframe_interval = 1 : i64, sink = 1 : i64, window = 1 : i64
// LONG: keyframe_interval = 3 : i64
// The optional keys appear only when set.
// ROT: #dit.sparsity<"frame-window", {keyframe_interval = 4 : i64, keyframe_offset = 1 : i64, rotate = 1 : i64, sink = 1 : i64, window = 1 : i64}>
// AUTO-NOT: rotate
// vsa: tiles and the compiled default sparsity (0.875 unless given); only
// video self-attention.
// VSA-LABEL: func.func @self_and_cross
// VSA: role self {{.*}}sparsity = #dit.sparsity<"vsa", {sparsity = 5.000000e-01 : f64, tile_h = 2 : i64, tile_t = 2 : i64, tile_w = 2 : i64}>
// VSA: role cross
// VSA-NOT: sparsity
// VSA: return
// VSADEF: #dit.sparsity<"vsa", {sparsity = 8.750000e-01 : f64, tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64}>
// semantic: the options as given; only video self-attention.
// SEM-LABEL: func.func @self_and_cross
// SEM: role self {{.*}}sparsity = #dit.sparsity<"semantic", {iterations = 20 : i64, kv_clusters = 12 : i64, min_kept = 2.500000e-01 : f64, q_clusters = 8 : i64, top_p = 7.500000e-01 : f64, warm_iterations = 3 : i64}>
// SEM: role cross
// SEM-NOT: sparsity
// SEM: return
// The runtime's defaults, 100 clusters clamped to the 40 tokens.
// SEMDEF: #dit.sparsity<"semantic", {iterations = 50 : i64, kv_clusters = 40 : i64, min_kept = 1.000000e-01 : f64, q_clusters = 40 : i64, top_p = 9.000000e-01 : f64, warm_iterations = 2 : i64}>
func.func @self_and_cross(%q: tensor<1x2x40x8xf32>, %c: tensor<1x2x5x8xf32>) -> (tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>) {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 10, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64} : (tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>) -> tensor<1x2x40x8xf32>
  %1 = dit.attention %q, %c, %c role cross {scale = 0.35 : f64} : (tensor<1x2x40x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x40x8xf32>
  %2 = dit.attention %q, %q, %q role self {scale = 0.35 : f64} : (tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>) -> tensor<1x2x40x8xf32>
  return %0, %1, %2 : tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>
}
