// Ops the fixtures do not exercise, against hand-computed results.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np, sys; d = sys.argv[1]; s = lambda n, v, t='float32': np.save(d + '/' + n + '.npy', np.array(v, dtype=t)); \
// RUN:   s('gather', [[5, 6], [1, 2]]); \
// RUN:   s('snd_add', [1, 32, 3, 34]); s('snd_mul', [6, 2, 3, 4]); s('snd_max', [1, 9, 3, 4]); s('snd_min', [1, 2, -1, 4]); s('snd_none', [[7, 8], [3, 4]]); \
// RUN:   s('sel', [[20, 2, 10], [4, 5, 6]]); s('sel_add', [[1, 2, 3], [34, 5, 6]]); \
// RUN:   s('pad', [[9, 9, 9, 9], [9, 1, 2, 9], [9, 3, 4, 9]]); \
// RUN:   s('tile', [[1, 2, 1, 2, 1, 2], [1, 2, 1, 2, 1, 2]]); \
// RUN:   s('causal', [[[[2], [3]]]]); s('masked', [[[[3], [0]]]]); \
// RUN:   s('gqa', [[[[0.0]], [[0.0]], [[4.0]], [[4.0]]]]); \
// RUN:   s('vecmat', [4, 5]); s('matvec', [6, 15]); s('vecvec', 14); s('bmm', [[[1, 2]], [[3, 6]]]); \
// RUN:   s('idiv', [3, -3, -3, 3], 'int64'); s('imod', [1, 2, -2, -1], 'int64'); s('ifmod', [1, -1, 1, -1], 'int64'); \
// RUN:   s('cmp', [False, True, True], 'bool'); s('rope_il', [[-2, 1, 3, 4]]); s('rope_half', [[-3, 2, 1, 4]])" %t
// RUN: vsa-interp %s --rtol 1e-6 \
// RUN:   --expected gather=%t/gather.npy \
// RUN:   --expected snd_add=%t/snd_add.npy --expected snd_mul=%t/snd_mul.npy \
// RUN:   --expected snd_max=%t/snd_max.npy --expected snd_min=%t/snd_min.npy \
// RUN:   --expected snd_none=%t/snd_none.npy \
// RUN:   --expected sel=%t/sel.npy --expected sel_add=%t/sel_add.npy \
// RUN:   --expected pad=%t/pad.npy --expected tile=%t/tile.npy \
// RUN:   --expected causal=%t/causal.npy --expected masked=%t/masked.npy \
// RUN:   --expected gqa=%t/gqa.npy \
// RUN:   --expected vecmat=%t/vecmat.npy --expected matvec=%t/matvec.npy \
// RUN:   --expected vecvec=%t/vecvec.npy --expected bmm=%t/bmm.npy \
// RUN:   --expected idiv=%t/idiv.npy --expected imod=%t/imod.npy \
// RUN:   --expected ifmod=%t/ifmod.npy --expected cmp=%t/cmp.npy \
// RUN:   --expected rope_il=%t/rope_il.npy --expected rope_half=%t/rope_half.npy \
// RUN:   --output pad=%t/pad.out.npy | FileCheck %s
// RUN: %python -c "import numpy as np, sys; a = np.load(sys.argv[1]); assert a.dtype == np.float32 and a.shape == (3, 4), a; assert (a == np.load(sys.argv[2])).all(), a" %t/pad.out.npy %t/pad.npy
//
// Bad .npy files are clean errors.
// RUN: printf 'garbage' > %t/bad.npy
// RUN: not vsa-interp %s --expected pad=%t/bad.npy 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: %python -c "open('%t/short.npy', 'wb').write(open('%t/pad.npy', 'rb').read()[:-3])"
// RUN: not vsa-interp %s --expected pad=%t/short.npy 2>&1 | FileCheck %s --check-prefix=SHORT
// BAD: bad.npy: not a .npy file
// SHORT: short.npy: holds {{[0-9]+}} data bytes, shape and dtype need 48

// CHECK-NOT: FAILED
// CHECK: gather: max|err| = 0.000e+00
// CHECK-NOT: FAILED

