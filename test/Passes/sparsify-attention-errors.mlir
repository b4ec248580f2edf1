// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=semantic q-clusters=0}))' 2>&1 | FileCheck %s --check-prefix=QCLUSTERS
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=semantic kv-clusters=-4}))' 2>&1 | FileCheck %s --check-prefix=KVCLUSTERS
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=semantic iterations=0}))' 2>&1 | FileCheck %s --check-prefix=ITERATIONS
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=semantic warm-iterations=0}))' 2>&1 | FileCheck %s --check-prefix=WARM
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=semantic top-p=0}))' 2>&1 | FileCheck %s --check-prefix=TOPP0
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=semantic top-p=1.5}))' 2>&1 | FileCheck %s --check-prefix=TOPP
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=semantic min-kept=2}))' 2>&1 | FileCheck %s --check-prefix=MINKEPT
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=semantic q-clusters=many}))' 2>&1 | FileCheck %s --check-prefix=QPARSE
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=vsa sparsity=1.0}))' 2>&1 | FileCheck %s --check-prefix=SPARSITY
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=vsa sparsity=-0.5}))' 2>&1 | FileCheck %s --check-prefix=NEGSPARSITY
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=vsa tile=1x2x2 gate=1}))' 2>&1 | FileCheck %s --check-prefix=GATE
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=vsa tile=1x4x4}))' 2>&1 | FileCheck %s --check-prefix=VSATILE
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=vsa tile=1x0x4}))' 2>&1 | FileCheck %s --check-prefix=VSAZERO
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=blocky}))' 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=frame-window window=-2}))' 2>&1 | FileCheck %s --check-prefix=WINDOW
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=frame-window sink=-1}))' 2>&1 | FileCheck %s --check-prefix=SINK
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=frame-window horizon=0}))' 2>&1 | FileCheck %s --check-prefix=HORIZON
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=frame-window keyframe-interval=-3}))' 2>&1 | FileCheck %s --check-prefix=INTERVAL
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=frame-window stride=2}))' 2>&1 | FileCheck %s --check-prefix=KEY
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=frame-window keyframe-offset=-1}))' 2>&1 | FileCheck %s --check-prefix=OFFSET
// OFFSET: error: dit-sparsify-attention: option keyframe-offset must be >= 0, got -1
// QCLUSTERS: error: dit-sparsify-attention: option q-clusters must be >= 1, got 0
// KVCLUSTERS: error: dit-sparsify-attention: option kv-clusters must be >= 1, got -4
// ITERATIONS: error: dit-sparsify-attention: option iterations must be >= 1, got 0
// WARM: error: dit-sparsify-attention: option warm-iterations must be >= 1, got 0
// TOPP0: error: dit-sparsify-attention: option top-p must be in (0, 1], got 0
// TOPP: error: dit-sparsify-attention: option top-p must be in (0, 1], got 1.5
// MINKEPT: error: dit-sparsify-attention: option min-kept must be in [0, 1], got 2
// QPARSE: for the --q-clusters option: 'many' value invalid
// SPARSITY: error: dit-sparsify-attention: option sparsity must be in [0, 1), got 1
// NEGSPARSITY: error: dit-sparsify-attention: option sparsity must be in [0, 1), got -0.5
// GATE: error: dit-sparsify-attention: option gate: the queries do not come from a Linear with a named weight, so the gate (to_gate_compress) has no input
// VSATILE: error: dit-sparsify-attention: option tile: 4 along h is larger than the grid (2)
// VSAZERO: error: dit-sparsify-attention: option tile must be TxHxW with integers >= 1, got '1x0x4'
// UNKNOWN: error: dit-sparsify-attention: unknown pattern 'blocky' (option pattern: frame-window, sliding-tile, vsa, semantic)
// WINDOW: error: dit-sparsify-attention: option window must be an integer >= 0, got '-2'
// SINK: error: dit-sparsify-attention: option sink must be >= 0, got -1
// HORIZON: error: dit-sparsify-attention: option horizon must be >= 1, got 0
// INTERVAL: error: dit-sparsify-attention: keyframe-interval must be 'auto' or an integer >= 0, got '-3'
// KEY: stride
func.func @f(%q: tensor<1x2x40x8xf32>) -> tensor<1x2x40x8xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 10, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64} : (tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>, tensor<1x2x40x8xf32>) -> tensor<1x2x40x8xf32>
  return %0 : tensor<1x2x40x8xf32>
}
