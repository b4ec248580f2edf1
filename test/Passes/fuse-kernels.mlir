// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-fuse-kernels))' | FileCheck %s

// vrt-fuse-kernels on hand-written vrt: kernel chains merge, constants are
// inlined everywhere, views into their single kernel user, transposes
// around attention become layouts, GELU after a GEMM its epilogue, reshaping
// copies views; surviving kernels are renamed k0, k1, ... in order.

// A chain of single-use kernels becomes one kernel computing every op per
// element; new inputs are appended as producers are inlined.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4x8xf32>, %[[Y:[a-z0-9]+]]: tensor<8xf32>)
// CHECK-NEXT: %[[K:.*]] = vrt.kernel "k0"(%[[Y]], %[[X]]) : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT: ^bb0(%[[B:.*]]: tensor<8xf32>, %[[A:.*]]: tensor<4x8xf32>):
// CHECK-NEXT:   %[[N:.*]] = dit.neg %[[A]] : tensor<4x8xf32>
// CHECK-NEXT:   %[[E:.*]] = dit.exp %[[N]] : tensor<4x8xf32>
// CHECK-NEXT:   %[[S:.*]] = dit.add %[[E]], %[[B]] : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:   vrt.yield %[[S]] : tensor<4x8xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[K]]
func.func @chain(%x: tensor<4x8xf32>, %y: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = vrt.kernel "k0"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %n = dit.neg %a : tensor<4x8xf32>
    vrt.yield %n : tensor<4x8xf32>
  }
  %1 = vrt.kernel "k1"(%0) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %e = dit.exp %a : tensor<4x8xf32>
    vrt.yield %e : tensor<4x8xf32>
  }
  %2 = vrt.kernel "k2"(%1, %y) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %b: tensor<8xf32>):
    %s = dit.add %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
    vrt.yield %s : tensor<4x8xf32>
  }
  return %2 : tensor<4x8xf32>
}

// -----

// A kernel read by two kernels is computed once, not recomputed in both.
// CHECK-LABEL: func.func @two_uses
// CHECK-NEXT: %[[N:.*]] = vrt.kernel "k0"(%{{.*}}) : (tensor<4xf32>) -> tensor<4xf32> {
// CHECK:   dit.neg
// CHECK: %[[E:.*]] = vrt.kernel "k1"(%[[N]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT:   dit.exp
// CHECK: %[[S:.*]] = vrt.kernel "k2"(%[[N]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT:   dit.sin
// CHECK: return %[[E]], %[[S]]
func.func @two_uses(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = vrt.kernel "k0"(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %n = dit.neg %a : tensor<4xf32>
    vrt.yield %n : tensor<4xf32>
  }
  %1 = vrt.kernel "k1"(%0) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = dit.exp %a : tensor<4xf32>
    vrt.yield %e : tensor<4xf32>
  }
  %2 = vrt.kernel "k2"(%0) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = dit.sin %a : tensor<4xf32>
    vrt.yield %e : tensor<4xf32>
  }
  return %1, %2 : tensor<4xf32>, tensor<4xf32>
}

// -----

// A kernel reading nothing (a splat constant) is inlined into every kernel
// using it; it stays for the library call that reads it.
// CHECK-LABEL: func.func @constants
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4x8xf32>, %[[Y:[a-z0-9]+]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[C:.*]] = vrt.kernel "k0"() : () -> tensor<8xf32> {
// CHECK-NEXT:   dit.constant dense<1.000000e+00> : tensor<8xf32>
// CHECK: %[[M:.*]] = vrt.kernel "k1"(%[[X]]) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<4x8xf32>):
// CHECK-NEXT:   %[[ONE:.*]] = dit.constant dense<1.000000e+00> : tensor<8xf32>
// CHECK-NEXT:   dit.mul %[[A]], %[[ONE]]
// CHECK: %[[P:.*]] = vrt.kernel "k2"(%[[Y]]) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT: ^bb0(%[[B:.*]]: tensor<4x8xf32>):
// CHECK-NEXT:   %[[ONE2:.*]] = dit.constant dense<1.000000e+00> : tensor<8xf32>
// CHECK-NEXT:   dit.add %[[B]], %[[ONE2]]
// CHECK: vrt.norm layer %[[X]] scale %[[C]]
func.func @constants(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %c = vrt.kernel "k0"() : () -> tensor<8xf32> {
    %one = dit.constant dense<1.0> : tensor<8xf32>
    vrt.yield %one : tensor<8xf32>
  }
  %0 = vrt.kernel "k1"(%x, %c) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %b: tensor<8xf32>):
    %m = dit.mul %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
    vrt.yield %m : tensor<4x8xf32>
  }
  %1 = vrt.kernel "k2"(%y, %c) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %b: tensor<8xf32>):
    %m = dit.add %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
    vrt.yield %m : tensor<4x8xf32>
  }
  %2 = vrt.norm layer %x scale %c {epsilon = 1.0e-6 : f64} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %0, %1, %2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A view with one (kernel) use becomes a dit.reshape inside that kernel,
