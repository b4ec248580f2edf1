// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-plan-memory))' | FileCheck %s --check-prefixes=CHECK,CPU
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-plan-memory{target=cpu}))' | FileCheck %s --check-prefixes=CHECK,CPU
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-plan-memory{target=cuda}))' | FileCheck %s --check-prefixes=CHECK,CUDA
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-plan-memory{target=tpu}))' 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: vrt-plan-memory: unknown target 'tpu' (cpu, cuda)

// vrt-plan-memory: each buffer-producing op gets a 256-byte aligned offset
// by first fit, live from its op to the last use of it or of a view of it;
// results are placed before operands are released; returned buffers live to
// the end; the function's vrt.arena_bytes is the peak. On CUDA float
// activations are bf16 (2 bytes), other types keep their size.

// Sizes on the CPU target: 8x8xf32 = 256, 8x16xf32 = 512, 128xf32 = 512, 16xf32 = 64
// -> 256. Walk (free list in brackets):
//   %0 k0    256 @0     top 256
//   %1 gemm  512 @256   top 768; %0 dies [0,256)
//   %3 k1    512 @768   top 1280 ([0,256) is too small; %1 stays live:
//                                 the view %2 is read again by %5)
//   %4 smax  512 @1280  top 1792; %3 dies [0,256) [768,1280)
//   %5 k2    512 @768   (not over %1 or %4, which it reads); then %1 (via
//                        %2) and %4 die: [0,768) [1280,1792)
//   %6 k3    256 @0
// Peak 1792.
// On CUDA every f32 buffer halves (8x8: 128 -> 256, 8x16: 256, 128: 256,
// 16: 32 -> 256):
//   %0 @0; %1 @256, %0 dies [0,256); %3 @0; %4 @512 (top 768), %3 dies
//   [0,256); %5 @0, %1 and %4 die [256,768); %6 @256. Peak 768.
// CHECK-LABEL: func.func @reuse_and_views
// CPU-SAME: attributes {vrt.arena_bytes = 1792 : i64}
// CUDA-SAME: attributes {vrt.arena_bytes = 768 : i64}
// CHECK: vrt.weight "w" : tensor<8x16xf32>{{$}}
// CHECK: %[[K0:.*]] = vrt.kernel "k0"(%{{.*}}) {offset = 0 : i64}
// CHECK: %[[G:.*]] = vrt.gemm %[[K0]], %{{.*}} {offset = 256 : i64}
// CHECK: %[[V:.*]] = vrt.view %[[G]] : tensor<8x16xf32> -> tensor<128xf32>{{$}}
// CPU: %[[K1:.*]] = vrt.kernel "k1"(%[[V]]) {offset = 768 : i64}
// CUDA: %[[K1:.*]] = vrt.kernel "k1"(%[[V]]) {offset = 0 : i64}
// CPU: vrt.softmax %[[K1]] {offset = 1280 : i64}
// CUDA: vrt.softmax %[[K1]] {offset = 512 : i64}
// CPU: vrt.kernel "k2"(%[[V]], %{{.*}}) {offset = 768 : i64}
// CUDA: vrt.kernel "k2"(%[[V]], %{{.*}}) {offset = 0 : i64}
// CPU: vrt.kernel "k3"(%{{.*}}) {offset = 0 : i64}
// CUDA: vrt.kernel "k3"(%{{.*}}) {offset = 256 : i64}
func.func @reuse_and_views(%x: tensor<8x8xf32>) -> tensor<16xf32> {
  %w = vrt.weight "w" : tensor<8x16xf32>
  %0 = vrt.kernel "k0"(%x) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    vrt.yield %a : tensor<8x8xf32>
  }
  %1 = vrt.gemm %0, %w : (tensor<8x8xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %2 = vrt.view %1 : tensor<8x16xf32> -> tensor<128xf32>
  %3 = vrt.kernel "k1"(%2) : (tensor<128xf32>) -> tensor<128xf32> {
  ^bb0(%a: tensor<128xf32>):
    %n = dit.neg %a : tensor<128xf32>
    vrt.yield %n : tensor<128xf32>
  }
  %4 = vrt.softmax %3 : tensor<128xf32> -> tensor<128xf32>
  %5 = vrt.kernel "k2"(%2, %4) : (tensor<128xf32>, tensor<128xf32>) -> tensor<128xf32> {
  ^bb0(%a: tensor<128xf32>, %b: tensor<128xf32>):
    %s = dit.add %a, %b : (tensor<128xf32>, tensor<128xf32>) -> tensor<128xf32>
    vrt.yield %s : tensor<128xf32>
  }
  %6 = vrt.kernel "k3"(%5) : (tensor<128xf32>) -> tensor<16xf32> {
  ^bb0(%a: tensor<128xf32>):
    %s = dit.slice %a offsets [0] strides [8] : tensor<128xf32> -> tensor<16xf32>
    vrt.yield %s : tensor<16xf32>
  }
  return %6 : tensor<16xf32>
}

