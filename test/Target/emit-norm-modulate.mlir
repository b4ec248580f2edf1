// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// A norm with the AdaLN modulation fused: the *_norm_modulate call takes
// (batch, seq, dim) rows, one modulation row per batch entry.
// CPP: VSA_CHECK(vsart_cpu_layer_norm_modulate((const float *)(arena + 0), (float *)(arena + 512), 2, 6, 8, (const float *)weights[0], nullptr, 1e-06f, (const float *)(arena + 1024), (const float *)(arena + 1280)));
// CPP: VSA_CHECK(vsart_cpu_rms_norm((const float *)(arena + 0), (float *)(arena + 1536), 12, 8, nullptr, nullptr, 1e-06f));
// CU: VSA_CHECK(vsart_cuda_layer_norm_modulate((arena + 0), (arena + 512), 2, 6, 8, weights[0], nullptr, 1e-06f, (arena + 1024), (arena + 1280), stream));
func.func @main(%x: tensor<12x8xf32> {dit.name = "x"}, %m: tensor<2x8xf32> {dit.name = "m"}) -> (tensor<12x8xf32> {dit.name = "y"}, tensor<12x8xf32> {dit.name = "z"}) attributes {vrt.arena_bytes = 2048 : i64} {
  %s = vrt.weight "norm.weight" : tensor<8xf32>
  %xc = vrt.kernel "k0" (%x) {offset = 0 : i64} : (tensor<12x8xf32>) -> tensor<12x8xf32> {
  ^bb0(%a: tensor<12x8xf32>):
    vrt.yield %a : tensor<12x8xf32>
  }
  %sh = vrt.kernel "k1" (%m) {offset = 1024 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32> {
  ^bb0(%a: tensor<2x8xf32>):
    vrt.yield %a : tensor<2x8xf32>
  }
  %sc = vrt.kernel "k2" (%m) {offset = 1280 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32> {
  ^bb0(%a: tensor<2x8xf32>):
    vrt.yield %a : tensor<2x8xf32>
  }
  %y = vrt.norm layer %xc scale %s modulate %sh, %sc {epsilon = 1.0e-6 : f64, offset = 512 : i64} : (tensor<12x8xf32>, tensor<8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<12x8xf32>
  %z = vrt.norm rms %xc {epsilon = 1.0e-6 : f64, offset = 1536 : i64} : (tensor<12x8xf32>) -> tensor<12x8xf32>
  return %y, %z : tensor<12x8xf32>, tensor<12x8xf32>
}