// which reads the viewed buffer; a view with other uses stays.
// CHECK-LABEL: func.func @views
// CHECK-NEXT: %[[S:.*]] = vrt.softmax
// CHECK-NEXT: %[[K0:.*]] = vrt.kernel "k0"(%[[S]]) : (tensor<4x8xf32>) -> tensor<32xf32> {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<4x8xf32>):
// CHECK-NEXT:   %[[R:.*]] = dit.reshape %[[A]] : tensor<4x8xf32> -> tensor<32xf32>
// CHECK-NEXT:   dit.neg %[[R]] : tensor<32xf32>
// CHECK: %[[T:.*]] = vrt.softmax
// CHECK-NEXT: %[[W:.*]] = vrt.view %[[T]] : tensor<4x8xf32> -> tensor<32xf32>
// CHECK-NEXT: %[[K1:.*]] = vrt.kernel "k1"(%[[W]]) : (tensor<32xf32>) -> tensor<32xf32> {
// CHECK-NEXT: ^bb0(%[[B:.*]]: tensor<32xf32>):
// CHECK-NEXT:   dit.exp %[[B]]
// CHECK: return %[[K0]], %[[K1]], %[[W]]
func.func @views(%x: tensor<4x8xf32>) -> (tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) {
  %s = vrt.softmax %x : tensor<4x8xf32> -> tensor<4x8xf32>
  %v = vrt.view %s : tensor<4x8xf32> -> tensor<32xf32>
  %0 = vrt.kernel "k0"(%v) : (tensor<32xf32>) -> tensor<32xf32> {
  ^bb0(%a: tensor<32xf32>):
    %n = dit.neg %a : tensor<32xf32>
    vrt.yield %n : tensor<32xf32>
  }
  %t = vrt.softmax %x : tensor<4x8xf32> -> tensor<4x8xf32>
  %w = vrt.view %t : tensor<4x8xf32> -> tensor<32xf32>
  %1 = vrt.kernel "k1"(%w) : (tensor<32xf32>) -> tensor<32xf32> {
  ^bb0(%a: tensor<32xf32>):
    %n = dit.exp %a : tensor<32xf32>
    vrt.yield %n : tensor<32xf32>
  }
  return %0, %1, %w : tensor<32xf32>, tensor<32xf32>, tensor<32xf32>
}

// -----

// A reduction-rooted kernel absorbs its producers but is not inlined into
// its consumer (each consumer element would redo the reduction).
// CHECK-LABEL: func.func @reduce
// CHECK-NEXT: %[[R:.*]] = vrt.kernel "k0"(%{{.*}}) : (tensor<4x8xf32>) -> tensor<4x1xf32> {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<4x8xf32>):
// CHECK-NEXT:   %[[SQ:.*]] = dit.mul %[[A]], %[[A]]
// CHECK-NEXT:   %[[M:.*]] = dit.reduce mean %[[SQ]] [1]
// CHECK-NEXT:   vrt.yield %[[M]] : tensor<4x1xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[Q:.*]] = vrt.kernel "k1"(%[[R]]) : (tensor<4x1xf32>) -> tensor<4x1xf32> {
// CHECK-NEXT: ^bb0(%[[B:.*]]: tensor<4x1xf32>):
// CHECK-NEXT:   dit.sqrt %[[B]]
// CHECK: return %[[Q]]
func.func @reduce(%x: tensor<4x8xf32>) -> tensor<4x1xf32> {
  %0 = vrt.kernel "k0"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %m = dit.mul %a, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    vrt.yield %m : tensor<4x8xf32>
  }
  %1 = vrt.kernel "k1"(%0) : (tensor<4x8xf32>) -> tensor<4x1xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %r = dit.reduce mean %a [1] : (tensor<4x8xf32>) -> tensor<4x1xf32>
    vrt.yield %r : tensor<4x1xf32>
  }
  %2 = vrt.kernel "k2"(%1) : (tensor<4x1xf32>) -> tensor<4x1xf32> {
  ^bb0(%a: tensor<4x1xf32>):
    %q = dit.sqrt %a : tensor<4x1xf32>
    vrt.yield %q : tensor<4x1xf32>
  }
  return %2 : tensor<4x1xf32>
}

