// Ulysses all-to-all over 2 ranks and back (the identity), then an
// all_gather along the sequence: x (B, S, H, D) = (2, 8, 4, 2) ->
// (B, S*2, H/2, D) -> x -> (B, S*2, H, D). Used by ../collectives.test.
func.func @main(%x: tensor<2x8x4x2xf32> {dit.name = "x"}) -> (tensor<2x16x2x2xf32> {dit.name = "a2a"}, tensor<2x8x4x2xf32> {dit.name = "back"}, tensor<2x16x4x2xf32> {dit.name = "gathered"}) attributes {vrt.arena_bytes = 2560 : i64} {
  %c = vrt.kernel "k0"(%x) {offset = 0 : i64} : (tensor<2x8x4x2xf32>) -> tensor<2x8x4x2xf32> {
  ^bb0(%a: tensor<2x8x4x2xf32>):
    vrt.yield %a : tensor<2x8x4x2xf32>
  }
  %s = vrt.all_to_all %c {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64, offset = 512 : i64} : tensor<2x8x4x2xf32> -> tensor<2x16x2x2xf32>
  %b = vrt.all_to_all %s {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64, offset = 1024 : i64} : tensor<2x16x2x2xf32> -> tensor<2x8x4x2xf32>
  %g = vrt.all_gather %b {axis = 1 : i64, group_size = 2 : i64, offset = 1536 : i64} : tensor<2x8x4x2xf32> -> tensor<2x16x4x2xf32>
  return %s, %b, %g : tensor<2x16x2x2xf32>, tensor<2x8x4x2xf32>, tensor<2x16x4x2xf32>
}
