// RUN: vsa-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(dit-sparsify-attention{pattern=vsa tile=1x2x2 gate=1}))' | FileCheck %s

// gate=1: the gate is to_gate_compress of the query projection's input,
// reshaped and transposed like the attention's result; its parameters are
// named after the block (FastVideo's keys) and external (bound at run time,
// in the checkpoint's (out, in) layout: perm 1, 0). Cross-attention gets
// no gate.
// CHECK-LABEL: func.func @gated
// CHECK-DAG:  %[[B:.*]] = dit.param "blocks.3.to_gate_compress.bias" : tensor<16xf32>
// CHECK-DAG:  %[[W:.*]] = dit.param "blocks.3.to_gate_compress.weight" {perm = array<i64: 1, 0>} : tensor<16x16xf32>
// CHECK:      %[[L:.*]] = dit.linear %arg0, %[[W]], %[[B]] : (tensor<1x8x16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<1x8x16xf32>
// CHECK-NEXT: %[[R:.*]] = dit.reshape %[[L]] : tensor<1x8x16xf32> -> tensor<1x8x2x8xf32>
// CHECK-NEXT: %[[G:.*]] = dit.transpose %[[R]] [0, 2, 1, 3] : tensor<1x8x2x8xf32> -> tensor<1x2x8x8xf32>
// CHECK-NEXT: dit.attention %{{.*}}, %{{.*}}, %{{.*}} gate %[[G]] role self
// CHECK-NEXT: dit.attention %{{[0-9]+}}, %arg2, %arg2 role cross
func.func @gated(%x: tensor<1x8x16xf32>, %k: tensor<1x2x8x8xf32>, %t: tensor<1x2x4x8xf32>) -> (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) {
  %w = dit.param "blocks.3.attn1.to_q.weight" {perm = array<i64: 1, 0>} : tensor<16x16xf32> = dense<0.125>
  %y = dit.linear %x, %w : (tensor<1x8x16xf32>, tensor<16x16xf32>) -> tensor<1x8x16xf32>
  %r = dit.reshape %y : tensor<1x8x16xf32> -> tensor<1x8x2x8xf32>
  %q = dit.transpose %r [0, 2, 1, 3] : tensor<1x8x2x8xf32> -> tensor<1x2x8x8xf32>
  %a = dit.attention %q, %k, %k role self {geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64} : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %c = dit.attention %q, %t, %t role cross {geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64} : (tensor<1x2x8x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32>
  return %a, %c : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
}

// -----

// A model that has the gate's parameters keeps them (no external copy).
// CHECK-LABEL: func.func @model_has_gate
// CHECK-COUNT-1: dit.param "blocks.0.to_gate_compress.weight"
// CHECK-NOT: dit.param "blocks.0.to_gate_compress.weight"
// CHECK: dit.linear %arg0, %{{.*}}, %{{.*}} :
// CHECK: gate
func.func @model_has_gate(%x: tensor<1x8x16xf32>, %k: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %g = dit.param "blocks.0.to_gate_compress.weight" {perm = array<i64: 1, 0>} : tensor<16x16xf32> = dense<0.5>
  %w = dit.param "blocks.0.attn1.to_q.weight" {perm = array<i64: 1, 0>} : tensor<16x16xf32> = dense<0.125>
  %y = dit.linear %x, %w : (tensor<1x8x16xf32>, tensor<16x16xf32>) -> tensor<1x8x16xf32>
  %r = dit.reshape %y : tensor<1x8x16xf32> -> tensor<1x8x2x8xf32>
  %q = dit.transpose %r [0, 2, 1, 3] : tensor<1x8x2x8xf32> -> tensor<1x2x8x8xf32>
  %a = dit.attention %q, %k, %k role self {geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64} : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %a : tensor<1x2x8x8xf32>
}

// -----

// Queries that are not a projection have no input for the gate.
func.func @no_projection(%q: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  // expected-error@+1 {{dit-sparsify-attention: option gate: the queries do not come from a Linear with a named weight, so the gate (to_gate_compress) has no input}}
  %a = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64} : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %a : tensor<1x2x8x8xf32>
}

// -----

// A query weight without a diffusers name gives the gate no name.
func.func @not_diffusers(%x: tensor<1x8x16xf32>, %k: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %w = dit.param "val_200" : tensor<16x16xf32> = dense<0.125>
  %y = dit.linear %x, %w : (tensor<1x8x16xf32>, tensor<16x16xf32>) -> tensor<1x8x16xf32>
  %r = dit.reshape %y : tensor<1x8x16xf32> -> tensor<1x8x2x8xf32>
  %q = dit.transpose %r [0, 2, 1, 3] : tensor<1x8x2x8xf32> -> tensor<1x2x8x8xf32>
  // expected-error@+1 {{option gate: the query weight 'val_200' is not a diffusers '...to_q.weight', so the gate's parameters have no name}}
  %a = dit.attention %q, %k, %k role self {geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64} : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %a : tensor<1x2x8x8xf32>
}

// -----

// The model's gate parameters must fit Linear(channels in, heads x dim).
func.func @wrong_gate_shape(%x: tensor<1x8x16xf32>, %k: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %g = dit.param "blocks.0.to_gate_compress.bias" : tensor<8xf32> = dense<0.5>
  %w = dit.param "blocks.0.attn1.to_q.weight" {perm = array<i64: 1, 0>} : tensor<16x16xf32> = dense<0.125>
  %y = dit.linear %x, %w : (tensor<1x8x16xf32>, tensor<16x16xf32>) -> tensor<1x8x16xf32>
  %r = dit.reshape %y : tensor<1x8x16xf32> -> tensor<1x8x2x8xf32>
  %q = dit.transpose %r [0, 2, 1, 3] : tensor<1x8x2x8xf32> -> tensor<1x2x8x8xf32>
  // expected-error@+1 {{option gate: the model's blocks.0.to_gate_compress parameters do not fit a Linear(16, 16)}}
  %a = dit.attention %q, %k, %k role self {geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64} : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %a : tensor<1x2x8x8xf32>
}
