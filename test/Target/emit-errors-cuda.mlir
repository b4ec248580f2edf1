// RUN: vsa-translate --vrt-to-cu -split-input-file -verify-diagnostics %s

// A collective moves bytes: on CUDA a model input keeps f32 storage while
// the collective's result is a bf16 activation.
func.func @collective_input_storage(%x: tensor<4x8xf32>) -> tensor<8x4xf32> attributes {vrt.arena_bytes = 256 : i64} {
  // expected-error @below {{'vrt.all_to_all' op reads a value stored as float but its result is stored as __nv_bfloat16: copy it into the arena first (an identity vrt.kernel)}}
  %y = vrt.all_to_all %x {scatter_axis = 1 : i64, gather_axis = 0 : i64, group_size = 2 : i64, offset = 0 : i64} : tensor<4x8xf32> -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}