func.func @main() -> (tensor<2x2xf32> {dit.name = "gather"},
    tensor<4xf32> {dit.name = "snd_add"}, tensor<4xf32> {dit.name = "snd_mul"},
    tensor<4xf32> {dit.name = "snd_max"}, tensor<4xf32> {dit.name = "snd_min"},
    tensor<2x2xf32> {dit.name = "snd_none"},
    tensor<2x3xf32> {dit.name = "sel"}, tensor<2x3xf32> {dit.name = "sel_add"},
    tensor<3x4xf32> {dit.name = "pad"}, tensor<2x6xf32> {dit.name = "tile"},
    tensor<1x1x2x1xf32> {dit.name = "causal"},
    tensor<1x1x2x1xf32> {dit.name = "masked"},
    tensor<1x4x1x1xf32> {dit.name = "gqa"},
    tensor<2xf32> {dit.name = "vecmat"}, tensor<2xf32> {dit.name = "matvec"},
    tensor<f32> {dit.name = "vecvec"}, tensor<2x1x2xf32> {dit.name = "bmm"},
    tensor<4xi64> {dit.name = "idiv"}, tensor<4xi64> {dit.name = "imod"},
    tensor<4xi64> {dit.name = "ifmod"}, tensor<3xi1> {dit.name = "cmp"},
    tensor<1x4xf32> {dit.name = "rope_il"}, tensor<1x4xf32> {dit.name = "rope_half"}) {
  // gather with a negative (wrapping) index
  %g_in = dit.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %g_idx = dit.constant dense<[-1, 0]> : tensor<2xi64>
  %gather = dit.gather %g_in[%g_idx] {axis = 0 : i64} : (tensor<3x2xf32>, tensor<2xi64>) -> tensor<2x2xf32>

  // scatter_nd, every reduction (duplicate indices accumulate)
  %d = dit.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %i3 = dit.constant dense<[[1], [1], [3]]> : tensor<3x1xi64>
  %u3 = dit.constant dense<[10.0, 20.0, 30.0]> : tensor<3xf32>
  %snd_add = dit.scatter_nd %d[%i3], %u3 reduction add : (tensor<4xf32>, tensor<3x1xi64>, tensor<3xf32>) -> tensor<4xf32>
  %i2 = dit.constant dense<[[0], [0]]> : tensor<2x1xi64>
  %u2 = dit.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %snd_mul = dit.scatter_nd %d[%i2], %u2 reduction mul : (tensor<4xf32>, tensor<2x1xi64>, tensor<2xf32>) -> tensor<4xf32>
  %i1 = dit.constant dense<[[1], [0]]> : tensor<2x1xi64>
  %u1 = dit.constant dense<[9.0, -5.0]> : tensor<2xf32>
  %snd_max = dit.scatter_nd %d[%i1], %u1 reduction max : (tensor<4xf32>, tensor<2x1xi64>, tensor<2xf32>) -> tensor<4xf32>
  %i1b = dit.constant dense<[[2], [-1]]> : tensor<2x1xi64>
  %u1b = dit.constant dense<[-1.0, 7.0]> : tensor<2xf32>
  %snd_min = dit.scatter_nd %d[%i1b], %u1b reduction min : (tensor<4xf32>, tensor<2x1xi64>, tensor<2xf32>) -> tensor<4xf32>
  %d22 = dit.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %irow = dit.constant dense<[[0]]> : tensor<1x1xi64>
  %urow = dit.constant dense<[[7.0, 8.0]]> : tensor<1x2xf32>
  %snd_none = dit.scatter_nd %d22[%irow], %urow : (tensor<2x2xf32>, tensor<1x1xi64>, tensor<1x2xf32>) -> tensor<2x2xf32>

  // scatter_elements along axis 1 (negative index wraps), plain and add
  %d23 = dit.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %ie = dit.constant dense<[[2, -3]]> : tensor<1x2xi64>
  %ue = dit.constant dense<[[10.0, 20.0]]> : tensor<1x2xf32>
  %sel = dit.scatter_elements %d23[%ie], %ue {axis = 1 : i64} : (tensor<2x3xf32>, tensor<1x2xi64>, tensor<1x2xf32>) -> tensor<2x3xf32>
  %ie2 = dit.constant dense<[[1], [1]]> : tensor<2x1xi64>
  %ue2 = dit.constant dense<[[10.0], [20.0]]> : tensor<2x1xf32>
  %sel_add = dit.scatter_elements %d23[%ie2], %ue2 reduction add {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x1xi64>, tensor<2x1xf32>) -> tensor<2x3xf32>

  // pad (before each axis, then after) and tile
  %p_in = dit.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %pad = dit.pad %p_in [1, 1, 0, 1] {padding_value = 9.0 : f64} : tensor<2x2xf32> -> tensor<3x4xf32>
  %t_in = dit.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %tile = dit.tile %t_in [2, 3] : tensor<1x2xf32> -> tensor<2x6xf32>

  // attention: causal; a fully masked row gives 0; grouped heads
  %q0 = dit.constant dense<0.0> : tensor<1x1x2x1xf32>
  %v = dit.constant dense<[[[[2.0], [4.0]]]]> : tensor<1x1x2x1xf32>
  %causal = dit.attention %q0, %q0, %v {is_causal = true, scale = 1.0 : f64} : (tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>) -> tensor<1x1x2x1xf32>
  %m = dit.constant dense<[[true, true], [false, false]]> : tensor<2x2xi1>
  %masked = dit.attention %q0, %q0, %v mask %m {scale = 1.0 : f64} : (tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>, tensor<2x2xi1>) -> tensor<1x1x2x1xf32>
  %gq = dit.constant dense<0.0> : tensor<1x4x1x1xf32>
  %gk = dit.constant dense<0.0> : tensor<1x2x2x1xf32>
  %gv = dit.constant dense<[[[[0.0], [2.0]], [[4.0], [6.0]]]]> : tensor<1x2x2x1xf32>
  %fm = dit.constant dense<[0.0, -1.0e30]> : tensor<2xf32>
  %gqa0 = dit.attention %gq, %gk, %gv {scale = 0.5 : f64} : (tensor<1x4x1x1xf32>, tensor<1x2x2x1xf32>, tensor<1x2x2x1xf32>) -> tensor<1x4x1x1xf32>
  %gqa = dit.attention %gq, %gk, %gv mask %fm {scale = 0.5 : f64} : (tensor<1x4x1x1xf32>, tensor<1x2x2x1xf32>, tensor<1x2x2x1xf32>, tensor<2xf32>) -> tensor<1x4x1x1xf32>

  // matmul with rank-1 operands and broadcast batch dimensions
  %vec = dit.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %mat = dit.constant dense<[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]> : tensor<3x2xf32>
  %vecmat = dit.matmul %vec, %mat : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<2xf32>
  %mat23 = dit.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %ones = dit.constant dense<1.0> : tensor<3xf32>
  %matvec = dit.matmul %mat23, %ones : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32>
  %vecvec = dit.matmul %vec, %vec : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
  %lhs = dit.constant dense<[[[1.0]], [[3.0]]]> : tensor<2x1x1xf32>
  %rhs = dit.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %lhs2 = dit.constant dense<[[[1.0]], [[1.0]]]> : tensor<2x1x1xf32>
  %bmm0 = dit.matmul %lhs, %rhs : (tensor<2x1x1xf32>, tensor<1x2xf32>) -> tensor<2x1x2xf32>
  %bmm1 = dit.matmul %lhs2, %rhs : (tensor<2x1x1xf32>, tensor<1x2xf32>) -> tensor<2x1x2xf32>
  %bmm2 = dit.sub %bmm0, %bmm1 : (tensor<2x1x2xf32>, tensor<2x1x2xf32>) -> tensor<2x1x2xf32>
  %bmm = dit.add %bmm2, %bmm1 : (tensor<2x1x2xf32>, tensor<2x1x2xf32>) -> tensor<2x1x2xf32>

  // integer div truncates; mod takes the divisor's sign, fmod the dividend's
  %a = dit.constant dense<[7, -7, 7, -7]> : tensor<4xi64>
  %b = dit.constant dense<[2, 2, -2, -2]> : tensor<4xi64>
  %idiv = dit.div %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %b3 = dit.constant dense<[3, 3, -3, -3]> : tensor<4xi64>
  %imod = dit.mod %a, %b3 : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %ifmod = dit.mod %a, %b3 {fmod = true} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %c0 = dit.constant dense<[1, 2, 3]> : tensor<3xi64>
  %c1 = dit.constant dense<2> : tensor<i64>
  %cmp = dit.compare ge, %c0, %c1 : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>

  // rope: pair 0 rotated by 90 degrees (cos 0, sin 1), pair 1 kept
  %r_x = dit.constant dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>
  %r_c = dit.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %r_s = dit.constant dense<[1.0, 0.0]> : tensor<2xf32>
  %rope_il = dit.rope %r_x, %r_c, %r_s {interleaved} : (tensor<1x4xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x4xf32>
  %rope_half = dit.rope %r_x, %r_c, %r_s : (tensor<1x4xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x4xf32>
  return %gather, %snd_add, %snd_mul, %snd_max, %snd_min, %snd_none, %sel, %sel_add,
      %pad, %tile, %causal, %masked, %gqa, %vecmat, %matvec, %vecvec, %bmm,
      %idiv, %imod, %ifmod, %cmp, %rope_il, %rope_half
      : tensor<2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>,
        tensor<2x2xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<3x4xf32>,
        tensor<2x6xf32>, tensor<1x1x2x1xf32>, tensor<1x1x2x1xf32>,
        tensor<1x4x1x1xf32>, tensor<2xf32>, tensor<2xf32>, tensor<f32>,
        tensor<2x1x2xf32>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>, tensor<3xi1>,
        tensor<1x4xf32>, tensor<1x4xf32>
}
