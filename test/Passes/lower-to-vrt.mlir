// RUN: vsa-opt %s -allow-unregistered-dialect -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(vrt-lower))' | FileCheck %s

// vrt-lower alone: each dit op becomes a vrt library call, a view or a
// one-op kernel (vrt-fuse-kernels merges those later). Weights and the
// copies of model inputs are created at the top of the function, so their
// order is checked with CHECK-DAG.

// nn.Linear with the W^T param (perm [1, 0]): the GEMM reads the weight as
// the checkpoint stores it, (N, K) = (4, 8), with trans_b. The model input is
// copied once before the library call.
// CHECK-LABEL: func.func @linear_perm
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x6x8xf32>)
// CHECK-DAG: %[[XC:.*]] = vrt.kernel "k0"(%[[X]]) : (tensor<1x6x8xf32>) -> tensor<1x6x8xf32>
// CHECK-DAG: %[[W:.*]] = vrt.weight "to_q.weight" : tensor<4x8xf32>{{$}}
// CHECK-DAG: %[[B:.*]] = vrt.weight "to_q.bias" : tensor<4xf32>{{$}}
// CHECK: %[[Y:.*]] = vrt.gemm %[[XC]], %[[W]], %[[B]] {trans_b = true} : (tensor<1x6x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<1x6x4xf32>
// CHECK-NEXT: return %[[Y]]
// CHECK-NOT: dit.
func.func @linear_perm(%x: tensor<1x6x8xf32>) -> tensor<1x6x4xf32> {
  %w = dit.param "to_q.weight" {perm = array<i64: 1, 0>, source = "val_12"} : tensor<8x4xf32>
  %b = dit.param "to_q.bias" : tensor<4xf32>
  %0 = dit.linear %x, %w, %b : (tensor<1x6x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<1x6x4xf32>
  return %0 : tensor<1x6x4xf32>
}

// -----

// An embedded W^T value (K, N) = (2, 3) is transposed back to the
// checkpoint's (3, 2): W[n][k] = value[k][n].
// CHECK-LABEL: func.func @linear_value
// CHECK: %[[W:.*]] = vrt.weight "proj.weight" : tensor<3x2xf32> = dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK: vrt.gemm %{{.*}}, %[[W]] {trans_b = true} : (tensor<5x2xf32>, tensor<3x2xf32>) -> tensor<5x3xf32>
func.func @linear_value(%x: tensor<5x2xf32>) -> tensor<5x3xf32> {
  %w = dit.param "proj.weight" {perm = array<i64: 1, 0>} : tensor<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>
  %0 = dit.linear %x, %w : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

// A linear whose weight is an explicit transpose of a param: the GEMM reads
// the param with trans_b and the transpose (a kernel) is dropped.
// CHECK-LABEL: func.func @linear_transpose
// CHECK-DAG: %[[W:.*]] = vrt.weight "proj.weight" : tensor<3x2xf32>{{$}}
// CHECK-DAG: %[[XC:.*]] = vrt.kernel
// CHECK: vrt.gemm %[[XC]], %[[W]] {trans_b = true} : (tensor<5x2xf32>, tensor<3x2xf32>) -> tensor<5x3xf32>
// CHECK-NOT: dit.transpose
// CHECK-NOT: vrt.kernel
func.func @linear_transpose(%x: tensor<5x2xf32>) -> tensor<5x3xf32> {
  %p = dit.param "proj.weight" : tensor<3x2xf32>
  %w = dit.transpose %p [1, 0] : tensor<3x2xf32> -> tensor<2x3xf32>
  %0 = dit.linear %x, %w : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

// A transposed param used by something other than a GEMM is materialised as
// a transposing kernel over the stored weight.
// CHECK-LABEL: func.func @transposed_param_elsewhere
// CHECK: %[[W:.*]] = vrt.weight "proj.weight" : tensor<3x2xf32> = dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]>
// CHECK: %[[T:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[W]]) : (tensor<3x2xf32>) -> tensor<2x3xf32> {
// CHECK: dit.transpose %{{.*}} [1, 0] : tensor<3x2xf32> -> tensor<2x3xf32>
// CHECK: vrt.kernel "k{{[0-9]+}}"(%[[T]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: dit.neg
func.func @transposed_param_elsewhere() -> tensor<2x3xf32> {
  %w = dit.param "proj.weight" {perm = array<i64: 1, 0>} : tensor<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>
  %0 = dit.neg %w : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Batched matmul: same batch dims go straight to the GEMM; a 2-D lhs against
// a batched rhs is broadcast to the batch; a (1, M, K) lhs against a (3, K,
// N) rhs too. Every model input a GEMM reads is copied once (%b twice used).
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<2x3x4x5xf32>, %[[B:[a-z0-9]+]]: tensor<2x3x5x6xf32>, %[[C:[a-z0-9]+]]: tensor<4x5xf32>, %[[D:[a-z0-9]+]]: tensor<1x4x5xf32>, %[[E:[a-z0-9]+]]: tensor<3x5x6xf32>)
// CHECK-DAG: %[[EC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[E]]) : (tensor<3x5x6xf32>) -> tensor<3x5x6xf32>
// CHECK-DAG: %[[AC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[A]]) : (tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32>
// CHECK-DAG: %[[BC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[B]]) : (tensor<2x3x5x6xf32>) -> tensor<2x3x5x6xf32>
// CHECK: %[[R0:.*]] = vrt.gemm %[[AC]], %[[BC]] : (tensor<2x3x4x5xf32>, tensor<2x3x5x6xf32>) -> tensor<2x3x4x6xf32>
// CHECK: %[[CB:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[C]]) : (tensor<4x5xf32>) -> tensor<2x3x4x5xf32> {
// CHECK: dit.broadcast %{{.*}} : tensor<4x5xf32> -> tensor<2x3x4x5xf32>
// CHECK: %[[R1:.*]] = vrt.gemm %[[CB]], %[[BC]] : (tensor<2x3x4x5xf32>, tensor<2x3x5x6xf32>) -> tensor<2x3x4x6xf32>
// CHECK: %[[DB:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[D]]) : (tensor<1x4x5xf32>) -> tensor<3x4x5xf32> {
// CHECK: dit.broadcast %{{.*}} : tensor<1x4x5xf32> -> tensor<3x4x5xf32>
// CHECK: %[[R2:.*]] = vrt.gemm %[[DB]], %[[EC]] : (tensor<3x4x5xf32>, tensor<3x5x6xf32>) -> tensor<3x4x6xf32>
// CHECK: return %[[R0]], %[[R1]], %[[R2]]
func.func @matmul(%a: tensor<2x3x4x5xf32>, %b: tensor<2x3x5x6xf32>, %c: tensor<4x5xf32>, %d: tensor<1x4x5xf32>, %e: tensor<3x5x6xf32>) -> (tensor<2x3x4x6xf32>, tensor<2x3x4x6xf32>, tensor<3x4x6xf32>) {
  %0 = dit.matmul %a, %b : (tensor<2x3x4x5xf32>, tensor<2x3x5x6xf32>) -> tensor<2x3x4x6xf32>
  %1 = dit.matmul %c, %b : (tensor<4x5xf32>, tensor<2x3x5x6xf32>) -> tensor<2x3x4x6xf32>
  %2 = dit.matmul %d, %e : (tensor<1x4x5xf32>, tensor<3x5x6xf32>) -> tensor<3x4x6xf32>
  return %0, %1, %2 : tensor<2x3x4x6xf32>, tensor<2x3x4x6xf32>, tensor<3x4x6xf32>
}

// -----

// A batched lhs against a shared 2-D rhs needs no broadcast.
// CHECK-LABEL: func.func @matmul_shared_rhs
// CHECK: vrt.gemm %{{.*}}, %{{.*}} : (tensor<2x4x5xf32>, tensor<5x6xf32>) -> tensor<2x4x6xf32>
// CHECK-NOT: dit.broadcast
func.func @matmul_shared_rhs(%a: tensor<2x4x5xf32>) -> tensor<2x4x6xf32> {
  %w = dit.param "w" : tensor<5x6xf32>
  %0 = dit.matmul %a, %w : (tensor<2x4x5xf32>, tensor<5x6xf32>) -> tensor<2x4x6xf32>
  return %0 : tensor<2x4x6xf32>
}

// -----

// ONNX Gemm: flags and alpha carry over. A (M, N) C with beta = 0.5 is not a
// bias: a kernel adds beta·C after the GEMM. An (N) C with beta = 1 is the
// bias; beta = 0 drops C.
// CHECK-LABEL: func.func @gemm
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<3x2xf32>, %[[B:[a-z0-9]+]]: tensor<4x3xf32>, %[[C:[a-z0-9]+]]: tensor<2x4xf32>, %[[BIAS:[a-z0-9]+]]: tensor<4xf32>)
// CHECK-DAG: %[[BIASC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[BIAS]])
// CHECK-DAG: %[[AC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[A]])
// CHECK-DAG: %[[BC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[B]])
// CHECK: %[[G0:.*]] = vrt.gemm %[[AC]], %[[BC]] {alpha = 2.000000e+00 : f64, trans_a = true, trans_b = true} : (tensor<3x2xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: %[[Y0:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[G0]], %[[C]]) : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32> {
// CHECK-NEXT: ^bb0(%[[P:.*]]: tensor<2x4xf32>, %[[Q:.*]]: tensor<2x4xf32>):
// CHECK-NEXT:   %[[BETA:.*]] = dit.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:   %[[BC2:.*]] = dit.mul %[[Q]], %[[BETA]] : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
// CHECK-NEXT:   %[[S:.*]] = dit.add %[[P]], %[[BC2]] : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:   vrt.yield %[[S]] : tensor<2x4xf32>
// CHECK: %[[Y1:.*]] = vrt.gemm %[[AC]], %[[BC]], %[[BIASC]] {trans_a = true, trans_b = true} : (tensor<3x2xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: %[[Y2:.*]] = vrt.gemm %[[AC]], %[[BC]] {trans_a = true, trans_b = true} : (tensor<3x2xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: return %[[Y0]], %[[Y1]], %[[Y2]]
func.func @gemm(%a: tensor<3x2xf32>, %b: tensor<4x3xf32>, %c: tensor<2x4xf32>, %bias: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %0 = dit.gemm %a, %b, %c {alpha = 2.0 : f64, beta = 0.5 : f64, trans_a = true, trans_b = true} : (tensor<3x2xf32>, tensor<4x3xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %1 = dit.gemm %a, %b, %bias {trans_a = true, trans_b = true} : (tensor<3x2xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %2 = dit.gemm %a, %b, %c {beta = 0.0 : f64, trans_a = true, trans_b = true} : (tensor<3x2xf32>, tensor<4x3xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0, %1, %2 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// The beta·C kernel computes in the GEMM's element type.
// CHECK-LABEL: func.func @gemm_f16
// CHECK: dit.constant dense<5.000000e-01> : tensor<f16>
// CHECK-NEXT: dit.mul %{{.*}}, %{{.*}} : (tensor<2x4xf16>, tensor<f16>) -> tensor<2x4xf16>
func.func @gemm_f16(%a: tensor<2x3xf16>, %b: tensor<3x4xf16>, %c: tensor<2x4xf16>) -> tensor<2x4xf16> {
  %0 = dit.gemm %a, %b, %c {beta = 0.5 : f64} : (tensor<2x3xf16>, tensor<3x4xf16>, tensor<2x4xf16>) -> tensor<2x4xf16>
  return %0 : tensor<2x4xf16>
}

// -----

// Attention: an i1 keep-mask becomes an additive mask (where(m, 0, -inf)) in
// a kernel; a rank-2 float mask is viewed as rank 4 (1, 1, Sq, Skv).
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x2x8x4xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x6x4xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x6x4xf32>, %[[M:[a-z0-9]+]]: tensor<1x1x8x6xi1>, %[[F:[a-z0-9]+]]: tensor<8x6xf32>)
// CHECK-DAG: %[[FC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[F]]) : (tensor<8x6xf32>) -> tensor<8x6xf32>
// CHECK-DAG: %[[QC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[Q]]) : (tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
// CHECK-DAG: %[[KC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[K]]) : (tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32>
// CHECK-DAG: %[[VC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[V]]) : (tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32>
// CHECK: %[[MK:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[M]]) : (tensor<1x1x8x6xi1>) -> tensor<1x1x8x6xf32> {
// CHECK-NEXT: ^bb0(%[[KEEP:.*]]: tensor<1x1x8x6xi1>):
// CHECK-DAG:   %[[NINF:.*]] = dit.constant dense<0xFF800000> : tensor<f32>
// CHECK-DAG:   %[[ZERO:.*]] = dit.constant dense<0.000000e+00> : tensor<f32>
// CHECK:   %[[ADD:.*]] = dit.where %[[KEEP]], %[[ZERO]], %[[NINF]] : (tensor<1x1x8x6xi1>, tensor<f32>, tensor<f32>) -> tensor<1x1x8x6xf32>
// CHECK-NEXT:   vrt.yield %[[ADD]] : tensor<1x1x8x6xf32>
// CHECK: %[[A0:.*]] = vrt.attention %[[QC]], %[[KC]], %[[VC]] mask %[[MK]] {scale = 5.000000e-01 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x1x8x6xf32>) -> tensor<1x2x8x4xf32>
// CHECK-NEXT: %[[FV:.*]] = vrt.view %[[FC]] : tensor<8x6xf32> -> tensor<1x1x8x6xf32>
// CHECK-NEXT: %[[A1:.*]] = vrt.attention %[[QC]], %[[KC]], %[[VC]] mask %[[FV]] {scale = 5.000000e-01 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x1x8x6xf32>) -> tensor<1x2x8x4xf32>
// CHECK-NEXT: return %[[A0]], %[[A1]]
func.func @attention(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x6x4xf32>, %v: tensor<1x2x6x4xf32>, %m: tensor<1x1x8x6xi1>, %f: tensor<8x6xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) {
  %0 = dit.attention %q, %k, %v mask %m {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x1x8x6xi1>) -> tensor<1x2x8x4xf32>
  %1 = dit.attention %q, %k, %v mask %f {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<8x6xf32>) -> tensor<1x2x8x4xf32>
  return %0, %1 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
}

// -----

// Norms run over rows: the input is viewed as (rows, normalised size) and
// the result viewed back. Over the last axis: (6, 8); over the two trailing
// axes: (1, 48) with a (6, 8) scale viewed as (48) or an (8) scale broadcast
// to (6, 8) first.
// CHECK-LABEL: func.func @norms
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x6x8xf32>, %[[S:[a-z0-9]+]]: tensor<8xf32>, %[[B:[a-z0-9]+]]: tensor<8xf32>, %[[S2:[a-z0-9]+]]: tensor<6x8xf32>, %[[S3:[a-z0-9]+]]: tensor<8xf32>)
// CHECK-DAG: %[[S2C:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[S2]])
// CHECK-DAG: %[[BC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[B]])
// CHECK-DAG: %[[SC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[S]])
// CHECK-DAG: %[[XC:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[X]])
// CHECK: %[[R0:.*]] = vrt.view %[[XC]] : tensor<1x6x8xf32> -> tensor<6x8xf32>
// CHECK-NEXT: %[[N0:.*]] = vrt.norm layer %[[R0]] scale %[[SC]] bias %[[BC]] {epsilon = 9.9999999999999995E-7 : f64} : (tensor<6x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<6x8xf32>
// CHECK-NEXT: %[[Y0:.*]] = vrt.view %[[N0]] : tensor<6x8xf32> -> tensor<1x6x8xf32>
// CHECK-NEXT: %[[R1:.*]] = vrt.view %[[XC]] : tensor<1x6x8xf32> -> tensor<1x48xf32>
// CHECK-NEXT: %[[S2V:.*]] = vrt.view %[[S2C]] : tensor<6x8xf32> -> tensor<48xf32>
// CHECK-NEXT: %[[N1:.*]] = vrt.norm layer %[[R1]] scale %[[S2V]] {epsilon = 1.000000e-05 : f64} : (tensor<1x48xf32>, tensor<48xf32>) -> tensor<1x48xf32>
// CHECK-NEXT: %[[Y1:.*]] = vrt.view %[[N1]] : tensor<1x48xf32> -> tensor<1x6x8xf32>
// CHECK-NEXT: %[[R2:.*]] = vrt.view %[[XC]] : tensor<1x6x8xf32> -> tensor<6x8xf32>
// CHECK-NEXT: %[[N2:.*]] = vrt.norm rms %[[R2]] scale %[[SC]] {epsilon = 9.9999999999999995E-7 : f64} : (tensor<6x8xf32>, tensor<8xf32>) -> tensor<6x8xf32>
// CHECK-NEXT: %[[Y2:.*]] = vrt.view %[[N2]] : tensor<6x8xf32> -> tensor<1x6x8xf32>
// CHECK-NEXT: %[[R3:.*]] = vrt.view %[[XC]] : tensor<1x6x8xf32> -> tensor<1x48xf32>
// CHECK-NEXT: %[[S3B:.*]] = vrt.kernel "k{{[0-9]+}}"(%[[S3]]) : (tensor<8xf32>) -> tensor<6x8xf32> {
// CHECK:   dit.broadcast %{{.*}} : tensor<8xf32> -> tensor<6x8xf32>
// CHECK: %[[S3V:.*]] = vrt.view %[[S3B]] : tensor<6x8xf32> -> tensor<48xf32>
// CHECK-NEXT: %[[N3:.*]] = vrt.norm layer %[[R3]] scale %[[S3V]] {epsilon = 1.000000e-05 : f64} : (tensor<1x48xf32>, tensor<48xf32>) -> tensor<1x48xf32>
// CHECK-NEXT: %[[Y3:.*]] = vrt.view %[[N3]] : tensor<1x48xf32> -> tensor<1x6x8xf32>
// CHECK-NEXT: return %[[Y0]], %[[Y1]], %[[Y2]], %[[Y3]]
func.func @norms(%x: tensor<1x6x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf32>, %s2: tensor<6x8xf32>, %s3: tensor<8xf32>) -> (tensor<1x6x8xf32>, tensor<1x6x8xf32>, tensor<1x6x8xf32>, tensor<1x6x8xf32>) {
  %0 = dit.layer_norm %x scale %s bias %b {axis = 2 : i64, epsilon = 1.0e-6 : f64} : (tensor<1x6x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x6x8xf32>
  %1 = dit.layer_norm %x scale %s2 {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<1x6x8xf32>, tensor<6x8xf32>) -> tensor<1x6x8xf32>
  %2 = dit.rms_norm %x scale %s {axis = -1 : i64, epsilon = 1.0e-6 : f64} : (tensor<1x6x8xf32>, tensor<8xf32>) -> tensor<1x6x8xf32>
  %3 = dit.layer_norm %x scale %s3 {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<1x6x8xf32>, tensor<8xf32>) -> tensor<1x6x8xf32>
  return %0, %1, %2, %3 : tensor<1x6x8xf32>, tensor<1x6x8xf32>, tensor<1x6x8xf32>, tensor<1x6x8xf32>
}

// -----

// Softmax over the last axis, a reshape (a view), an element-wise op (a
// kernel holding the op), a splat constant (a kernel without inputs), a
// non-splat constant (a stored weight, "const.N", copied out when returned).
// CHECK-LABEL: func.func @misc
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x6xf32>, %[[I:[a-z0-9]+]]: tensor<2x6xf32>)
// CHECK-DAG: %[[T:.*]] = vrt.weight "const.0" : tensor<2x3xf32> = dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
// CHECK-DAG: %[[XC:.*]] = vrt.kernel "k0"(%[[X]])
// CHECK: %[[SM:.*]] = vrt.softmax %[[XC]] : tensor<2x6xf32> -> tensor<2x6xf32>
// CHECK-NEXT: %[[RS:.*]] = vrt.view %[[SM]] : tensor<2x6xf32> -> tensor<3x4xf32>
// CHECK-NEXT: %[[ADD:.*]] = vrt.kernel "k1"(%[[SM]], %[[I]]) : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<2x6xf32> {
// CHECK-NEXT: ^bb0(%[[P:.*]]: tensor<2x6xf32>, %[[Q:.*]]: tensor<2x6xf32>):
// CHECK-NEXT:   %[[S:.*]] = dit.add %[[P]], %[[Q]] : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
// CHECK-NEXT:   vrt.yield %[[S]] : tensor<2x6xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[TWO:.*]] = vrt.kernel "k2"() : () -> tensor<2x6xf32> {
// CHECK-NEXT:   %[[C:.*]] = dit.constant dense<2.000000e+00> : tensor<2x6xf32>
// CHECK-NEXT:   vrt.yield %[[C]] : tensor<2x6xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[MUL:.*]] = vrt.kernel "k3"(%[[ADD]], %[[TWO]])
// CHECK: dit.mul
// CHECK: %[[TC:.*]] = vrt.kernel "k4"(%[[T]]) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: return %[[SM]], %[[RS]], %[[ADD]], %[[MUL]], %[[TC]]
func.func @misc(%x: tensor<2x6xf32>, %i: tensor<2x6xf32>) -> (tensor<2x6xf32>, tensor<3x4xf32>, tensor<2x6xf32>, tensor<2x6xf32>, tensor<2x3xf32>) {
  %0 = dit.softmax %x {axis = 1 : i64} : tensor<2x6xf32>
  %1 = dit.reshape %0 : tensor<2x6xf32> -> tensor<3x4xf32>
  %2 = dit.add %0, %i : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
  %c = dit.constant dense<2.0> : tensor<2x6xf32>
  %3 = dit.mul %2, %c : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
  %t = dit.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  return %0, %1, %2, %3, %t : tensor<2x6xf32>, tensor<3x4xf32>, tensor<2x6xf32>, tensor<2x6xf32>, tensor<2x3xf32>
}

// -----

// Softmax with axis -1 is the last axis too.
// CHECK-LABEL: func.func @softmax_minus_one
// CHECK: vrt.softmax %{{.*}} : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
func.func @softmax_minus_one(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = dit.softmax %x {axis = -1 : i64} : tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// A model input read by two GEMMs is copied once. Returned inputs, weights
// and views of inputs are copied into the arena (outputs live there);
// a kernel reads a model input directly.
// CHECK-LABEL: func.func @input_copies
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4x8xf32>)
// CHECK-DAG: %[[XC:.*]] = vrt.kernel "k0"(%[[X]]) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-DAG: %[[W:.*]] = vrt.weight "w" : tensor<8x8xf32>
// CHECK: %[[Y0:.*]] = vrt.gemm %[[XC]], %[[W]]
// CHECK-NEXT: %[[Y1:.*]] = vrt.gemm %[[XC]], %[[W]]
// CHECK-NEXT: %[[XV:.*]] = vrt.view %[[X]] : tensor<4x8xf32> -> tensor<32xf32>
// CHECK-NEXT: %[[N:.*]] = vrt.kernel "k1"(%[[X]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT:   dit.neg
// CHECK: %[[XO:.*]] = vrt.kernel "k2"(%[[X]]) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<4x8xf32>):
// CHECK-NEXT:   vrt.yield %[[A]] : tensor<4x8xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[WO:.*]] = vrt.kernel "k3"(%[[W]]) : (tensor<8x8xf32>) -> tensor<8x8xf32> {
// CHECK-NEXT: ^bb0(%[[B:.*]]: tensor<8x8xf32>):
// CHECK-NEXT:   vrt.yield %[[B]] : tensor<8x8xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[VO:.*]] = vrt.kernel "k4"(%[[XV]]) : (tensor<32xf32>) -> tensor<32xf32> {
// CHECK: return %[[Y0]], %[[Y1]], %[[XO]], %[[WO]], %[[VO]], %[[N]]
// CHECK-NOT: vrt.kernel
func.func @input_copies(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>, tensor<32xf32>, tensor<4x8xf32>) {
  %w = dit.param "w" : tensor<8x8xf32>
  %0 = dit.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %1 = dit.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %r = dit.reshape %x : tensor<4x8xf32> -> tensor<32xf32>
  %n = dit.neg %x : tensor<4x8xf32>
  return %0, %1, %x, %w, %r, %n : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>, tensor<32xf32>, tensor<4x8xf32>
}

// -----

// A reduction becomes a kernel rooted in it.
// CHECK-LABEL: func.func @reduce
// CHECK: vrt.kernel "k0"(%{{.*}}) : (tensor<2x6xf32>) -> tensor<2x1xf32> {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<2x6xf32>):
// CHECK-NEXT:   %[[R:.*]] = dit.reduce max %[[A]] [1] : (tensor<2x6xf32>) -> tensor<2x1xf32>
// CHECK-NEXT:   vrt.yield %[[R]]
func.func @reduce(%x: tensor<2x6xf32>) -> tensor<2x1xf32> {
  %0 = dit.reduce max %x [1] : (tensor<2x6xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

// Declarations have nothing to lower.
// CHECK-LABEL: func.func private @external(tensor<4xf32>) -> tensor<4xf32>
func.func private @external(tensor<4xf32>) -> tensor<4xf32>

//===----------------------------------------------------------------------===//
// Unsupported ops are errors naming them.
//===----------------------------------------------------------------------===//

// -----

func.func @softmax_axis(%x: tensor<2x6xf32>) -> tensor<2x6xf32> {
  // expected-error@+1 {{'dit.softmax' op over axis 0 (not the last) is not supported by vrt}}
  %0 = dit.softmax %x {axis = 0 : i64} : tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @softmax_axis_negative(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  // expected-error@+1 {{'dit.softmax' op over axis -2 (not the last) is not supported by vrt}}
  %0 = dit.softmax %x {axis = -2 : i64} : tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

func.func @causal(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error@+1 {{'dit.attention' op with is_causal is not supported by vrt}}
  %0 = dit.attention %q, %q, %q {is_causal = true, scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @matvec(%a: tensor<4x5xf32>, %v: tensor<5xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'dit.matmul' op with a vector operand is not supported by vrt}}
  %0 = dit.matmul %a, %v : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @conv(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error@+1 {{'dit.conv' op is not a patch embedding (stride = kernel, no padding, dilation or groups); vrt lowers only those}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}

// -----

// vrt-lower alone does not lower patch convolutions either
// (dit-lower-patch-conv does, first).
func.func @patch_conv(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x2x2xf32>) -> tensor<1x8x4x4xf32> {
  // expected-error@+1 {{'dit.conv' op is not a patch embedding}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>, tensor<8x4x2x2xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

func.func @foreign_op(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'test.foo' op has no lowering to vrt}}
  %0 = "test.foo"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// expected-error@+1 {{'func.func' op has more than one block; vrt-lower needs one}}
func.func @two_blocks(%x: tensor<4xf32>) -> tensor<4xf32> {
  "test.br"()[^bb1] : () -> ()
^bb1:
  return %x : tensor<4xf32>
}

// -----

// Sparse attention. frame-window: compile-time lists (one block per frame,
// empty prefix/suffix blocks), shared by every head; no permutation.
// CHECK-LABEL: func.func @frame_window
// CHECK-DAG: vrt.weight "vsa.sparse.0.offsets" : tensor<5xi64> = dense<[0, 0, 4, 8, 8]>
// CHECK-DAG: vrt.weight "vsa.sparse.0.list_offsets" : tensor<5xi64>
// CHECK-DAG: vrt.weight "vsa.sparse.0.lists" : tensor<{{[0-9]+}}xi32>
// CHECK-NOT: vsa.sparse.0.order
// CHECK: vrt.attention %{{.*}}, %{{.*}}, %{{.*}} blocks(
// CHECK-SAME: (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<5xi64>, tensor<5xi64>, tensor<{{[0-9]+}}xi32>) -> tensor<1x2x8x4xf32>
func.func @frame_window(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"frame-window", {window = 0 : i64, sink = 0 : i64, keyframe_interval = 0 : i64}>} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

// vsa: q, k, v are gathered into tile order (tiles 1x1x2 over a 2x2x2 grid:
// 4 tiles of 2 tokens; no empty blocks), vrt.vsa_select picks per (batch,
// head) lists at run time, block-sparse attention reads them, and the
// result is gathered back to token order.
// CHECK-LABEL: func.func @vsa
// CHECK-DAG: %[[T:.*]] = vrt.weight "vsa.sparse.0.offsets" : tensor<5xi64> = dense<[0, 2, 4, 6, 8]>
// CHECK-DAG: %[[O:.*]] = vrt.weight "vsa.sparse.0.order" : tensor<8xi64>
// CHECK-DAG: %[[I:.*]] = vrt.weight "vsa.sparse.0.inverse_order" : tensor<8xi64>
// CHECK-NOT: vsa.sparse.0.lists
// CHECK: %[[Q:.*]] = vrt.kernel {{.*}}(%{{.*}}, %[[O]])
// CHECK: dit.gather {{.*}}axis = 2
// CHECK: %[[K:.*]] = vrt.kernel {{.*}}(%{{.*}}, %[[O]])
// CHECK: %[[V:.*]] = vrt.kernel {{.*}}(%{{.*}}, %[[O]])
// CHECK: %[[LO:.*]], %[[L:.*]] = vrt.vsa_select %[[Q]], %[[K]] tiles(%[[T]]) {scale = 5.000000e-01 : f64, sparsity = 7.500000e-01 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<5xi64>) -> (tensor<9xi64>, tensor<32xi32>)
// CHECK: %[[A:.*]] = vrt.attention %[[Q]], %[[K]], %[[V]] blocks(%[[T]], %[[LO]], %[[L]])
// CHECK: vrt.kernel {{.*}}(%[[A]], %[[I]])
func.func @vsa(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = dit.attention %q, %k, %k role self {geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"vsa", {tile_t = 1 : i64, tile_h = 1 : i64, tile_w = 2 : i64, sparsity = 0.75 : f64}>} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

// A norm over the last axis that feeds only an AdaLN modulation with one
// shift/scale row per batch entry takes it in: one vrt.norm, no kernel.
// CHECK-LABEL: func.func @norm_modulate
// CHECK-DAG:  %[[CSH:.*]] = vrt.kernel "{{k[0-9]+}}"(%arg1)
// CHECK-DAG:  %[[CSC:.*]] = vrt.kernel "{{k[0-9]+}}"(%arg2)
// CHECK-DAG:  %[[SH:.*]] = vrt.view %[[CSH]] : tensor<2x1x8xf32> -> tensor<2x8xf32>
// CHECK-DAG:  %[[SC:.*]] = vrt.view %[[CSC]] : tensor<2x1x8xf32> -> tensor<2x8xf32>
// CHECK:      vrt.norm layer %{{.*}} modulate %[[SH]], %[[SC]] {epsilon = 9.9999999999999995E-7 : f64} : (tensor<12x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<12x8xf32>
// CHECK-NOT:  dit.modulate
// CHECK:      return
func.func @norm_modulate(%x: tensor<2x6x8xf32>, %sh: tensor<2x1x8xf32>, %sc: tensor<2x1x8xf32>) -> tensor<2x6x8xf32> {
  %n = dit.layer_norm %x {axis = 2 : i64, epsilon = 1.0e-6 : f64} : (tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %y = dit.modulate %n, %sh, %sc : (tensor<2x6x8xf32>, tensor<2x1x8xf32>, tensor<2x1x8xf32>) -> tensor<2x6x8xf32>
  return %y : tensor<2x6x8xf32>
}

// -----

// Not fused: the norm has another user, or the shift varies per token.
// CHECK-LABEL: func.func @norm_modulate_kept
// CHECK-NOT:  vrt.norm {{.*}}modulate
// CHECK:      dit.modulate
// CHECK-NOT:  vrt.norm {{.*}}modulate
// CHECK:      dit.modulate
func.func @norm_modulate_kept(%x: tensor<2x6x8xf32>, %sh: tensor<2x1x8xf32>, %tok: tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) {
  %n = dit.rms_norm %x {axis = 2 : i64, epsilon = 1.0e-6 : f64} : (tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %y = dit.modulate %n, %sh, %sh : (tensor<2x6x8xf32>, tensor<2x1x8xf32>, tensor<2x1x8xf32>) -> tensor<2x6x8xf32>
  %m = dit.rms_norm %x {axis = 2 : i64, epsilon = 1.0e-6 : f64} : (tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
  %z = dit.modulate %m, %tok, %sh : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x1x8xf32>) -> tensor<2x6x8xf32>
  return %y, %z, %n : tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>
}

// -----

// An RMS norm split into heads, interleaved RoPE with per-token tables, and
// the transpose to the attention's layout: one vrt.norm_rope writing
// (B, H, S, D). Without the transpose it writes (B, S, H, D); rotate-half
// RoPE is not fused.
// CHECK-LABEL: func.func @norm_rope
// CHECK:      vrt.norm_rope rms %{{.*}} scale %{{.*}} rope %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64, heads_major} : (tensor<1x6x16xf32>, tensor<16xf32>, tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<1x2x6x8xf32>
// CHECK:      vrt.norm_rope layer %{{.*}} rope %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : (tensor<1x6x16xf32>, tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<1x6x2x8xf32>
// CHECK-NOT:  vrt.norm_rope
// CHECK:      dit.rope
func.func @norm_rope(%x: tensor<1x6x16xf32>, %s: tensor<16xf32>, %c: tensor<1x6x1x4xf32>, %n: tensor<1x6x1x4xf32>) -> (tensor<1x2x6x8xf32>, tensor<1x6x2x8xf32>, tensor<1x6x2x8xf32>) {
  %0 = dit.rms_norm %x scale %s {axis = 2 : i64, epsilon = 1.0e-6 : f64} : (tensor<1x6x16xf32>, tensor<16xf32>) -> tensor<1x6x16xf32>
  %1 = dit.reshape %0 : tensor<1x6x16xf32> -> tensor<1x6x2x8xf32>
  %2 = dit.rope %1, %c, %n {interleaved} : (tensor<1x6x2x8xf32>, tensor<1x6x1x4xf32>, tensor<1x6x1x4xf32>) -> tensor<1x6x2x8xf32>
  %3 = dit.transpose %2 [0, 2, 1, 3] : tensor<1x6x2x8xf32> -> tensor<1x2x6x8xf32>
  %4 = dit.layer_norm %x {axis = 2 : i64, epsilon = 1.0e-6 : f64} : (tensor<1x6x16xf32>) -> tensor<1x6x16xf32>
  %5 = dit.reshape %4 : tensor<1x6x16xf32> -> tensor<1x6x2x8xf32>
  %6 = dit.rope %5, %c, %n {interleaved} : (tensor<1x6x2x8xf32>, tensor<1x6x1x4xf32>, tensor<1x6x1x4xf32>) -> tensor<1x6x2x8xf32>
  %7 = dit.rms_norm %x {axis = 2 : i64, epsilon = 1.0e-6 : f64} : (tensor<1x6x16xf32>) -> tensor<1x6x16xf32>
  %8 = dit.reshape %7 : tensor<1x6x16xf32> -> tensor<1x6x2x8xf32>
  %9 = dit.rope %8, %c, %n : (tensor<1x6x2x8xf32>, tensor<1x6x1x4xf32>, tensor<1x6x1x4xf32>) -> tensor<1x6x2x8xf32>
  return %3, %6, %9 : tensor<1x2x6x8xf32>, tensor<1x6x2x8xf32>, tensor<1x6x2x8xf32>
}