// -----

// A returned buffer (%1, returned through a view) is never reused: %3 goes
// above it. CPU and CUDA agree: 8x8xf32 is 256 either way after alignment.
//   %0 @0; %1 @256, %0 dies; %2 @0; %3 @512 (not 256), %2 dies. Peak 768.
// CHECK-LABEL: func.func @returned
// CHECK-SAME: attributes {vrt.arena_bytes = 768 : i64}
// CHECK: vrt.kernel "k0"(%{{.*}}) {offset = 0 : i64}
// CHECK: vrt.kernel "k1"(%{{.*}}) {offset = 256 : i64}
// CHECK: vrt.kernel "k2"(%{{.*}}) {offset = 0 : i64}
// CHECK: vrt.kernel "k3"(%{{.*}}) {offset = 512 : i64}
func.func @returned(%x: tensor<8x8xf32>) -> (tensor<64xf32>, tensor<8x8xf32>) {
  %0 = vrt.kernel "k0"(%x) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    %n = dit.neg %a : tensor<8x8xf32>
    vrt.yield %n : tensor<8x8xf32>
  }
  %1 = vrt.kernel "k1"(%0) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    %n = dit.exp %a : tensor<8x8xf32>
    vrt.yield %n : tensor<8x8xf32>
  }
  %2 = vrt.kernel "k2"(%1) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    %n = dit.sin %a : tensor<8x8xf32>
    vrt.yield %n : tensor<8x8xf32>
  }
  %3 = vrt.kernel "k3"(%2) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    %n = dit.cos %a : tensor<8x8xf32>
    vrt.yield %n : tensor<8x8xf32>
  }
  %v = vrt.view %1 : tensor<8x8xf32> -> tensor<64xf32>
  return %v, %3 : tensor<64xf32>, tensor<8x8xf32>
}

// -----

// A result nobody reads is released at once: %1's range is reused by %2.
// Collectives own buffers too. Integer and boolean buffers keep their size
// on CUDA (16xi64 = 128, 16xi1 = 16 -> 256 each).
//   %0 @0; %1 @256, dies at once; %2 @256, %0 dies; %3 @0, %2 dies. Peak 512.
// CHECK-LABEL: func.func @unused
// CHECK-SAME: attributes {vrt.arena_bytes = 512 : i64}
// CHECK: vrt.kernel "k0"(%{{.*}}) {offset = 0 : i64}
// CHECK: vrt.kernel "k1"(%{{.*}}) {offset = 256 : i64}
// CHECK: vrt.all_gather %{{.*}} {axis = 0 : i64, group_size = 2 : i64, offset = 256 : i64}
// CHECK: vrt.kernel "k2"(%{{.*}}) {offset = 0 : i64}
func.func @unused(%x: tensor<16xi64>) -> tensor<32xi1> {
  %0 = vrt.kernel "k0"(%x) : (tensor<16xi64>) -> tensor<16xi64> {
  ^bb0(%a: tensor<16xi64>):
    %n = dit.neg %a : tensor<16xi64>
    vrt.yield %n : tensor<16xi64>
  }
  %1 = vrt.kernel "k1"(%x) : (tensor<16xi64>) -> tensor<16xi64> {
  ^bb0(%a: tensor<16xi64>):
    %n = dit.abs %a : tensor<16xi64>
    vrt.yield %n : tensor<16xi64>
  }
  %2 = vrt.all_gather %0 {axis = 0 : i64, group_size = 2 : i64} : tensor<16xi64> -> tensor<32xi64>
  %3 = vrt.kernel "k2"(%2) : (tensor<32xi64>) -> tensor<32xi1> {
  ^bb0(%a: tensor<32xi64>):
    %c = dit.cast %a : tensor<32xi64> to tensor<32xi1>
    vrt.yield %c : tensor<32xi1>
  }
  return %3 : tensor<32xi1>
}

// -----