// -----

// Projections reshaped to (B, S, H, D) and transposed to (B, H, S, D) for
// attention: q, k and v are read as bshd instead, so the reshape-only
// kernels become views (k keeps its neg); the output transpose back to
// (B, S, H, D) becomes out_layout bshd and the consumer a view too.
// CHECK-LABEL: func.func @attention_layouts
// CHECK: %[[Q0:.*]] = vrt.gemm
// CHECK-NEXT: %[[K0:.*]] = vrt.gemm
// CHECK-NEXT: %[[V0:.*]] = vrt.gemm
// CHECK-NEXT: %[[Q:.*]] = vrt.view %[[Q0]] : tensor<8x32xf32> -> tensor<1x8x2x16xf32>
// CHECK-NEXT: %[[K:.*]] = vrt.kernel "k0"(%[[K0]]) : (tensor<8x32xf32>) -> tensor<1x8x2x16xf32> {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<8x32xf32>):
// CHECK-NEXT:   %[[R:.*]] = dit.reshape %[[A]] : tensor<8x32xf32> -> tensor<1x8x2x16xf32>
// CHECK-NEXT:   %[[N:.*]] = dit.neg %[[R]] : tensor<1x8x2x16xf32>
// CHECK-NEXT:   vrt.yield %[[N]] : tensor<1x8x2x16xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[V:.*]] = vrt.view %[[V0]] : tensor<8x32xf32> -> tensor<1x8x2x16xf32>
// CHECK-NEXT: %[[O:.*]] = vrt.attention %[[Q]], %[[K]], %[[V]] {kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>, q_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
// CHECK-NEXT: %[[H:.*]] = vrt.view %[[O]] : tensor<1x8x2x16xf32> -> tensor<8x32xf32>
// CHECK-NEXT: vrt.gemm %[[H]]
// CHECK-NOT: dit.transpose
func.func @attention_layouts(%x: tensor<8x32xf32>, %wq: tensor<32x32xf32>, %wo: tensor<32x32xf32>) -> tensor<8x32xf32> {
  %q0 = vrt.gemm %x, %wq {trans_b = true} : (tensor<8x32xf32>, tensor<32x32xf32>) -> tensor<8x32xf32>
  %k0 = vrt.gemm %x, %wq {trans_b = true} : (tensor<8x32xf32>, tensor<32x32xf32>) -> tensor<8x32xf32>
  %v0 = vrt.gemm %x, %wq {trans_b = true} : (tensor<8x32xf32>, tensor<32x32xf32>) -> tensor<8x32xf32>
  %q = vrt.kernel "k0"(%q0) : (tensor<8x32xf32>) -> tensor<1x2x8x16xf32> {
  ^bb0(%a: tensor<8x32xf32>):
    %r = dit.reshape %a : tensor<8x32xf32> -> tensor<1x8x2x16xf32>
    %t = dit.transpose %r [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
    vrt.yield %t : tensor<1x2x8x16xf32>
  }
  %k = vrt.kernel "k1"(%k0) : (tensor<8x32xf32>) -> tensor<1x2x8x16xf32> {
  ^bb0(%a: tensor<8x32xf32>):
    %r = dit.reshape %a : tensor<8x32xf32> -> tensor<1x8x2x16xf32>
    %n = dit.neg %r : tensor<1x8x2x16xf32>
    %t = dit.transpose %n [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
    vrt.yield %t : tensor<1x2x8x16xf32>
  }
  %v = vrt.kernel "k2"(%v0) : (tensor<8x32xf32>) -> tensor<1x2x8x16xf32> {
  ^bb0(%a: tensor<8x32xf32>):
    %r = dit.reshape %a : tensor<8x32xf32> -> tensor<1x8x2x16xf32>
    %t = dit.transpose %r [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
    vrt.yield %t : tensor<1x2x8x16xf32>
  }
  %o = vrt.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  %h = vrt.kernel "k3"(%o) : (tensor<1x2x8x16xf32>) -> tensor<8x32xf32> {
  ^bb0(%a: tensor<1x2x8x16xf32>):
    %t = dit.transpose %a [0, 2, 1, 3] : tensor<1x2x8x16xf32> -> tensor<1x8x2x16xf32>
    %r = dit.reshape %t : tensor<1x8x2x16xf32> -> tensor<8x32xf32>
    vrt.yield %r : tensor<8x32xf32>
  }
  %y = vrt.gemm %h, %wo {trans_b = true} : (tensor<8x32xf32>, tensor<32x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// The key's transpose can go but the value's producer is no transposing
// kernel: k and v share a layout, so both stay bhsd and k keeps its
// transpose.
// CHECK-LABEL: func.func @kv_both
// CHECK: vrt.kernel "k0"
// CHECK-NEXT: ^bb0
// CHECK-NEXT:   dit.transpose %{{.*}} [0, 2, 1, 3]
// CHECK: vrt.attention %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f64}
func.func @kv_both(%q: tensor<1x2x8x16xf32>, %k0: tensor<1x8x2x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %kn = vrt.softmax %k0 : tensor<1x8x2x16xf32> -> tensor<1x8x2x16xf32>
  %k = vrt.kernel "k0"(%kn) : (tensor<1x8x2x16xf32>) -> tensor<1x2x8x16xf32> {
  ^bb0(%a: tensor<1x8x2x16xf32>):
    %t = dit.transpose %a [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
    vrt.yield %t : tensor<1x2x8x16xf32>
  }
  %vs = vrt.softmax %v : tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  %o = vrt.attention %q, %k, %vs {scale = 0.25 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// One transposed query shared by two attentions (Wan I2V's text and image
// cross-attention): both read it as bshd and the transpose kernel goes.
// CHECK-LABEL: func.func @shared_query
// CHECK-NEXT: %[[S:.*]] = vrt.softmax
// CHECK-NEXT: vrt.attention %[[S]], %{{.*}}, %{{.*}} {q_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64} : (tensor<1x8x2x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
// CHECK-NEXT: vrt.attention %[[S]], %{{.*}}, %{{.*}} {q_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64} : (tensor<1x8x2x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>) -> tensor<1x2x8x16xf32>
// CHECK-NOT: vrt.kernel
func.func @shared_query(%x: tensor<1x8x2x16xf32>, %k: tensor<1x2x8x16xf32>, %k2: tensor<1x2x4x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) {
  %s = vrt.softmax %x : tensor<1x8x2x16xf32> -> tensor<1x8x2x16xf32>
  %q = vrt.kernel "k0"(%s) : (tensor<1x8x2x16xf32>) -> tensor<1x2x8x16xf32> {
  ^bb0(%a: tensor<1x8x2x16xf32>):
    %t = dit.transpose %a [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
    vrt.yield %t : tensor<1x2x8x16xf32>
  }
  %o1 = vrt.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  %o2 = vrt.attention %q, %k2, %k2 {scale = 0.25 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>) -> tensor<1x2x8x16xf32>
  return %o1, %o2 : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
}

// -----

// A transposed value used as query, key and value at once keeps bhsd.
// CHECK-LABEL: func.func @query_also_key
// CHECK: %[[T:.*]] = vrt.kernel "k0"
// CHECK:   dit.transpose
// CHECK: vrt.attention %[[T]], %[[T]], %[[T]] {scale = 2.500000e-01 : f64}
func.func @query_also_key(%x: tensor<1x8x2x16xf32>) -> tensor<1x2x8x16xf32> {
  %s = vrt.softmax %x : tensor<1x8x2x16xf32> -> tensor<1x8x2x16xf32>
  %q = vrt.kernel "k0"(%s) : (tensor<1x8x2x16xf32>) -> tensor<1x2x8x16xf32> {
  ^bb0(%a: tensor<1x8x2x16xf32>):
    %t = dit.transpose %a [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
    vrt.yield %t : tensor<1x2x8x16xf32>
  }
  %o = vrt.attention %q, %q, %q {scale = 0.25 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// GELU right after a single-use GEMM is its epilogue: tanh -> gelu_tanh,
// exact (none) -> gelu_erf. Not when the GEMM result has another use, nor
// when the kernel does more than the GELU.
// CHECK-LABEL: func.func @gelu
// CHECK-NEXT: %[[G0:.*]] = vrt.gemm %{{.*}}, %{{.*}}, %{{.*}} {epilogue = #vrt<epilogue gelu_tanh>, trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT: %[[G1:.*]] = vrt.gemm %{{.*}}, %{{.*}} {epilogue = #vrt<epilogue gelu_erf>, trans_b = true}
// CHECK-NEXT: %[[G2:.*]] = vrt.gemm %{{.*}}, %{{.*}} {trans_b = true}
// CHECK-NEXT: %[[K0:.*]] = vrt.kernel "k0"(%[[G2]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT:   dit.gelu tanh
// CHECK: %[[G3:.*]] = vrt.gemm %{{.*}}, %{{.*}} {trans_b = true}
// CHECK-NEXT: %[[K1:.*]] = vrt.kernel "k1"(%[[G3]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT:   dit.gelu tanh
// CHECK-NEXT:   dit.neg
// CHECK: return %[[G0]], %[[G1]], %[[K0]], %[[G2]], %[[K1]]
func.func @gelu(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = vrt.gemm %x, %w, %b {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = vrt.kernel "k0"(%0) : (tensor<4x16xf32>) -> tensor<4x16xf32> {
  ^bb0(%a: tensor<4x16xf32>):
    %g = dit.gelu tanh %a : tensor<4x16xf32>
    vrt.yield %g : tensor<4x16xf32>
  }
  %2 = vrt.gemm %x, %w {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %3 = vrt.kernel "k1"(%2) : (tensor<4x16xf32>) -> tensor<4x16xf32> {
  ^bb0(%a: tensor<4x16xf32>):
    %g = dit.gelu none %a : tensor<4x16xf32>
    vrt.yield %g : tensor<4x16xf32>
  }
  %4 = vrt.gemm %x, %w {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %5 = vrt.kernel "k2"(%4) : (tensor<4x16xf32>) -> tensor<4x16xf32> {
  ^bb0(%a: tensor<4x16xf32>):
    %g = dit.gelu tanh %a : tensor<4x16xf32>
    vrt.yield %g : tensor<4x16xf32>
  }
  %6 = vrt.gemm %x, %w {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %7 = vrt.kernel "k3"(%6) : (tensor<4x16xf32>) -> tensor<4x16xf32> {
  ^bb0(%a: tensor<4x16xf32>):
    %g = dit.gelu tanh %a : tensor<4x16xf32>
    %n = dit.neg %g : tensor<4x16xf32>
    vrt.yield %n : tensor<4x16xf32>
  }
  return %1, %3, %5, %4, %7 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// A kernel that only reshapes an activation is a view of it. Copies of
// model inputs and weights, even seen through a view, stay kernels (outputs
// must be in the arena); so does a real transpose. Names follow the order.
// CHECK-LABEL: func.func @copies_and_views
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[W:.*]] = vrt.weight "w"
// CHECK-NEXT: %[[S:.*]] = vrt.softmax %[[X]]
// CHECK-NEXT: %[[V0:.*]] = vrt.view %[[S]] : tensor<4x8xf32> -> tensor<32xf32>
// CHECK-NEXT: %[[C1:.*]] = vrt.kernel "k0"(%[[X]]) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[T:.*]] = vrt.kernel "k1"(%[[S]]) : (tensor<4x8xf32>) -> tensor<8x4xf32>
// CHECK: %[[C3:.*]] = vrt.kernel "k2"(%[[W]]) : (tensor<8x8xf32>) -> tensor<8x8xf32>
// CHECK: %[[XV:.*]] = vrt.view %[[X]] : tensor<4x8xf32> -> tensor<32xf32>
// CHECK-NEXT: %[[C4:.*]] = vrt.kernel "k3"(%[[XV]]) : (tensor<32xf32>) -> tensor<32xf32>
// CHECK: %[[C5:.*]] = vrt.kernel "k4"(%[[XV]]) : (tensor<32xf32>) -> tensor<32xf32>
// CHECK: return %[[V0]], %[[C1]], %[[T]], %[[C3]], %[[C4]], %[[C5]]
func.func @copies_and_views(%x: tensor<4x8xf32>) -> (tensor<32xf32>, tensor<4x8xf32>, tensor<8x4xf32>, tensor<8x8xf32>, tensor<32xf32>, tensor<32xf32>) {
  %w = vrt.weight "w" : tensor<8x8xf32>
  %s = vrt.softmax %x : tensor<4x8xf32> -> tensor<4x8xf32>
  %0 = vrt.kernel "k0"(%s) : (tensor<4x8xf32>) -> tensor<32xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %r = dit.reshape %a : tensor<4x8xf32> -> tensor<2x16xf32>
    %r2 = dit.reshape %r : tensor<2x16xf32> -> tensor<32xf32>
    vrt.yield %r2 : tensor<32xf32>
  }
  %1 = vrt.kernel "k1"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    vrt.yield %a : tensor<4x8xf32>
  }
  %2 = vrt.kernel "k2"(%s) : (tensor<4x8xf32>) -> tensor<8x4xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %t = dit.transpose %a [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
    vrt.yield %t : tensor<8x4xf32>
  }
  %3 = vrt.kernel "k3"(%w) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    vrt.yield %a : tensor<8x8xf32>
  }
  %v = vrt.view %x : tensor<4x8xf32> -> tensor<32xf32>
  %4 = vrt.kernel "k4"(%v) : (tensor<32xf32>) -> tensor<32xf32> {
  ^bb0(%a: tensor<32xf32>):
    vrt.yield %a : tensor<32xf32>
  }
  %5 = vrt.kernel "k5"(%v) : (tensor<32xf32>) -> tensor<32xf32> {
  ^bb0(%a: tensor<32xf32>):
    vrt.yield %a : tensor<32xf32>
  }
  return %0, %1, %2, %3, %4, %5 : tensor<32xf32>, tensor<4x8xf32>, tensor<8x4xf32>, tensor<8x8xf32>, tensor<32xf32>, tensor<32xf32>
}

// -----

// Heads-major vrt.norm_rope queries and keys (used once each) write
// (B, S, H, D) instead, with the values' transpose: the attention reads all
// three as bshd. A key that the VSA selection also reads stays heads-major.
// CHECK-LABEL: func.func @norm_rope_layouts
// CHECK:      %[[Q:.*]] = vrt.norm_rope rms %{{.*}} rope %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : {{.*}} -> tensor<1x8x2x16xf32>
// CHECK-NEXT: %[[K:.*]] = vrt.norm_rope rms %{{.*}} rope %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : {{.*}} -> tensor<1x8x2x16xf32>
// CHECK:      vrt.attention %[[Q]], %[[K]], %{{.*}} {kv_layout = #vrt<layout bshd>, q_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64}
// CHECK:      vrt.norm_rope rms {{.*}}heads_major
// CHECK:      vrt.vsa_select
func.func @norm_rope_layouts(%x: tensor<1x8x32xf32>, %t: tensor<8x8xf32>, %v0: tensor<8x32xf32>, %o: tensor<3xi64>) -> (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) {
  %q = vrt.norm_rope rms %x rope %t, %t {epsilon = 1.0e-6 : f64, heads_major} : (tensor<1x8x32xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xf32>
  %k = vrt.norm_rope rms %x rope %t, %t {epsilon = 1.0e-6 : f64, heads_major} : (tensor<1x8x32xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xf32>
  %v = vrt.kernel "k0"(%v0) : (tensor<8x32xf32>) -> tensor<1x2x8x16xf32> {
  ^bb0(%a: tensor<8x32xf32>):
    %r = dit.reshape %a : tensor<8x32xf32> -> tensor<1x8x2x16xf32>
    %tr = dit.transpose %r [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
    vrt.yield %tr : tensor<1x2x8x16xf32>
  }
  %a = vrt.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  %k2 = vrt.norm_rope rms %x rope %t, %t {epsilon = 1.0e-6 : f64, heads_major} : (tensor<1x8x32xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xf32>
  %lo, %l = vrt.vsa_select %k2, %k2 tiles(%o) {scale = 0.25 : f64, sparsity = 0.5 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  %b = vrt.attention %k2, %k2, %k2 blocks(%o, %lo, %l) {scale = 0.25 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<3xi64>, tensor<5xi64>, tensor<8xi32>) -> tensor<1x2x8x16xf32>
  return %a, %b : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
}

// -----

// VSA: the selection reads the same q and k as the block-sparse attention,
// so both switch to bshd with them (and v's transpose goes); no heads-major
// copy is left.
// CHECK-LABEL: func.func @vsa_layouts
// CHECK:      %[[Q:.*]] = vrt.norm_rope rms {{.*}} -> tensor<1x8x2x16xf32>
// CHECK-NEXT: %[[K:.*]] = vrt.norm_rope rms {{.*}} -> tensor<1x8x2x16xf32>
// CHECK-NEXT: %[[V:.*]] = vrt.kernel "k0"({{.*}}) : (tensor<8x32xf32>) -> tensor<1x8x2x16xf32>
// CHECK:      vrt.vsa_select %[[Q]], %[[K]] tiles(%{{.*}}) {kv_layout = #vrt<layout bshd>, q_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64, sparsity = 5.000000e-01 : f64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<3xi64>)
// CHECK-NEXT: vrt.attention %[[Q]], %[[K]], %[[V]] blocks({{.*}}) {kv_layout = #vrt<layout bshd>, q_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64}
// CHECK-NOT:  heads_major
func.func @vsa_layouts(%x: tensor<1x8x32xf32>, %t: tensor<8x8xf32>, %v0: tensor<8x32xf32>, %o: tensor<3xi64>) -> tensor<1x2x8x16xf32> {
  %q = vrt.norm_rope rms %x rope %t, %t {epsilon = 1.0e-6 : f64, heads_major} : (tensor<1x8x32xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xf32>
  %k = vrt.norm_rope rms %x rope %t, %t {epsilon = 1.0e-6 : f64, heads_major} : (tensor<1x8x32xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xf32>
  %v = vrt.kernel "k0"(%v0) : (tensor<8x32xf32>) -> tensor<1x2x8x16xf32> {
  ^bb0(%a: tensor<8x32xf32>):
    %r = dit.reshape %a : tensor<8x32xf32> -> tensor<1x8x2x16xf32>
    %tr = dit.transpose %r [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
    vrt.yield %tr : tensor<1x2x8x16xf32>
  }
  %lo, %l = vrt.vsa_select %q, %k tiles(%o) {scale = 0.25 : f64, sparsity = 0.5 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  %a = vrt.attention %q, %k, %v blocks(%o, %lo, %l) {scale = 0.25 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<3xi64>, tensor<5xi64>, tensor<8xi32>) -> tensor<1x2x8x16xf32>
  return %a : tensor<1x2x8x16xf32>
}

// -----

// A gated selection pooling another value than the attention's keeps k and
// v heads-major (one kv layout per op); the query still switches.
// CHECK-LABEL: func.func @vsa_other_value
// CHECK:      vrt.norm_rope rms {{.*}} -> tensor<1x8x2x16xf32>
// CHECK-NEXT: vrt.norm_rope rms {{.*}}heads_major{{.*}} -> tensor<1x2x8x16xf32>
// CHECK:      dit.transpose
// CHECK:      vrt.vsa_select %{{.*}}, %{{.*}} value %{{.*}} tiles(%{{.*}}) {q_layout = #vrt<layout bshd>, scale
// CHECK-NEXT: vrt.attention {{.*}} {q_layout = #vrt<layout bshd>, scale
func.func @vsa_other_value(%x: tensor<1x8x32xf32>, %t: tensor<8x8xf32>, %v0: tensor<8x32xf32>, %v2: tensor<1x2x8x16xf32>, %o: tensor<3xi64>) -> (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) {
  %q = vrt.norm_rope rms %x rope %t, %t {epsilon = 1.0e-6 : f64, heads_major} : (tensor<1x8x32xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xf32>
  %k = vrt.norm_rope rms %x rope %t, %t {epsilon = 1.0e-6 : f64, heads_major} : (tensor<1x8x32xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xf32>
  %v = vrt.kernel "k0"(%v0) : (tensor<8x32xf32>) -> tensor<1x2x8x16xf32> {
  ^bb0(%a: tensor<8x32xf32>):
    %r = dit.reshape %a : tensor<8x32xf32> -> tensor<1x8x2x16xf32>
    %tr = dit.transpose %r [0, 2, 1, 3] : tensor<1x8x2x16xf32> -> tensor<1x2x8x16xf32>
    vrt.yield %tr : tensor<1x2x8x16xf32>
  }
  %lo, %l, %c = vrt.vsa_select %q, %k value %v2 tiles(%o) {scale = 0.25 : f64, sparsity = 0.5 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>, tensor<1x2x8x16xf32>)
  %a = vrt.attention %q, %k, %v blocks(%o, %lo, %l) {scale = 0.25 : f64} : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<3xi64>, tensor<5xi64>, tensor<8xi32>) -> tensor<1x2x8x16xf32>
  return %a, %c : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
}
