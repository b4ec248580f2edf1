// RUN: vsa-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dit-raise-modulation),canonicalize)' | FileCheck %s

// Wan's norm1: layer_norm, times (scale + 1) with a scalar 1, plus shift.
// CHECK-LABEL: func.func @wan_modulate
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x48x32xf32>, %[[SH:[a-z0-9]+]]: tensor<1x1x32xf32>, %[[SC:[a-z0-9]+]]: tensor<1x1x32xf32>)
// CHECK: %[[N:.*]] = dit.layer_norm %[[X]]
// CHECK: %[[M:.*]] = dit.modulate %[[N]], %[[SH]], %[[SC]] : (tensor<1x48x32xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
// CHECK-NOT: dit.mul
// CHECK-NOT: dit.add
// CHECK: return %[[M]]
func.func @wan_modulate(%x: tensor<1x48x32xf32>, %shift: tensor<1x1x32xf32>, %scale: tensor<1x1x32xf32>) -> tensor<1x48x32xf32> {
  %one = dit.constant dense<1.0> : tensor<f32>
  %n = dit.layer_norm %x {axis = 2 : i64, epsilon = 1.0e-6 : f64} : (tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  %s1 = dit.add %scale, %one : (tensor<1x1x32xf32>, tensor<f32>) -> tensor<1x1x32xf32>
  %0 = dit.mul %n, %s1 : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %1 = dit.add %0, %shift : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  return %1 : tensor<1x48x32xf32>
}

// -----

// Operands swapped everywhere; the 1 is an inline param (the dynamo
// exports' scalar_tensor_default_N).
// CHECK-LABEL: func.func @swapped
// CHECK-SAME: (%[[N:[a-z0-9]+]]: tensor<1x48x32xf32>, %[[SH:[a-z0-9]+]]: tensor<1x1x32xf32>, %[[SC:[a-z0-9]+]]: tensor<1x1x32xf32>)
// CHECK: dit.modulate %[[N]], %[[SH]], %[[SC]]
// CHECK-NOT: dit.add
func.func @swapped(%n: tensor<1x48x32xf32>, %shift: tensor<1x1x32xf32>, %scale: tensor<1x1x32xf32>) -> tensor<1x48x32xf32> {
  %one = dit.param "scalar_tensor_default_2" : tensor<f32> = dense<1.0>
  %s1 = dit.add %one, %scale : (tensor<f32>, tensor<1x1x32xf32>) -> tensor<1x1x32xf32>
  %0 = dit.mul %s1, %n : (tensor<1x1x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  %1 = dit.add %shift, %0 : (tensor<1x1x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  return %1 : tensor<1x48x32xf32>
}

// -----

// CogVideoX/HunyuanVideo: 1 + scale on (B, C), then unsqueezed; the reshape
// moves onto the scale.
// CHECK-LABEL: func.func @reshaped_scale
// CHECK-SAME: (%[[N:[a-z0-9]+]]: tensor<1x48x32xf32>, %[[SH:[a-z0-9]+]]: tensor<1x1x32xf32>, %[[SC:[a-z0-9]+]]: tensor<1x32xf32>)
// CHECK: %[[R:.*]] = dit.reshape %[[SC]] : tensor<1x32xf32> -> tensor<1x1x32xf32>
// CHECK: dit.modulate %[[N]], %[[SH]], %[[R]]
func.func @reshaped_scale(%n: tensor<1x48x32xf32>, %shift: tensor<1x1x32xf32>, %scale: tensor<1x32xf32>) -> tensor<1x48x32xf32> {
  %one = dit.constant dense<1.0> : tensor<f32>
  %s1 = dit.add %scale, %one : (tensor<1x32xf32>, tensor<f32>) -> tensor<1x32xf32>
  %r = dit.reshape %s1 : tensor<1x32xf32> -> tensor<1x1x32xf32>
  %0 = dit.mul %n, %r : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %1 = dit.add %0, %shift : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  return %1 : tensor<1x48x32xf32>
}

// -----

// Negatives: a scale without + 1, + 2 instead of + 1, a 1 with an unknown
// value (external param), a shift that does not broadcast to n.
// CHECK-LABEL: func.func @not_modulate
// CHECK-NOT: dit.modulate
// CHECK-NOT: dit.gated_add
func.func @not_modulate(%n: tensor<1x48x32xf32>, %shift: tensor<1x1x32xf32>, %scale: tensor<1x1x32xf32>, %wide: tensor<2x48x32xf32>)
    -> (tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<2x48x32xf32>) {
  %0 = dit.mul %n, %scale : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %1 = dit.add %0, %shift : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %two = dit.constant dense<2.0> : tensor<f32>
  %s2 = dit.add %scale, %two : (tensor<1x1x32xf32>, tensor<f32>) -> tensor<1x1x32xf32>
  %2 = dit.mul %n, %s2 : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %3 = dit.add %2, %shift : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %ext = dit.param "scalar_tensor_default_2" : tensor<f32>
  %s3 = dit.add %scale, %ext : (tensor<1x1x32xf32>, tensor<f32>) -> tensor<1x1x32xf32>
  %4 = dit.mul %n, %s3 : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %5 = dit.add %4, %shift : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %one = dit.constant dense<1.0> : tensor<f32>
  %s1 = dit.add %scale, %one : (tensor<1x1x32xf32>, tensor<f32>) -> tensor<1x1x32xf32>
  %6 = dit.mul %n, %s1 : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %7 = dit.add %6, %wide : (tensor<1x48x32xf32>, tensor<2x48x32xf32>) -> tensor<2x48x32xf32>
  return %1, %3, %5, %7 : tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<2x48x32xf32>
}

// -----

// Wan's gated residual: hidden_states + attn_output * gate_msa, and the
// CogVideoX/HunyuanVideo order gate * y, y*gate first.
// CHECK-LABEL: func.func @gated
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x48x32xf32>, %[[Y:[a-z0-9]+]]: tensor<1x48x32xf32>, %[[G:[a-z0-9]+]]: tensor<1x1x32xf32>)
// CHECK: %[[A:.*]] = dit.gated_add %[[X]], %[[Y]], %[[G]] : (tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
// CHECK: %[[B:.*]] = dit.gated_add %[[A]], %[[Y]], %[[G]]
// CHECK: %[[C:.*]] = dit.gated_add %[[B]], %[[Y]], %[[G]]
// CHECK-NOT: dit.mul
// CHECK: return %[[C]]
func.func @gated(%x: tensor<1x48x32xf32>, %y: tensor<1x48x32xf32>, %g: tensor<1x1x32xf32>) -> tensor<1x48x32xf32> {
  %0 = dit.mul %y, %g : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %1 = dit.add %x, %0 : (tensor<1x48x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  %2 = dit.mul %g, %y : (tensor<1x1x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  %3 = dit.add %1, %2 : (tensor<1x48x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  %4 = dit.mul %y, %g : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %5 = dit.add %4, %3 : (tensor<1x48x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  return %5 : tensor<1x48x32xf32>
}

// -----

// Negatives: a constant gate, a weight gate, a gate varying along the
// tokens (RoPE's cos/sin, masks), a full-size product, a product with
// another user.
// CHECK-LABEL: func.func @not_gated
// CHECK-NOT: dit.gated_add
func.func @not_gated(%x: tensor<1x48x32xf32>, %y: tensor<1x48x32xf32>, %t: tensor<1x48x1xf32>, %z: tensor<1x48x32xf32>, %g: tensor<1x1x32xf32>)
    -> (tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>) {
  %c = dit.constant dense<0.5> : tensor<1x1x32xf32>
  %0 = dit.mul %y, %c : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %1 = dit.add %x, %0 : (tensor<1x48x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  %w = dit.param "gate.weight" : tensor<32xf32>
  %2 = dit.mul %y, %w : (tensor<1x48x32xf32>, tensor<32xf32>) -> tensor<1x48x32xf32>
  %3 = dit.add %x, %2 : (tensor<1x48x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  %4 = dit.mul %y, %t : (tensor<1x48x32xf32>, tensor<1x48x1xf32>) -> tensor<1x48x32xf32>
  %5 = dit.add %x, %4 : (tensor<1x48x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  %6 = dit.mul %y, %z : (tensor<1x48x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  %7 = dit.add %x, %6 : (tensor<1x48x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  %8 = dit.mul %y, %g : (tensor<1x48x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  %9 = dit.add %x, %8 : (tensor<1x48x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  return %1, %3, %5, %7, %8, %9 : tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x48x32xf32>
}