// Alignment: 3xf32 = 12 -> 256, 100xf32 = 400 -> 512, 65xf32 = 260 -> 512.
// On the CPU %0 @0; %1 @256 (top 768), %0 dies [0,256); %2 does not fit
// there: @768. Peak 1280.
// On CUDA 6 -> 256, 200 -> 256, 130 -> 256: %0 @0; %1 @256, %0 dies; %2
// @0. Peak 512.
// CHECK-LABEL: func.func @alignment
// CPU-SAME: attributes {vrt.arena_bytes = 1280 : i64}
// CUDA-SAME: attributes {vrt.arena_bytes = 512 : i64}
// CHECK: vrt.kernel "k0"(%{{.*}}) {offset = 0 : i64}
// CHECK: vrt.kernel "k1"(%{{.*}}) {offset = 256 : i64}
// CPU: vrt.kernel "k2"(%{{.*}}) {offset = 768 : i64}
// CUDA: vrt.kernel "k2"(%{{.*}}) {offset = 0 : i64}
func.func @alignment(%x: tensor<3xf32>) -> tensor<65xf32> {
  %0 = vrt.kernel "k0"(%x) : (tensor<3xf32>) -> tensor<3xf32> {
  ^bb0(%a: tensor<3xf32>):
    vrt.yield %a : tensor<3xf32>
  }
  %1 = vrt.kernel "k1"(%0) : (tensor<3xf32>) -> tensor<100xf32> {
  ^bb0(%a: tensor<3xf32>):
    %b = dit.tile %a [34] : tensor<3xf32> -> tensor<102xf32>
    %s = dit.slice %b offsets [0] strides [1] : tensor<102xf32> -> tensor<100xf32>
    vrt.yield %s : tensor<100xf32>
  }
  %2 = vrt.kernel "k2"(%1) : (tensor<100xf32>) -> tensor<65xf32> {
  ^bb0(%a: tensor<100xf32>):
    %s = dit.slice %a offsets [0] strides [1] : tensor<100xf32> -> tensor<65xf32>
    vrt.yield %s : tensor<65xf32>
  }
  return %2 : tensor<65xf32>
}

// -----

// Nothing to place: the arena is empty. Declarations are skipped.
// CHECK-LABEL: func.func private @external(tensor<4xf32>)
// CHECK-NOT: vrt.arena_bytes
// CHECK-LABEL: func.func @nothing
// CHECK-SAME: attributes {vrt.arena_bytes = 0 : i64}
func.func private @external(tensor<4xf32>)
func.func @nothing(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// An op with two results (vrt.vsa_select) gets one offset per result, and
// each lives until its own last use: both die after the attention, whose
// consumer then reuses offset 0.
// CHECK-LABEL: func.func @two_results
// CHECK-SAME: attributes {vrt.arena_bytes = 768 : i64}
// CHECK: vrt.vsa_select {{.*}} {offsets = array<i64: 0, 256>
// CHECK: vrt.attention {{.*}} {offset = 512 : i64
// CHECK: vrt.kernel "k0"(%{{.*}}) {offset = 0 : i64}
func.func @two_results(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %t = vrt.weight "vsa.sparse.0.offsets" : tensor<3xi64> = dense<[0, 4, 8]> : tensor<3xi64>
  %lo, %l = vrt.vsa_select %q, %q tiles(%t) {scale = 0.5 : f64, sparsity = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  %a = vrt.attention %q, %q, %q blocks(%t, %lo, %l) {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>, tensor<5xi64>, tensor<8xi32>) -> tensor<1x2x8x4xf32>
  %k = vrt.kernel "k0"(%a) : (tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  ^bb0(%x: tensor<1x2x8x4xf32>):
    vrt.yield %x : tensor<1x2x8x4xf32>
  }
  return %k : tensor<1x2x8x4xf32>
}

// -----

// Ulysses attention: its output is placed apart from its inputs (the
// exchanges write it while later head chunks still read them) and its
// scratch is sized for the target: 4 x 384 B fp32 on the CPU, 4 x 256 B
// bf16 on CUDA.
// CHECK-LABEL: func.func @ulysses
// CPU: vrt.ulysses_attention {{.*}} {offsets = array<i64: 512, 1024>, {{.*}} -> (tensor<1x4x6x4xf32>, tensor<2048xi8>)
// CUDA: vrt.ulysses_attention {{.*}} {offsets = array<i64: 256, 512>, {{.*}} -> (tensor<1x4x6x4xf32>, tensor<1024xi8>)
func.func @ulysses(%x: tensor<1x4x6x4xf32>) -> tensor<1x4x6x4xf32> {
  %c = vrt.kernel "k0"(%x) : (tensor<1x4x6x4xf32>) -> tensor<1x4x6x4xf32> {
  ^bb0(%a: tensor<1x4x6x4xf32>):
    vrt.yield %a : tensor<1x4x6x4xf32>
  }
  %o, %s = vrt.ulysses_attention %c, %c, %c group 2 chunks 1 {scale = 5.000000e-01 : f64} : (tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>) -> (tensor<1x4x6x4xf32>, tensor<3072xi8>)
  return %o : tensor<1x4x6x4xf32>
}
