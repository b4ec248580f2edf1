// RUN: vsa-translate --vrt-to-cpp -split-input-file -verify-diagnostics %s

// expected-error @below {{has no memory plan: run vrt-plan-memory first}}
func.func @unplanned(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = vrt.kernel "k0" (%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    vrt.yield %a : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @collective_groups(%x: tensor<4x8xf32>) -> tensor<32x1xf32> attributes {vrt.arena_bytes = 1024 : i64} {
  %y = vrt.all_to_all %x {scatter_axis = 1 : i64, gather_axis = 0 : i64, group_size = 4 : i64, offset = 0 : i64} : tensor<4x8xf32> -> tensor<16x2xf32>
  // expected-error @below {{'vrt.all_to_all' op has group_size 2 (stride 1) but an earlier collective has 4: set vrt.num_ranks for several groups}}
  %z = vrt.all_to_all %y {scatter_axis = 1 : i64, gather_axis = 0 : i64, group_size = 2 : i64, offset = 256 : i64} : tensor<16x2xf32> -> tensor<32x1xf32>
  return %z : tensor<32x1xf32>
}

// -----

func.func @dit_left(%x: tensor<4xf32>) -> tensor<4xf32> attributes {vrt.arena_bytes = 256 : i64} {
  // expected-error @below {{is not a vrt op: lower the function to vrt first}}
  %y = dit.neg %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Ulysses attention's scratch planned for CUDA (bf16) is too small for the
// CPU kernel (fp32).
func.func @ulysses_small(%x: tensor<1x4x6x4xf32> {dit.name = "x"}) -> (tensor<1x4x6x4xf32> {dit.name = "y"}) attributes {vrt.arena_bytes = 4096 : i64, vrt.num_ranks = 2 : i64} {
  %c = vrt.kernel "k0"(%x) {offset = 0 : i64} : (tensor<1x4x6x4xf32>) -> tensor<1x4x6x4xf32> {
  ^bb0(%a: tensor<1x4x6x4xf32>):
    vrt.yield %a : tensor<1x4x6x4xf32>
  }
  // expected-error@+1 {{'vrt.ulysses_attention' op scratch of 1024 bytes, the cpu kernel needs 2048: plan memory for this target}}
  %o, %s = vrt.ulysses_attention %c, %c, %c group 2 chunks 1 {offsets = array<i64: 512, 1024>, scale = 5.000000e-01 : f64} : (tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>) -> (tensor<1x4x6x4xf32>, tensor<1024xi8>)
  return %o : tensor<1x4x6x4xf32>
}


// -----

// The session stores a weight once: FP8 for scaled GEMMs, so no other op
// may read it.
func.func @fp8_weight_shared(%x: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>) attributes {vrt.arena_bytes = 8192 : i64} {
  %w = vrt.weight "w" : tensor<32x32xf32>
  %q, %s = vrt.quantize_rows %x {offsets = array<i64: 0, 512>} : tensor<16x32xf32> -> tensor<16x32xf8E4M3FN>, tensor<16xf32>
  %0 = vrt.scaled_gemm %q, %s, %w {offset = 1024 : i64} : (tensor<16x32xf8E4M3FN>, tensor<16xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
  // expected-error @below {{'vrt.gemm' op reads weight w, which scaled GEMMs need stored in FP8}}
  %1 = vrt.gemm %x, %w {trans_b = true, offset = 4096 : i64} : (tensor<16x32xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
  return %0, %1 : tensor<16x32xf32>, tensor<16x32xf32>
}
