// RUN: vsa-opt %s -dit-print-summary -o /dev/null | FileCheck %s
// RUN: vsa-opt %s -dit-print-summary=to=stderr -o /dev/null 2>&1 >/dev/null | FileCheck %s
// RUN: vsa-opt %s -dit-print-summary=to=stderr -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=QUIET --allow-empty
// RUN: not vsa-opt %s -dit-print-summary=to=file -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// The summary goes to the stream named by `to` and nowhere else; the IR is
// printed unchanged to -o.

// CHECK:      model: tiny-dit
// CHECK-NEXT: function @main
// CHECK-NEXT: inputs (2):
// CHECK-NEXT:   hidden_states: 2x4 f32
// CHECK-NEXT:   ?: 2 i64
// CHECK-NEXT: outputs (1):
// CHECK-NEXT:   sample: 2x8 f32
// CHECK-NEXT: weights: 4 tensors, 524336 parameters, 2.00 MiB (1 stored transposed, 3 external)
// CHECK:      ops:
// CHECK-NEXT:   dit.param             4
// CHECK-NEXT:   dit.add               2
// CHECK-NEXT:   dit.gelu              1
// CHECK-NEXT:   dit.matmul            1
// CHECK-NEXT: function @empty
// CHECK-NEXT: inputs (0):
// CHECK-NEXT: outputs (0):
// CHECK-NEXT: weights: 0 tensors, 0 parameters, 0.00 MiB (0 stored transposed, 0 external)
// CHECK-NEXT: ops:
// CHECK-NOT:  {{.}}

// QUIET-NOT: model:

// BAD: error: dit-print-summary: option 'to' must be stdout or stderr, got 'file'
// BAD-NOT: model:

module attributes {dit.producer = "tiny-dit"} {
  func.func @main(%x: tensor<2x4xf32> {dit.name = "hidden_states"}, %t: tensor<2xi64>) -> (tensor<2x8xf32> {dit.name = "sample"}) {
    // 32 + 8 + 8 + 524288 parameters; 128 + 32 + 16 + 2 MiB bytes.
    %w = dit.param "proj.weight" {perm = array<i64: 1, 0>, source = "val_7"} : tensor<4x8xf32> = dense<0.5>
    %b = dit.param "proj.bias" : tensor<8xf32>
    %h = dit.param "norm.weight" : tensor<8xbf16>
    %e = dit.param "embed.weight" : tensor<512x1024xf32>
    %0 = dit.matmul %x, %w : (tensor<2x4xf32>, tensor<4x8xf32>) -> tensor<2x8xf32>
    %1 = dit.add %0, %b : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
    %2 = dit.gelu tanh %1 : tensor<2x8xf32>
    %3 = dit.add %2, %1 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
    return %3 : tensor<2x8xf32>
  }
  func.func @empty() {
    return
  }
}
