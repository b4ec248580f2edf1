// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-fuse-ulysses-attention{chunks=3}))' -verify-diagnostics -o /dev/null
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-fuse-ulysses-attention{chunks=-2}))' -o /dev/null 2>&1 | FileCheck %s --check-prefix=NEG

// NEG: chunks must be >= 0 (0: automatic), got -2

// 4 heads per rank: 3 chunks do not divide them.
func.func @chunks(%q: tensor<1x8x24x16xf32>) -> tensor<1x8x24x16xf32> {
  %p:3 = vrt.all_to_all %q, %q, %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x8x24x16xf32>, tensor<1x8x24x16xf32>, tensor<1x8x24x16xf32> -> tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>
  // expected-error@+1 {{'vrt.attention' op vrt-fuse-ulysses-attention: chunks=3 does not divide the 4 heads of each rank}}
  %a = vrt.attention %p#0, %p#1, %p#2 {scale = 2.500000e-01 : f64} : (tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>) -> tensor<1x4x48x16xf32>
  %o = vrt.all_to_all %a {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x4x48x16xf32> -> tensor<1x8x24x16xf32>
  return %o : tensor<1x8x24x16xf32>
}
