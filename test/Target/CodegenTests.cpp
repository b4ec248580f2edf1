//===- CodegenTests.cpp - generated kernels against the interpreter -------===//
//
// Every case is one vrt.kernel. The CPU code of all cases goes into one
// shared library (compiled once, with -Wall -Wextra -Werror, linked with
// libvsart), which each test runs on random inputs and compares with
// vsa::interp::interpret on a func.func cloned from the kernel body. The
// CUDA code of all cases goes into one .cu file that nvcc compiles (nvcc is
// slow: one call), when CMake found nvcc.
//
//===----------------------------------------------------------------------===//

#include "vsa/Interp/Interpreter.h"
#include "vsa/Target/KernelCodegen.h"
#include "vsa/dialects/dit/DitDialect.h"
#include "vsa/dialects/dit/DitOps.h"
#include "vsa/dialects/vrt/VrtDialect.h"
#include "vsa/dialects/vrt/VrtOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "vsart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <functional>
#include <random>

using namespace mlir;
using vsa::target::Storage;
using vsa::target::TargetKind;

namespace {

//===----------------------------------------------------------------------===//
// Cases
//===----------------------------------------------------------------------===//

/// Random input values: uniform in [lo, hi] (integers: whole numbers).
struct Range {
  double lo, hi;
  bool nonzero = false;
};

struct Case {
  std::string name;
  std::vector<std::string> inputs; // tensor types of %x0, %x1, ...
  std::string result;
  std::string body; // ops over %x0.. that define %y
  std::vector<Range> ranges = {};
  std::optional<Storage> half = {}; // storage of f32 inputs and result
  bool cuda = true;                 // also emitted for CUDA
  bool expectError = false;         // the kernel must fail at run time
};

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

Case kernel(std::string name, std::vector<std::string> inputs,
            std::string result, std::string body,
            std::vector<Range> ranges = {}) {
  return Case{std::move(name), std::move(inputs), std::move(result),
              std::move(body), std::move(ranges)};
}

Case stored(Case c, Storage s) {
  c.half = s;
  return c;
}

Case cpuOnly(Case c) {
  c.cuda = false;
  return c;
}

const Range kPositive{0.1, 3}, kNear1{0.5, 1.5}, kIdx4{-4, 3};

std::vector<Case> elementwiseCases() {
  return {
      kernel("add_bcast", {"tensor<2x3x4xf32>", "tensor<3x1xf32>"},
             "tensor<2x3x4xf32>", R"(
    %y = dit.add %x0, %x1 : (tensor<2x3x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>)"),
      kernel("arith_chain", {"tensor<4x5xf32>", "tensor<5xf32>"},
             "tensor<4x5xf32>", R"(
    %a = dit.sub %x0, %x1 : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
    %b = dit.mul %a, %x0 : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
    %c = dit.div %b, %x1 : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
    %d = dit.max %c, %x0 : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
    %y = dit.min %d, %a : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>)",
             {{-2, 2}, {0.5, 2}}),
      kernel("unary_positive", {"tensor<3x7xf32>"}, "tensor<3x35xf32>", R"(
    %a = dit.sqrt %x0 : tensor<3x7xf32>
    %b = dit.log %x0 : tensor<3x7xf32>
    %c = dit.exp %x0 : tensor<3x7xf32>
    %d = dit.reciprocal %x0 : tensor<3x7xf32>
    %e = dit.sigmoid %x0 : tensor<3x7xf32>
    %y = dit.concat %a, %b, %c, %d, %e {axis = 1 : i64} : (tensor<3x7xf32>, tensor<3x7xf32>, tensor<3x7xf32>, tensor<3x7xf32>, tensor<3x7xf32>) -> tensor<3x35xf32>)",
             {kPositive}),
      kernel("unary_any", {"tensor<3x7xf32>"}, "tensor<27x7xf32>", R"(
    %a = dit.sin %x0 : tensor<3x7xf32>
    %b = dit.cos %x0 : tensor<3x7xf32>
    %c = dit.tanh %x0 : tensor<3x7xf32>
    %d = dit.erf %x0 : tensor<3x7xf32>
    %e = dit.floor %x0 : tensor<3x7xf32>
    %f = dit.ceil %x0 : tensor<3x7xf32>
    %g = dit.neg %x0 : tensor<3x7xf32>
    %h = dit.abs %x0 : tensor<3x7xf32>
    %i = dit.relu %x0 : tensor<3x7xf32>
    %y = dit.concat %a, %b, %c, %d, %e, %f, %g, %h, %i {axis = 0 : i64} : (tensor<3x7xf32>, tensor<3x7xf32>, tensor<3x7xf32>, tensor<3x7xf32>, tensor<3x7xf32>, tensor<3x7xf32>, tensor<3x7xf32>, tensor<3x7xf32>, tensor<3x7xf32>) -> tensor<27x7xf32>)",
             {{-3, 3}}),
      kernel("gelu", {"tensor<4x9xf32>"}, "tensor<8x9xf32>", R"(
    %a = dit.gelu none %x0 : tensor<4x9xf32>
    %b = dit.gelu tanh %x0 : tensor<4x9xf32>
    %y = dit.concat %a, %b {axis = 0 : i64} : (tensor<4x9xf32>, tensor<4x9xf32>) -> tensor<8x9xf32>)",
             {{-4, 4}}),
      kernel("pow_bcast", {"tensor<3x4xf32>", "tensor<4xf32>"}, "tensor<3x4xf32>", R"(
    %y = dit.pow %x0, %x1 : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>)",
             {{0.5, 2}, {-2, 2}}),
      kernel("mod_f32", {"tensor<4x6xf32>", "tensor<6xf32>"}, "tensor<8x6xf32>",
             R"(
    %a = dit.mod %x0, %x1 : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
    %b = dit.mod %x0, %x1 {fmod = true} : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
    %y = dit.concat %a, %b {axis = 0 : i64} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<8x6xf32>)",
             {{-5, 5}, {-3, 3, true}}),
      kernel("mod_int", {"tensor<4x6xi64>", "tensor<6xi64>"}, "tensor<8x6xi64>",
             R"(
    %a = dit.mod %x0, %x1 : (tensor<4x6xi64>, tensor<6xi64>) -> tensor<4x6xi64>
    %b = dit.mod %x0, %x1 {fmod = true} : (tensor<4x6xi64>, tensor<6xi64>) -> tensor<4x6xi64>
    %y = dit.concat %a, %b {axis = 0 : i64} : (tensor<4x6xi64>, tensor<4x6xi64>) -> tensor<8x6xi64>)",
             {{-9, 9}, {-4, 4, true}}),
      kernel("int_ops", {"tensor<5x4xi32>", "tensor<4xi32>"}, "tensor<25x4xi32>",
             R"(
    %a = dit.div %x0, %x1 : (tensor<5x4xi32>, tensor<4xi32>) -> tensor<5x4xi32>
    %b = dit.max %x0, %x1 : (tensor<5x4xi32>, tensor<4xi32>) -> tensor<5x4xi32>
    %c = dit.min %x0, %x1 : (tensor<5x4xi32>, tensor<4xi32>) -> tensor<5x4xi32>
    %d = dit.neg %x0 : tensor<5x4xi32>
    %e = dit.abs %x0 : tensor<5x4xi32>
    %y = dit.concat %a, %b, %c, %d, %e {axis = 0 : i64} : (tensor<5x4xi32>, tensor<5x4xi32>, tensor<5x4xi32>, tensor<5x4xi32>, tensor<5x4xi32>) -> tensor<25x4xi32>)",
             {{-20, 20}, {-5, 5, true}}),
      kernel("int_pow_cast", {"tensor<2x3xi32>", "tensor<2x3xui8>",
                              "tensor<2x3xi8>"},
             "tensor<2x3xi64>", R"(
    %a = dit.cast %x0 : tensor<2x3xi32> to tensor<2x3xi64>
    %b = dit.cast %x1 : tensor<2x3xui8> to tensor<2x3xi64>
    %c = dit.cast %x2 : tensor<2x3xi8> to tensor<2x3xi64>
    %s = dit.add %a, %b : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
    %t = dit.add %s, %c : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
    %two = dit.constant dense<2> : tensor<i64>
    %y = dit.pow %t, %two : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi64>)",
             {{-100, 100}, {0, 200}, {-100, 100}}),
      kernel("int_pow", {"tensor<4x5xi64>", "tensor<5xi64>"}, "tensor<4x5xi64>",
             R"(
    %y = dit.pow %x0, %x1 : (tensor<4x5xi64>, tensor<5xi64>) -> tensor<4x5xi64>)",
             {{-9, 9, true}, {-2, 5}}),
      kernel("compare_all", {"tensor<3x4xi64>", "tensor<4xi64>"},
             "tensor<15x4xi1>", R"(
    %a = dit.compare eq, %x0, %x1 : (tensor<3x4xi64>, tensor<4xi64>) -> tensor<3x4xi1>
    %b = dit.compare lt, %x0, %x1 : (tensor<3x4xi64>, tensor<4xi64>) -> tensor<3x4xi1>
    %c = dit.compare le, %x0, %x1 : (tensor<3x4xi64>, tensor<4xi64>) -> tensor<3x4xi1>
    %d = dit.compare gt, %x0, %x1 : (tensor<3x4xi64>, tensor<4xi64>) -> tensor<3x4xi1>
    %e = dit.compare ge, %x0, %x1 : (tensor<3x4xi64>, tensor<4xi64>) -> tensor<3x4xi1>
    %y = dit.concat %a, %b, %c, %d, %e {axis = 0 : i64} : (tensor<3x4xi1>, tensor<3x4xi1>, tensor<3x4xi1>, tensor<3x4xi1>, tensor<3x4xi1>) -> tensor<15x4xi1>)",
             {{-2, 2}, {-2, 2}}),
      kernel("logic", {"tensor<2x5xi1>", "tensor<5xi1>"}, "tensor<8x5xi1>", R"(
    %a = dit.and %x0, %x1 : (tensor<2x5xi1>, tensor<5xi1>) -> tensor<2x5xi1>
    %b = dit.or %x0, %x1 : (tensor<2x5xi1>, tensor<5xi1>) -> tensor<2x5xi1>
    %c = dit.xor %x0, %x1 : (tensor<2x5xi1>, tensor<5xi1>) -> tensor<2x5xi1>
    %d = dit.not %x0 : tensor<2x5xi1>
    %y = dit.concat %a, %b, %c, %d {axis = 0 : i64} : (tensor<2x5xi1>, tensor<2x5xi1>, tensor<2x5xi1>, tensor<2x5xi1>) -> tensor<8x5xi1>)"),
      kernel("bool_arith", {"tensor<2x5xi1>", "tensor<5xi1>"}, "tensor<4x5xi1>",
             R"(
    %a = dit.add %x0, %x1 : (tensor<2x5xi1>, tensor<5xi1>) -> tensor<2x5xi1>
    %b = dit.mul %x0, %x1 : (tensor<2x5xi1>, tensor<5xi1>) -> tensor<2x5xi1>
    %y = dit.concat %a, %b {axis = 0 : i64} : (tensor<2x5xi1>, tensor<2x5xi1>) -> tensor<4x5xi1>)"),
      kernel("where_select", {"tensor<4x5xf32>", "tensor<5xf32>"},
             "tensor<4x5xf32>", R"(
    %m = dit.compare gt, %x0, %x1 : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xi1>
    %y = dit.where %m, %x0, %x1 : (tensor<4x5xi1>, tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>)"),
      kernel("where_branches", {"tensor<4x5xf32>"}, "tensor<4x5xf32>", R"(
    %z = dit.constant dense<0.0> : tensor<f32>
    %m = dit.compare gt, %x0, %z : (tensor<4x5xf32>, tensor<f32>) -> tensor<4x5xi1>
    %l = dit.log %x0 : tensor<4x5xf32>
    %e = dit.exp %x0 : tensor<4x5xf32>
    %y = dit.where %m, %l, %e : (tensor<4x5xi1>, tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>)"),
      kernel("isnan_where", {"tensor<6x5xf32>"}, "tensor<6x5xf32>", R"(
    %l = dit.log %x0 : tensor<6x5xf32>
    %n = dit.isnan %l : (tensor<6x5xf32>) -> tensor<6x5xi1>
    %s = dit.constant dense<7.0> : tensor<f32>
    %y = dit.where %n, %s, %l : (tensor<6x5xi1>, tensor<f32>, tensor<6x5xf32>) -> tensor<6x5xf32>)",
             {{-1, 1}}),
      kernel("isnan_out", {"tensor<6x5xf32>"}, "tensor<6x5xi1>", R"(
    %l = dit.log %x0 : tensor<6x5xf32>
    %y = dit.isnan %l : (tensor<6x5xf32>) -> tensor<6x5xi1>)",
             {{-1, 1}}),
      kernel("cast_mix", {"tensor<3x5xf32>"}, "tensor<9x5xf32>", R"(
    %f = dit.floor %x0 : tensor<3x5xf32>
    %b = dit.cast %f : tensor<3x5xf32> to tensor<3x5xi1>
    %i = dit.cast %b : tensor<3x5xi1> to tensor<3x5xi64>
    %g = dit.cast %x0 : tensor<3x5xf32> to tensor<3x5xi64>
    %s = dit.add %i, %g : (tensor<3x5xi64>, tensor<3x5xi64>) -> tensor<3x5xi64>
    %h = dit.cast %s : tensor<3x5xi64> to tensor<3x5xf32>
    %bf = dit.cast %b : tensor<3x5xi1> to tensor<3x5xf32>
    %r = dit.cast %x0 : tensor<3x5xf32> to tensor<3x5xbf16>
    %r2 = dit.cast %r : tensor<3x5xbf16> to tensor<3x5xf32>
    %y = dit.concat %h, %bf, %r2 {axis = 0 : i64} : (tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<9x5xf32>)",
             {{-3, 3}}),
      kernel("cast_round", {"tensor<4x5xf32>"}, "tensor<8x5xf32>", R"(
    %c = dit.constant dense<[1.0e-6, 1.0e-3, 1.0, 1.0e3, 7.0e4]> : tensor<5xf32>
    %m = dit.mul %x0, %c : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
    %h = dit.cast %m : tensor<4x5xf32> to tensor<4x5xf16>
    %hf = dit.cast %h : tensor<4x5xf16> to tensor<4x5xf32>
    %c2 = dit.constant dense<[1.0e-30, 1.0e-3, 1.0, 1.0e20, 3.0e38]> : tensor<5xf32>
    %m2 = dit.mul %x0, %c2 : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
    %b = dit.cast %m2 : tensor<4x5xf32> to tensor<4x5xbf16>
    %bf = dit.cast %b : tensor<4x5xbf16> to tensor<4x5xf32>
    %y = dit.concat %hf, %bf {axis = 0 : i64} : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<8x5xf32>)",
             {{-1, 1}}),
      kernel("cast_to_int_out", {"tensor<3x4xf32>"}, "tensor<3x4xi32>", R"(
    %y = dit.cast %x0 : tensor<3x4xf32> to tensor<3x4xi32>)",
             {{-9, 9}}),
      kernel("f64_inside", {"tensor<3x4xf32>"}, "tensor<3x4xf32>", R"(
    %d = dit.cast %x0 : tensor<3x4xf32> to tensor<3x4xf64>
    %e = dit.exp %d : tensor<3x4xf64>
    %h = dit.constant dense<0.5> : tensor<f64>
    %m = dit.mul %e, %h : (tensor<3x4xf64>, tensor<f64>) -> tensor<3x4xf64>
    %y = dit.cast %m : tensor<3x4xf64> to tensor<3x4xf32>)"),
      kernel("bf16_native", {"tensor<4x6xbf16>", "tensor<6xbf16>"},
             "tensor<4x6xbf16>", R"(
    %y = dit.mul %x0, %x1 : (tensor<4x6xbf16>, tensor<6xbf16>) -> tensor<4x6xbf16>)"),
      kernel("f16_native", {"tensor<4x6xf16>", "tensor<6xf16>"},
             "tensor<4x6xf16>", R"(
    %y = dit.add %x0, %x1 : (tensor<4x6xf16>, tensor<6xf16>) -> tensor<4x6xf16>)"),
      stored(kernel("bf16_storage", {"tensor<4x6xf32>", "tensor<6xf32>"},
                    "tensor<4x6xf32>", R"(
    %y = dit.sub %x0, %x1 : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>)"),
             Storage::BF16),
      stored(kernel("f16_storage", {"tensor<4x6xf32>", "tensor<6xf32>"},
                    "tensor<4x6xf32>", R"(
    %y = dit.mul %x0, %x1 : (tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>)"),
             Storage::F16),
      kernel("used_twice", {"tensor<3x4xf32>"}, "tensor<3x4xf32>", R"(
    %e = dit.exp %x0 : tensor<3x4xf32>
    %a = dit.add %e, %e : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
    %b = dit.mul %a, %e : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
    %y = dit.sub %b, %e : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>)"),
      kernel("rank0", {"tensor<f32>", "tensor<f32>"}, "tensor<f32>", R"(
    %c = dit.constant dense<1.5> : tensor<f32>
    %a = dit.add %x0, %c : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %y = dit.mul %a, %x1 : (tensor<f32>, tensor<f32>) -> tensor<f32>)"),
      kernel("splat_const", {"tensor<3x4xf32>"}, "tensor<3x4xf32>", R"(
    %c = dit.constant dense<2.0> : tensor<1x4xf32>
    %y = dit.mul %x0, %c : (tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>)"),
      kernel("bool_table", {"tensor<3x4xf32>", "tensor<3x4xf32>"},
             "tensor<3x4xf32>", R"(
    %t = dit.constant dense<[true, false, true, false]> : tensor<4xi1>
    %y = dit.where %t, %x0, %x1 : (tensor<4xi1>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>)"),
      kernel("const_only", {}, "tensor<2x3xf32>", R"(
    %t = dit.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
    %c = dit.constant dense<0.25> : tensor<f32>
    %y = dit.add %t, %c : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>)"),
      kernel("big_chain", {"tensor<3x50x70xf32>", "tensor<70xf32>"},
             "tensor<3x50x70xf32>", R"(
    %a = dit.add %x0, %x1 : (tensor<3x50x70xf32>, tensor<70xf32>) -> tensor<3x50x70xf32>
    %g = dit.gelu tanh %a : tensor<3x50x70xf32>
    %y = dit.mul %g, %x0 : (tensor<3x50x70xf32>, tensor<3x50x70xf32>) -> tensor<3x50x70xf32>)"),
  };
}

std::vector<Case> movementCases() {
  return {
      kernel("reshape_transpose", {"tensor<2x3x4xf32>"}, "tensor<2x2x2x3xf32>",
             R"(
    %a = dit.reshape %x0 : tensor<2x3x4xf32> -> tensor<6x4xf32>
    %b = dit.transpose %a [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
    %c = dit.reshape %b : tensor<4x6xf32> -> tensor<2x2x3x2xf32>
    %d = dit.transpose %c [3, 1, 0, 2] : tensor<2x2x3x2xf32> -> tensor<2x2x2x3xf32>
    %y = dit.exp %d : tensor<2x2x2x3xf32>)"),
      kernel("reshape_split_merge", {"tensor<6x4x2xf32>"}, "tensor<2x24xf32>",
             R"(
    %a = dit.reshape %x0 : tensor<6x4x2xf32> -> tensor<3x2x8xf32>
    %b = dit.reshape %a : tensor<3x2x8xf32> -> tensor<48xf32>
    %c = dit.reshape %b : tensor<48xf32> -> tensor<2x1x24xf32>
    %d = dit.reshape %c : tensor<2x1x24xf32> -> tensor<2x24xf32>
    %y = dit.neg %d : tensor<2x24xf32>)"),
      kernel("transpose5", {"tensor<2x3x1x4x5xf32>"}, "tensor<5x1x2x4x3xf32>",
             R"(
    %t = dit.transpose %x0 [4, 2, 0, 3, 1] : tensor<2x3x1x4x5xf32> -> tensor<5x1x2x4x3xf32>
    %y = dit.neg %t : tensor<5x1x2x4x3xf32>)"),
      kernel("slice_neg", {"tensor<5x8xf32>"}, "tensor<3x3xf32>", R"(
    %a = dit.slice %x0 offsets [4, 1] strides [-2, 3] : tensor<5x8xf32> -> tensor<3x3xf32>
    %b = dit.slice %x0 offsets [2, 7] strides [1, -3] : tensor<5x8xf32> -> tensor<3x3xf32>
    %y = dit.sub %a, %b : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>)"),
      kernel("concat3_mid", {"tensor<2x3x4xf32>", "tensor<2x1x4xf32>",
                             "tensor<2x5x4xf32>"},
             "tensor<2x9x4xf32>", R"(
    %e = dit.exp %x1 : tensor<2x1x4xf32>
    %c = dit.concat %x0, %e, %x2 {axis = -2 : i64} : (tensor<2x3x4xf32>, tensor<2x1x4xf32>, tensor<2x5x4xf32>) -> tensor<2x9x4xf32>
    %y = dit.mul %c, %c : (tensor<2x9x4xf32>, tensor<2x9x4xf32>) -> tensor<2x9x4xf32>)"),
      kernel("concat_empty", {"tensor<2x0xf32>", "tensor<2x3xf32>"},
             "tensor<2x3xf32>", R"(
    %y = dit.concat %x0, %x1 {axis = 1 : i64} : (tensor<2x0xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>)"),
      kernel("pad_value", {"tensor<3x4xf32>"}, "tensor<6x4xf32>", R"(
    %p = dit.pad %x0 [1, -1, 2, 1] {padding_value = 2.5 : f64} : tensor<3x4xf32> -> tensor<6x4xf32>
    %y = dit.neg %p : tensor<6x4xf32>)"),
      kernel("pad_int", {"tensor<3x2xi64>"}, "tensor<4x4xi64>", R"(
    %y = dit.pad %x0 [0, 2, 1, 0] {padding_value = -3.7 : f64} : tensor<3x2xi64> -> tensor<4x4xi64>)"),
      kernel("pad_empty", {"tensor<0x2xf32>"}, "tensor<2x2xf32>", R"(
    %y = dit.pad %x0 [1, 0, 1, 0] {padding_value = 4.0 : f64} : tensor<0x2xf32> -> tensor<2x2xf32>)"),
      kernel("where_concat_pad", {"tensor<3x4xf32>", "tensor<3x2xf32>"},
             "tensor<3x8xf32>", R"(
    %p = dit.pad %x1 [0, 1, 0, 1] : tensor<3x2xf32> -> tensor<3x4xf32>
    %c = dit.concat %x0, %p {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x8xf32>
    %z = dit.constant dense<0.0> : tensor<f32>
    %m = dit.compare gt, %c, %z : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xi1>
    %e = dit.exp %c : tensor<3x8xf32>
    %y = dit.where %m, %c, %e : (tensor<3x8xi1>, tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>)"),
      kernel("gather_axis1_neg", {"tensor<3x5x2xf32>", "tensor<2x2xi64>"},
             "tensor<3x2x2x2xf32>", R"(
    %y = dit.gather %x0[%x1] {axis = 1 : i64} : (tensor<3x5x2xf32>, tensor<2x2xi64>) -> tensor<3x2x2x2xf32>)",
             {{-2, 2}, {-5, 4}}),
      kernel("gather_const", {"tensor<4x3xf32>"}, "tensor<4x3xf32>", R"(
    %i = dit.constant dense<[2, -1, 0, -4]> : tensor<4xi64>
    %y = dit.gather %x0[%i] {axis = 0 : i64} : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>)"),
      kernel("gather_scalar_i32", {"tensor<4x3xf32>", "tensor<i32>",
                                   "tensor<3xi32>"},
             "tensor<3x4xf32>", R"(
    %a = dit.gather %x0[%x1] {axis = 1 : i64} : (tensor<4x3xf32>, tensor<i32>) -> tensor<4xf32>
    %b = dit.gather %x0[%x2] {axis = -1 : i64} : (tensor<4x3xf32>, tensor<3xi32>) -> tensor<4x3xf32>
    %t = dit.transpose %b [1, 0] : tensor<4x3xf32> -> tensor<3x4xf32>
    %y = dit.add %t, %a : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>)",
             {{-2, 2}, {-3, 2}, {-3, 2}}),
      kernel("tile", {"tensor<1x2x3xf32>"}, "tensor<2x6x6xf32>", R"(
    %y = dit.tile %x0 [2, 3, 2] : tensor<1x2x3xf32> -> tensor<2x6x6xf32>)"),
      kernel("broadcast", {"tensor<3x1xf32>", "tensor<4xf32>"},
             "tensor<2x3x4xf32>", R"(
    %b = dit.broadcast %x0 : tensor<3x1xf32> -> tensor<2x3x4xf32>
    %y = dit.sub %b, %x1 : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>)"),
      kernel("rope_interleaved", {"tensor<1x4x2x8xf32>", "tensor<1x4x1x4xf32>",
                                  "tensor<1x4x1x4xf32>"},
             "tensor<1x4x2x8xf32>", R"(
    %y = dit.rope %x0, %x1, %x2 {interleaved} : (tensor<1x4x2x8xf32>, tensor<1x4x1x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x8xf32>)"),
      kernel("rope_half", {"tensor<2x3x8xf32>", "tensor<3x4xf32>"},
             "tensor<2x3x8xf32>", R"(
    %c = dit.cos %x1 : tensor<3x4xf32>
    %s = dit.sin %x1 : tensor<3x4xf32>
    %y = dit.rope %x0, %c, %s : (tensor<2x3x8xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x8xf32>)",
             {{-2, 2}, {-3, 3}}),
      kernel("rope_fused", {"tensor<1x6x16xf32>", "tensor<1x6x1x4xf32>",
                            "tensor<1x6x1x4xf32>"},
             "tensor<1x2x6x8xf32>", R"(
    %r = dit.reshape %x0 : tensor<1x6x16xf32> -> tensor<1x6x2x8xf32>
    %o = dit.rope %r, %x1, %x2 : (tensor<1x6x2x8xf32>, tensor<1x6x1x4xf32>, tensor<1x6x1x4xf32>) -> tensor<1x6x2x8xf32>
    %y = dit.transpose %o [0, 2, 1, 3] : tensor<1x6x2x8xf32> -> tensor<1x2x6x8xf32>)"),
      kernel("modulate", {"tensor<2x5x6xf32>", "tensor<2x1x6xf32>",
                          "tensor<6xf32>"},
             "tensor<2x5x6xf32>", R"(
    %y = dit.modulate %x0, %x1, %x2 : (tensor<2x5x6xf32>, tensor<2x1x6xf32>, tensor<6xf32>) -> tensor<2x5x6xf32>)"),
      kernel("gated_add", {"tensor<2x5x6xf32>", "tensor<2x5x6xf32>",
                           "tensor<2x1x6xf32>"},
             "tensor<2x5x6xf32>", R"(
    %y = dit.gated_add %x0, %x1, %x2 : (tensor<2x5x6xf32>, tensor<2x5x6xf32>, tensor<2x1x6xf32>) -> tensor<2x5x6xf32>)"),
      kernel("unpatchify_rank7", {"tensor<1x6x32xf32>"}, "tensor<1x2x1x8x12xf32>",
             R"(
    %a = dit.reshape %x0 : tensor<1x6x32xf32> -> tensor<1x1x2x3x2x4x4xf32>
    %b = dit.transpose %a [0, 4, 1, 2, 5, 3, 6] : tensor<1x1x2x3x2x4x4xf32> -> tensor<1x2x1x2x4x3x4xf32>
    %c = dit.reshape %b : tensor<1x2x1x2x4x3x4xf32> -> tensor<1x2x1x8x12xf32>
    %y = dit.neg %c : tensor<1x2x1x8x12xf32>)"),
      kernel("concat_reuse", {"tensor<2x4xf32>", "tensor<2x4xf32>"},
             "tensor<2x4xf32>", R"(
    %e = dit.exp %x0 : tensor<2x4xf32>
    %c = dit.concat %e, %x1 {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
    %s = dit.slice %c offsets [0, 0] strides [1, 1] : tensor<4x4xf32> -> tensor<2x4xf32>
    %y = dit.add %s, %e : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>)"),
      kernel("static_branches", {"tensor<2x3xf32>", "tensor<2x5xf32>",
                                 "tensor<1x3xf32>"},
             "tensor<2x3xf32>", R"(
    %c = dit.concat %x0, %x1 {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
    %s = dit.slice %c offsets [0, 5] strides [1, 1] : tensor<2x8xf32> -> tensor<2x1xf32>
    %t = dit.constant dense<true> : tensor<i1>
    %w = dit.where %t, %s, %x0 : (tensor<i1>, tensor<2x1xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %p = dit.pad %x2 [1, 0, -1, 0] {padding_value = 3.0 : f64} : tensor<1x3xf32> -> tensor<1x3xf32>
    %y = dit.add %w, %p : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>)"),
      kernel("dit_block_tail", {"tensor<2x5x6xf32>", "tensor<2x1x6xf32>",
                                "tensor<2x6xf32>", "tensor<2x1x6xf32>"},
             "tensor<2x5x6xf32>", R"(
    %sc = dit.reshape %x2 : tensor<2x6xf32> -> tensor<2x1x6xf32>
    %m = dit.modulate %x0, %x1, %sc : (tensor<2x5x6xf32>, tensor<2x1x6xf32>, tensor<2x1x6xf32>) -> tensor<2x5x6xf32>
    %g = dit.gelu tanh %m : tensor<2x5x6xf32>
    %y = dit.gated_add %x0, %g, %x3 : (tensor<2x5x6xf32>, tensor<2x5x6xf32>, tensor<2x1x6xf32>) -> tensor<2x5x6xf32>)"),
  };
}

std::vector<Case> reduceCases() {
  auto reduce = [](std::string name, std::string kind, std::string axes,
                   std::string attrs, std::string result,
                   std::vector<Range> ranges = {}) {
    return kernel(name, {"tensor<3x4x5xf32>"}, result,
                  "\n    %y = dit.reduce " + kind + " %x0 [" + axes + "]" +
                      attrs + " : (tensor<3x4x5xf32>) -> " + result,
                  ranges);
  };
  const std::string drop = " {keepdims = false}";
  return {
      reduce("reduce_sum_keep", "sum", "0, 2", "", "tensor<1x4x1xf32>"),
      reduce("reduce_sum_drop", "sum", "0, 2", drop, "tensor<4xf32>"),
      reduce("reduce_mean_keep", "mean", "-1", "", "tensor<3x4x1xf32>"),
      reduce("reduce_mean_drop", "mean", "1", drop, "tensor<3x5xf32>"),
      reduce("reduce_max_keep", "max", "1", "", "tensor<3x1x5xf32>"),
      reduce("reduce_max_drop", "max", "0, 1", drop, "tensor<5xf32>"),
      reduce("reduce_min_keep", "min", "2", "", "tensor<3x4x1xf32>"),
      reduce("reduce_min_drop", "min", "-3", drop, "tensor<4x5xf32>"),
      reduce("reduce_prod_keep", "prod", "2", "", "tensor<3x4x1xf32>", {kNear1}),
      reduce("reduce_prod_drop", "prod", "0", drop, "tensor<4x5xf32>", {kNear1}),
      reduce("reduce_all_drop", "sum", "", drop, "tensor<f32>"),
      reduce("reduce_all_keep", "max", "", "", "tensor<1x1x1xf32>"),
      kernel("reduce_int", {"tensor<3x4xi64>"}, "tensor<3xi64>", R"(
    %y = dit.reduce mean %x0 [1] {keepdims = false} : (tensor<3x4xi64>) -> tensor<3xi64>)",
             {{-9, 9}}),
      kernel("reduce_int_max", {"tensor<3x4xi32>"}, "tensor<1x4xi32>", R"(
    %y = dit.reduce max %x0 [0] : (tensor<3x4xi32>) -> tensor<1x4xi32>)"),
      kernel("reduce_fused", {"tensor<4x3x8xf32>"}, "tensor<3x4x1xf32>", R"(
    %t = dit.transpose %x0 [1, 0, 2] : tensor<4x3x8xf32> -> tensor<3x4x8xf32>
    %s = dit.mul %t, %t : (tensor<3x4x8xf32>, tensor<3x4x8xf32>) -> tensor<3x4x8xf32>
    %y = dit.reduce mean %s [2] : (tensor<3x4x8xf32>) -> tensor<3x4x1xf32>)"),
      kernel("reduce_nan", {"tensor<5x6xf32>"}, "tensor<5x2xf32>", R"(
    %l = dit.log %x0 : tensor<5x6xf32>
    %r = dit.reshape %l : tensor<5x6xf32> -> tensor<5x2x3xf32>
    %y = dit.reduce max %r [2] {keepdims = false} : (tensor<5x2x3xf32>) -> tensor<5x2xf32>)",
             {{-0.2, 1}}),
      kernel("reduce_large", {"tensor<4x3000xf32>"}, "tensor<4xf32>", R"(
    %y = dit.reduce sum %x0 [1] {keepdims = false} : (tensor<4x3000xf32>) -> tensor<4xf32>)"),
      kernel("reduce_rows", {"tensor<6x8xf32>"}, "tensor<6x1xf32>", R"(
    %y = dit.reduce sum %x0 [1] : (tensor<6x8xf32>) -> tensor<6x1xf32>)"),
  };
}

std::vector<Case> scatterCases() {
  return {
      kernel("scatter_nd_none", {"tensor<4x3xf32>", "tensor<2x1xi64>",
                                 "tensor<2x3xf32>"},
             "tensor<4x3xf32>", R"(
    %d = dit.exp %x0 : tensor<4x3xf32>
    %u = dit.neg %x2 : tensor<2x3xf32>
    %y = dit.scatter_nd %d[%x1], %u : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>)",
             {{-2, 2}, kIdx4, {-2, 2}}),
      kernel("scatter_nd_add", {"tensor<4x5xf32>", "tensor<6x2xi64>",
                                "tensor<6xf32>"},
             "tensor<4x5xf32>", R"(
    %y = dit.scatter_nd %x0[%x1], %x2 reduction add : (tensor<4x5xf32>, tensor<6x2xi64>, tensor<6xf32>) -> tensor<4x5xf32>)",
             {{-2, 2}, kIdx4, {-2, 2}}),
      kernel("scatter_nd_const_idx", {"tensor<4x3xi64>", "tensor<2x3xi64>"},
             "tensor<4x3xi64>", R"(
    %i = dit.constant dense<[[1], [-1]]> : tensor<2x1xi64>
    %y = dit.scatter_nd %x0[%i], %x1 reduction add : (tensor<4x3xi64>, tensor<2x1xi64>, tensor<2x3xi64>) -> tensor<4x3xi64>)"),
      cpuOnly(kernel("scatter_nd_mul", {"tensor<4x3xf32>", "tensor<3x1xi64>",
                                        "tensor<3x3xf32>"},
                     "tensor<4x3xf32>", R"(
    %y = dit.scatter_nd %x0[%x1], %x2 reduction mul : (tensor<4x3xf32>, tensor<3x1xi64>, tensor<3x3xf32>) -> tensor<4x3xf32>)",
                     {{-2, 2}, kIdx4, {-2, 2}})),
      cpuOnly(kernel("scatter_nd_max", {"tensor<4x3xf32>", "tensor<3x1xi64>",
                                        "tensor<3x3xf32>"},
                     "tensor<4x3xf32>", R"(
    %y = dit.scatter_nd %x0[%x1], %x2 reduction max : (tensor<4x3xf32>, tensor<3x1xi64>, tensor<3x3xf32>) -> tensor<4x3xf32>)",
                     {{-2, 2}, kIdx4, {-2, 2}})),
      cpuOnly(kernel("scatter_nd_min", {"tensor<4x3xf32>", "tensor<3x1xi64>",
                                        "tensor<3x3xf32>"},
                     "tensor<4x3xf32>", R"(
    %y = dit.scatter_nd %x0[%x1], %x2 reduction min : (tensor<4x3xf32>, tensor<3x1xi64>, tensor<3x3xf32>) -> tensor<4x3xf32>)",
                     {{-2, 2}, kIdx4, {-2, 2}})),
      kernel("scatter_elements_add", {"tensor<3x4xf32>", "tensor<2x3xi64>",
                                      "tensor<2x3xf32>"},
             "tensor<3x4xf32>", R"(
    %y = dit.scatter_elements %x0[%x1], %x2 reduction add {axis = 1 : i64} : (tensor<3x4xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<3x4xf32>)",
             {{-2, 2}, kIdx4, {-2, 2}}),
      kernel("scatter_elements_none", {"tensor<3x4xf32>", "tensor<2x4xi32>",
                                       "tensor<2x4xf32>"},
             "tensor<3x4xf32>", R"(
    %d = dit.mul %x0, %x0 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
    %y = dit.scatter_elements %d[%x1], %x2 {axis = 0 : i64} : (tensor<3x4xf32>, tensor<2x4xi32>, tensor<2x4xf32>) -> tensor<3x4xf32>)",
             {{-2, 2}, {-3, 2}, {-2, 2}}),
      cpuOnly(kernel("scatter_elements_max", {"tensor<3x4xf32>",
                                              "tensor<3x2xi64>",
                                              "tensor<3x2xf32>"},
                     "tensor<3x4xf32>", R"(
    %y = dit.scatter_elements %x0[%x1], %x2 reduction max {axis = -1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>)",
                     {{-2, 2}, kIdx4, {-2, 2}})),
      stored(kernel("scatter_add_bf16", {"tensor<4x5xf32>", "tensor<6x2xi64>",
                                         "tensor<6xf32>"},
                    "tensor<4x5xf32>", R"(
    %y = dit.scatter_nd %x0[%x1], %x2 reduction add : (tensor<4x5xf32>, tensor<6x2xi64>, tensor<6xf32>) -> tensor<4x5xf32>)",
                    {{-2, 2}, kIdx4, {-2, 2}}),
             Storage::BF16),
  };
}

/// A scatter whose index is out of range: the CPU kernel reports it.
Case scatterOutOfRange() {
  Case c = kernel("scatter_oob", {"tensor<4x3xf32>", "tensor<2x3xf32>"},
                  "tensor<4x3xf32>", R"(
    %i = dit.constant dense<[[1], [4]]> : tensor<2x1xi64>
    %y = dit.scatter_nd %x0[%i], %x1 : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>)");
  c.expectError = true;
  return c;
}

std::vector<Case> allCases() {
  std::vector<Case> all = elementwiseCases();
  for (auto group : {movementCases(), reduceCases(), scatterCases()})
    all.insert(all.end(), group.begin(), group.end());
  all.push_back(scatterOutOfRange());
  // A reduction whose result is stored as bf16.
  Case r = reduceCases().back();
  r.name += "_bf16";
  r.half = Storage::BF16;
  all.push_back(r);
  return all;
}

//===----------------------------------------------------------------------===//
// IR, storage and data
//===----------------------------------------------------------------------===//

std::string moduleText(const Case &c) {
  std::string args, types, uses, blockArgs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::string sep = i ? ", " : "";
    args += sep + "%a" + std::to_string(i) + ": " + c.inputs[i];
    uses += sep + "%a" + std::to_string(i);
    blockArgs += sep + "%x" + std::to_string(i) + ": " + c.inputs[i];
    types += sep + c.inputs[i];
  }
  return "func.func @" + c.name + "(" + args + ") -> " + c.result + " {\n" +
         "  %r = vrt.kernel \"" + c.name + "\" (" + uses + ") : (" + types +
         ") -> " + c.result + " {\n  ^bb0" +
         (blockArgs.empty() ? "" : "(" + blockArgs + ")") + ":" + c.body +
         "\n    vrt.yield %y : " + c.result + "\n  }\n  return %r : " +
         c.result + "\n}\n";
}

MLIRContext &context() {
  static MLIRContext *ctx = [] {
    DialectRegistry registry;
    registry.insert<func::FuncDialect, vsa::dit::DitDialect,
                    vsa::vrt::VrtDialect>();
    auto *c = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

/// Collects diagnostics while alive.
struct Diagnostics {
  Diagnostics()
      : handler(&context(), [this](Diagnostic &d) {
          text += d.str() + "\n";
          return success();
        }) {}
  std::string text;
  ScopedDiagnosticHandler handler;
};

vsa::vrt::KernelOp kernelIn(ModuleOp module) {
  vsa::vrt::KernelOp k;
  module.walk([&](vsa::vrt::KernelOp op) { k = op; });
  return k;
}

Storage storageFor(Type t, std::optional<Storage> half) {
  if (t.isF32())
    return half.value_or(Storage::F32);
  if (t.isF64())
    return Storage::F64;
  if (t.isBF16())
    return Storage::BF16;
  if (t.isF16())
    return Storage::F16;
  if (t.isInteger(1))
    return Storage::Bool;
  if (t.isUnsignedInteger(8))
    return Storage::U8;
  if (t.isInteger(8))
    return Storage::I8;
  return t.isInteger(32) ? Storage::I32 : Storage::I64;
}

Type elementTypeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

SmallVector<Storage> inputStorage(vsa::vrt::KernelOp k, const Case &c) {
  SmallVector<Storage> s;
  for (Value v : k.getInputs())
    s.push_back(storageFor(elementTypeOf(v), c.half));
  return s;
}

size_t sizeOf(Storage s) { return size_t(vsa::target::storageBytes(s)); }

/// The bits of `v` in a 16- or 8-bit float format.
uint16_t halfBits(double v, const llvm::fltSemantics &sem) {
  llvm::APFloat f(v);
  bool lost = false;
  f.convert(sem, llvm::APFloat::rmNearestTiesToEven, &lost);
  return uint16_t(f.bitcastToAPInt().getZExtValue());
}

double fromHalfBits(uint16_t bits, const llvm::fltSemantics &sem) {
  llvm::APFloat f(sem, llvm::APInt(llvm::APFloat::getSizeInBits(sem), bits));
  bool lost = false;
  f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
            &lost);
  return f.convertToDouble();
}

template <typename T> void put(char *p, T v) { std::memcpy(p, &v, sizeof v); }
template <typename T> T get(const char *p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void encode(Storage s, double v, char *p) {
  switch (s) {
  case Storage::F32:
    return put(p, float(v));
  case Storage::F64:
    return put(p, v);
  case Storage::BF16:
    return put(p, halfBits(v, llvm::APFloat::BFloat()));
  case Storage::F16:
    return put(p, halfBits(v, llvm::APFloat::IEEEhalf()));
  case Storage::I64:
    return put(p, int64_t(v));
  case Storage::I32:
    return put(p, int32_t(v));
  case Storage::I8:
    return put(p, int8_t(v));
  case Storage::U8:
    return put(p, uint8_t(v));
  case Storage::Bool:
    return put(p, uint8_t(v != 0));
  case Storage::F8E4M3:
    return put(p, uint8_t(halfBits(v, llvm::APFloat::Float8E4M3FN())));
  }
}

double decode(Storage s, const char *p) {
  switch (s) {
  case Storage::F32:
    return get<float>(p);
  case Storage::F64:
    return get<double>(p);
  case Storage::BF16:
    return fromHalfBits(get<uint16_t>(p), llvm::APFloat::BFloat());
  case Storage::F16:
    return fromHalfBits(get<uint16_t>(p), llvm::APFloat::IEEEhalf());
  case Storage::I64:
    return double(get<int64_t>(p));
  case Storage::I32:
    return get<int32_t>(p);
  case Storage::I8:
    return get<int8_t>(p);
  case Storage::U8:
    return get<uint8_t>(p);
  case Storage::Bool:
    return get<uint8_t>(p) != 0;
  case Storage::F8E4M3:
    return fromHalfBits(get<uint8_t>(p), llvm::APFloat::Float8E4M3FN());
  }
  return 0;
}

double randomValue(std::mt19937 &rng, Type t, std::optional<Range> r) {
  if (t.isInteger(1))
    return double(rng() & 1);
  bool isFloat = isa<FloatType>(t);
  Range range = r.value_or(isFloat ? Range{-2, 2}
                           : t.isUnsignedInteger() ? Range{0, 9}
                                                   : Range{-5, 5});
  while (true) {
    double v = isFloat ? std::uniform_real_distribution<double>(range.lo,
                                                                range.hi)(rng)
                       : double(std::uniform_int_distribution<int64_t>(
                             int64_t(range.lo), int64_t(range.hi))(rng));
    if (!range.nonzero || std::fabs(v) > 1e-3)
      return v;
  }
}

/// A func.func with the kernel's body, for the interpreter.
func::FuncOp referenceFunc(vsa::vrt::KernelOp k, ModuleOp into) {
  Block &body = k.getBody().front();
  OpBuilder b = OpBuilder::atBlockEnd(into.getBody());
  auto type = b.getFunctionType(body.getArgumentTypes(), {k.getType()});
  auto f = func::FuncOp::create(b, k.getLoc(), "reference", type);
  Block *entry = f.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  IRMapping map;
  map.map(body.getArguments(), entry->getArguments());
  for (Operation &op : body.without_terminator())
    b.clone(op, map);
  func::ReturnOp::create(b, k.getLoc(), map.lookup(k.getYielded()));
  return f;
}

//===----------------------------------------------------------------------===//
// Compiling the generated code
//===----------------------------------------------------------------------===//

const char *kPrologue = "#include <cmath>\n#include <cstdint>\n"
                        "#include <cstring>\n#include \"vsart.h\"\n";

int runCommand(const std::string &cmd, const std::string &log,
               std::string &output) {
  int rc = std::system((cmd + " > " + log + " 2>&1").c_str());
  auto buf = llvm::MemoryBuffer::getFile(log);
  output = buf ? (*buf)->getBuffer().str() : "";
  return rc;
}

std::string tempDir() {
  static std::string dir = [] {
    llvm::SmallString<128> path;
    if (llvm::sys::fs::createUniqueDirectory("vsa-codegen", path))
      return std::string("/tmp");
    return path.str().str();
  }();
  return dir;
}

/// Removes the temporary folder after the run, unless a test failed or
/// VSA_CODEGEN_KEEP is set.
class TempDirCleanup : public ::testing::Environment {
  void TearDown() override {
    if (::testing::UnitTest::GetInstance()->Failed() ||
        std::getenv("VSA_CODEGEN_KEEP")) {
      llvm::errs() << "vsa-codegen-tests: generated files kept in "
                   << tempDir() << "\n";
      return;
    }
    llvm::sys::fs::remove_directories(tempDir());
  }
};
[[maybe_unused]] ::testing::Environment *const kCleanup =
    ::testing::AddGlobalTestEnvironment(new TempDirCleanup);

using KernelFn = vsart_status_t (*)(const void *const *, void *);
using SetThreadsFn = void (*)(int32_t);

/// All cases' CPU kernels in one shared library.
struct CpuLibrary {
  std::vector<Case> cases;
  llvm::StringMap<OwningOpRef<ModuleOp>> modules;
  llvm::StringMap<std::string> code, errors;
  std::string failure; // why the library could not be built
  void *handle = nullptr;

  KernelFn entry(StringRef name) const {
    return reinterpret_cast<KernelFn>(
        dlsym(handle, ("run_" + name).str().c_str()));
  }
  SetThreadsFn setThreads() const {
    return reinterpret_cast<SetThreadsFn>(dlsym(handle, "set_threads"));
  }
};

FailureOr<std::string> emit(vsa::vrt::KernelOp k, const Case &c,
                            TargetKind target, std::string &diag) {
  Diagnostics d;
  std::string s;
  llvm::raw_string_ostream os(s);
  Storage out = storageFor(elementTypeOf(k.getResult()), c.half);
  LogicalResult r = vsa::target::emitKernel(k, target, inputStorage(k, c),
                                            out, os);
  diag = d.text;
  if (failed(r))
    return failure();
  return s;
}

OwningOpRef<ModuleOp> parse(const std::string &text, std::string &diag) {
  Diagnostics d;
  OwningOpRef<ModuleOp> m =
      parseSourceString<ModuleOp>(text, ParserConfig(&context()));
  diag = d.text;
  return m;
}

std::string compileCpu(CpuLibrary &lib, const std::string &source) {
  std::string dir = tempDir();
  std::string src = dir + "/kernels.cpp", so = dir + "/kernels.so";
  std::error_code ec;
  llvm::raw_fd_ostream(src, ec) << source;
  if (ec)
    return "cannot write " + src;
  const char *cxx = std::getenv("CXX");
  std::string cmd = std::string(cxx && *cxx ? cxx : "c++") +
                    " -std=c++17 -O1 -shared -fPIC -Wall -Wextra -Werror -I" +
                    VSA_RUNTIME_INCLUDE_DIR + " " + src + " " +
                    VSA_RUNTIME_LIB + " -lpthread -o " + so;
  std::string log;
  if (runCommand(cmd, dir + "/cxx.log", log) != 0)
    return "compiling " + src + " failed:\n" + cmd + "\n" + log.substr(0, 8000);
  lib.handle = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  return lib.handle ? "" : std::string("dlopen: ") + dlerror();
}

const CpuLibrary &cpuLibrary() {
  static CpuLibrary *lib = [] {
    auto *l = new CpuLibrary;
    l->cases = allCases();
    std::string source = kPrologue;
    for (const Case &c : l->cases) {
      std::string diag;
      OwningOpRef<ModuleOp> m = parse(moduleText(c), diag);
      if (!m) {
        l->errors[c.name] = "parse failed:\n" + diag + moduleText(c);
        continue;
      }
      FailureOr<std::string> code =
          emit(kernelIn(*m), c, TargetKind::Cpu, diag);
      if (failed(code)) {
        l->errors[c.name] = "emitKernel failed:\n" + diag;
        continue;
      }
      l->code[c.name] = *code;
      source += *code + "extern \"C\" vsart_status_t run_" + c.name +
                "(const void *const *in, void *out) {\n  return " + c.name +
                "(in, out, nullptr);\n}\n\n";
      l->modules[c.name] = std::move(m);
    }
    source += "extern \"C\" void set_threads(int32_t n) { "
              "vsart_set_num_threads(n); }\n";
    l->failure = compileCpu(*l, source);
    return l;
  }();
  return *lib;
}

//===----------------------------------------------------------------------===//
// Running a case
//===----------------------------------------------------------------------===//

struct KernelRun {
  std::vector<std::vector<char>> inputs;
  std::vector<vsa::interp::Tensor> tensors; // the same values, for the interpreter
  std::vector<char> output;
  Storage outStorage;
};

KernelRun makeInputs(vsa::vrt::KernelOp k, const Case &c) {
  KernelRun run;
  std::mt19937 rng(uint32_t(llvm::hash_value(c.name)));
  SmallVector<Storage> storage = inputStorage(k, c);
  for (auto [i, v] : llvm::enumerate(k.getInputs())) {
    auto type = cast<RankedTensorType>(v.getType());
    vsa::interp::Tensor t;
    t.shape.assign(type.getShape().begin(), type.getShape().end());
    t.elementType = type.getElementType();
    std::vector<char> bytes(type.getNumElements() * sizeOf(storage[i]));
    std::optional<Range> range;
    if (i < c.ranges.size())
      range = c.ranges[i];
    for (int64_t e = 0; e < type.getNumElements(); ++e) {
      char *p = bytes.data() + e * sizeOf(storage[i]);
      encode(storage[i], randomValue(rng, t.elementType, range), p);
      t.data.push_back(decode(storage[i], p)); // exactly what the kernel reads
    }
    run.inputs.push_back(std::move(bytes));
    run.tensors.push_back(std::move(t));
  }
  run.outStorage = storageFor(elementTypeOf(k.getResult()), c.half);
  run.output.assign(k.getType().getNumElements() * sizeOf(run.outStorage),
                    char(0xcd));
  return run;
}

vsart_status_t execute(KernelFn fn, KernelRun &run) {
  std::vector<const void *> ptrs;
  for (auto &in : run.inputs)
    ptrs.push_back(in.data());
  return fn(ptrs.data(), run.output.data());
}

/// Relative tolerance (absolute below magnitude 1) of a result storage.
double tolerance(Storage s) {
  switch (s) {
  case Storage::F32:
  case Storage::F64:
    return 1e-5;
  case Storage::BF16:
    return 1e-2; // one bf16 ulp from double rounding
  case Storage::F16:
    return 2e-3;
  default:
    return 0;
  }
}

void compare(const KernelRun &run, const vsa::interp::Tensor &want) {
  size_t esz = sizeOf(run.outStorage);
  ASSERT_EQ(run.output.size(), want.data.size() * esz);
  double tol = tolerance(run.outStorage);
  int shown = 0;
  for (size_t i = 0; i < want.data.size(); ++i) {
    double got = decode(run.outStorage, run.output.data() + i * esz);
    // The reference as the result storage holds it.
    std::vector<char> w(esz);
    encode(run.outStorage, want.data[i], w.data());
    double ref = decode(run.outStorage, w.data());
    bool ok = std::isnan(ref) ? std::isnan(got)
              : std::isinf(ref) ? got == ref
                                : std::fabs(got - ref) <=
                                      tol * std::max(1.0, std::fabs(ref));
    if (!ok && shown++ < 10)
      ADD_FAILURE() << "element " << i << ": got " << got << ", want " << ref;
  }
}

class CpuKernel : public ::testing::TestWithParam<Case> {};

TEST_P(CpuKernel, MatchesInterpreter) {
  const Case &c = GetParam();
  const CpuLibrary &lib = cpuLibrary();
  ASSERT_EQ(lib.errors.lookup(c.name), "");
  ASSERT_EQ(lib.failure, "");
  KernelFn fn = lib.entry(c.name);
  ASSERT_NE(fn, nullptr);
  vsa::vrt::KernelOp k = kernelIn(*lib.modules.find(c.name)->second);
  KernelRun run = makeInputs(k, c);
  vsart_status_t status = execute(fn, run);

  OwningOpRef<ModuleOp> refModule = ModuleOp::create(k.getLoc());
  func::FuncOp ref = referenceFunc(k, *refModule);
  Diagnostics d;
  auto want = vsa::interp::interpret(ref, run.tensors);
  if (c.expectError) {
    EXPECT_EQ(status, VSART_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(failed(want)) << "the interpreter accepted it";
    return;
  }
  ASSERT_EQ(status, VSART_OK);
  ASSERT_TRUE(succeeded(want)) << d.text;
  compare(run, want->front());
}

std::string caseName(const ::testing::TestParamInfo<Case> &info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Codegen, CpuKernel, ::testing::ValuesIn(allCases()),
                         caseName);

//===----------------------------------------------------------------------===//
// Properties of the generated code
//===----------------------------------------------------------------------===//

/// Occurrences of `what` in `text` after the shared helpers.
size_t countOf(StringRef text, StringRef what) {
  text = text.split("#endif // VSA_KERNEL_HELPERS").second;
  size_t n = 0;
  for (size_t at = text.find(what); at != StringRef::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(CodegenCpu, SharedValuesAreComputedOnce) {
  const CpuLibrary &lib = cpuLibrary();
  StringRef code = lib.code.lookup("used_twice");
  EXPECT_EQ(countOf(code, "expf("), 1u) << code.str();
}

TEST(CodegenCpu, GuardedBranchesStayInside) {
  const CpuLibrary &lib = cpuLibrary();
  // log is only evaluated where the condition selects it.
  StringRef where = lib.code.lookup("where_branches");
  size_t ifAt = where.find("if (");
  ASSERT_NE(ifAt, StringRef::npos) << where.str();
  EXPECT_GT(where.find("logf("), ifAt) << where.str();
  EXPECT_NE(where.find("} else {"), StringRef::npos) << where.str();
  // Three concat inputs: if / else if / else, each loading its own input.
  StringRef concat = lib.code.lookup("concat3_mid");
  EXPECT_EQ(countOf(concat, "else if ("), 1u) << concat.str();
  EXPECT_EQ(countOf(concat, "dit.concat"), 1u) << concat.str();
}

TEST(CodegenCpu, DeterministicAcrossThreadCounts) {
  const CpuLibrary &lib = cpuLibrary();
  ASSERT_EQ(lib.failure, "");
  for (StringRef name : {"big_chain", "reduce_large"}) {
    const Case *c = nullptr;
    for (const Case &x : lib.cases)
      if (x.name == name)
        c = &x;
    ASSERT_NE(c, nullptr);
    vsa::vrt::KernelOp k = kernelIn(*lib.modules.find(name)->second);
    KernelRun one = makeInputs(k, *c), many = makeInputs(k, *c);
    lib.setThreads()(1);
    ASSERT_EQ(execute(lib.entry(name), one), VSART_OK);
    lib.setThreads()(3);
    ASSERT_EQ(execute(lib.entry(name), many), VSART_OK);
    lib.setThreads()(0);
    EXPECT_EQ(one.output, many.output) << name.str();
  }
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// Emits `c` (parsed without verification) and returns the diagnostics.
std::string emitError(const Case &c, TargetKind target,
                      std::function<void(vsa::vrt::KernelOp)> edit = {}) {
  Diagnostics d;
  ParserConfig config(&context(), /*verifyAfterParse=*/false);
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(moduleText(c), config);
  if (!m)
    return "parse failed: " + d.text;
  vsa::vrt::KernelOp k = kernelIn(*m);
  if (edit)
    edit(k);
  std::string diag;
  if (succeeded(emit(k, c, target, diag)))
    return "";
  return diag;
}

TEST(CodegenErrors, LargeConstantTable) {
  Case c = kernel("big_table", {"tensor<65537xf32>"}, "tensor<65537xf32>", R"(
    %t = dit.constant dense<1.0> : tensor<65537xf32>
    %y = dit.add %x0, %t : (tensor<65537xf32>, tensor<65537xf32>) -> tensor<65537xf32>)");
  // A splat of any size is a literal.
  EXPECT_EQ(emitError(c, TargetKind::Cpu), "");
  std::string diag = emitError(c, TargetKind::Cpu, [](vsa::vrt::KernelOp k) {
    k.walk([](vsa::dit::ConstantOp op) {
      std::vector<float> values(65537);
      for (size_t i = 0; i < values.size(); ++i)
        values[i] = float(i);
      op.setValueAttr(DenseElementsAttr::get(
          cast<ShapedType>(op.getType()), ArrayRef<float>(values)));
    });
  });
  EXPECT_NE(diag.find("dit.constant"), std::string::npos) << diag;
  EXPECT_NE(diag.find("65536"), std::string::npos) << diag;
}

TEST(CodegenErrors, CudaScatterReductions) {
  for (const Case &c : scatterCases()) {
    if (c.cuda)
      continue;
    std::string diag = emitError(c, TargetKind::Cuda);
    EXPECT_NE(diag.find("'dit.scatter_"), std::string::npos) << c.name << diag;
    EXPECT_NE(diag.find("not supported by the CUDA"), std::string::npos) << diag;
    EXPECT_EQ(emitError(c, TargetKind::Cpu), "") << c.name;
  }
  Case bytes = kernel("scatter_u8", {"tensor<4xui8>", "tensor<2x1xi64>",
                                     "tensor<2xui8>"},
                      "tensor<4xui8>", R"(
    %y = dit.scatter_nd %x0[%x1], %x2 reduction add : (tensor<4xui8>, tensor<2x1xi64>, tensor<2xui8>) -> tensor<4xui8>)");
  std::string diag = emitError(bytes, TargetKind::Cuda);
  EXPECT_NE(diag.find("atomicAdd"), std::string::npos) << diag;

  // Verified, but element (1, 5) of the updates has no place in the data.
  Case wide = kernel("scatter_wide", {"tensor<4x5xf32>", "tensor<2x6xi64>",
                                      "tensor<2x6xf32>"},
                     "tensor<4x5xf32>", R"(
    %y = dit.scatter_elements %x0[%x1], %x2 {axis = 0 : i64} : (tensor<4x5xf32>, tensor<2x6xi64>, tensor<2x6xf32>) -> tensor<4x5xf32>)");
  diag = emitError(wide, TargetKind::Cpu);
  EXPECT_NE(diag.find("indices dim 1 (6) exceeds the data's (5)"),
            std::string::npos)
      << diag;
}

TEST(CodegenErrors, UnsupportedOpAndBadArguments) {
  Case mm = kernel("has_matmul", {"tensor<2x3xf32>", "tensor<3x4xf32>"},
                   "tensor<2x4xf32>", R"(
    %y = dit.matmul %x0, %x1 : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>)");
  std::string diag = emitError(mm, TargetKind::Cpu);
  EXPECT_NE(diag.find("'dit.matmul' op is not supported"), std::string::npos)
      << diag;

  Case inner = kernel("inner_reduce", {"tensor<2x3xf32>"}, "tensor<2x1xf32>",
                      R"(
    %r = dit.reduce sum %x0 [1] : (tensor<2x3xf32>) -> tensor<2x1xf32>
    %y = dit.exp %r : tensor<2x1xf32>)");
  diag = emitError(inner, TargetKind::Cuda);
  EXPECT_NE(diag.find("'dit.reduce' op can only produce the result"),
            std::string::npos)
      << diag;

  diag = emitError(elementwiseCases().front(), TargetKind::Cpu,
                   [](vsa::vrt::KernelOp k) { k.setSymName("has-dash"); });
  EXPECT_NE(diag.find("not a C identifier"), std::string::npos) << diag;

  Diagnostics d;
  std::string parseDiag;
  OwningOpRef<ModuleOp> m = parse(moduleText(elementwiseCases().front()), parseDiag);
  ASSERT_TRUE(m) << parseDiag;
  std::string s;
  llvm::raw_string_ostream os(s);
  EXPECT_TRUE(failed(vsa::target::emitKernel(kernelIn(*m), TargetKind::Cpu,
                                             {Storage::F32}, Storage::F32, os)));
  EXPECT_NE(d.text.find("input storage"), std::string::npos) << d.text;
}

TEST(CodegenErrors, StorageCTypes) {
  EXPECT_EQ(vsa::target::storageCType(Storage::BF16), "__nv_bfloat16");
  EXPECT_EQ(vsa::target::storageCType(Storage::Bool), "uint8_t");
  EXPECT_EQ(vsa::target::storageCType(Storage::I32), "int32_t");
}

//===----------------------------------------------------------------------===//
// CUDA: every kernel compiles with nvcc
//===----------------------------------------------------------------------===//

/// Writes a case's inputs and the interpreter's result (as the result
/// storage holds it) for CodegenGpuMain.cu; returns the manifest line.
std::string exportCase(vsa::vrt::KernelOp k, const Case &c,
                       const std::string &dir) {
  KernelRun run = makeInputs(k, c);
  OwningOpRef<ModuleOp> refModule = ModuleOp::create(k.getLoc());
  Diagnostics d;
  auto want = vsa::interp::interpret(referenceFunc(k, *refModule), run.tensors);
  if (failed(want) || c.expectError)
    return "";
  std::error_code ec;
  llvm::raw_fd_ostream in(dir + "/" + c.name + ".in", ec);
  std::string line = c.name + " " + std::to_string(run.inputs.size());
  for (const std::vector<char> &bytes : run.inputs) {
    in.write(bytes.data(), bytes.size());
    line += " " + std::to_string(bytes.size());
  }
  llvm::raw_fd_ostream ref(dir + "/" + c.name + ".ref", ec);
  size_t esz = sizeOf(run.outStorage);
  std::vector<char> w(esz);
  for (double v : want->front().data) {
    encode(run.outStorage, v, w.data());
    double r = decode(run.outStorage, w.data());
    ref.write(reinterpret_cast<const char *>(&r), sizeof r);
  }
  // Scatters without reduction race on repeated indices on a GPU.
  bool racy = false;
  k.walk([&](vsa::dit::ScatterNdOp op) {
    racy |= op.getReduction() == vsa::dit::ScatterReduction::none;
  });
  k.walk([&](vsa::dit::ScatterElementsOp op) {
    racy |= op.getReduction() == vsa::dit::ScatterReduction::none;
  });
  return line + " " + std::to_string(int(run.outStorage)) + " " +
         std::to_string(want->front().data.size()) + " " +
         std::to_string(int(racy)) + "\n";
}

/// With VSA_CODEGEN_GPU_EXPORT=DIR, also writes DIR/kernels.cu, the entry
/// table, inputs and references for CodegenGpuMain.cu (run on a GPU).
TEST(CodegenCuda, AllKernelsCompileWithNvcc) {
  const char *exportDir = std::getenv("VSA_CODEGEN_GPU_EXPORT");
  std::string source = std::string(kPrologue) +
                       "#include <cuda_runtime.h>\n#include <cuda_bf16.h>\n";
  std::string launchers, table, manifest;
  for (Case c : allCases()) {
    if (!c.cuda)
      continue;
    // Natural storage, then the CUDA runtime's: f32 activations as bf16.
    std::vector<Case> variants = {c};
    if (c.half != Storage::BF16) {
      variants.push_back(c);
      variants.back().half = Storage::BF16;
      variants.back().name += "_bf16_store";
    }
    for (const Case &v : variants) {
      std::string diag;
      OwningOpRef<ModuleOp> m = parse(moduleText(v), diag);
      ASSERT_TRUE(m) << diag;
      FailureOr<std::string> code = emit(kernelIn(*m), v, TargetKind::Cuda, diag);
      ASSERT_TRUE(succeeded(code)) << v.name << ": " << diag;
      source += *code + "\n";
      launchers += "    reinterpret_cast<void *>(&" + v.name + "),\n";
      table += "{\"" + v.name + "\", &" + v.name + "},\n";
      if (exportDir)
        manifest += exportCase(kernelIn(*m), v, exportDir);
    }
  }
  // Every static launcher is referenced, so none is unused.
  source += "extern \"C\" {\nvoid *vsa_codegen_launchers[] = {\n" + launchers +
            "};\n}\n";
  if (exportDir) {
    std::error_code ec;
    llvm::raw_fd_ostream(std::string(exportDir) + "/kernels.cu", ec) << source;
    llvm::raw_fd_ostream(std::string(exportDir) + "/kernels_table.inc", ec)
        << table;
    llvm::raw_fd_ostream(std::string(exportDir) + "/manifest.txt", ec)
        << manifest;
    ASSERT_FALSE(ec) << "cannot write to " << exportDir;
  }
  std::string nvcc = VSA_NVCC;
  if (nvcc.empty())
    GTEST_SKIP() << "nvcc not found when CMake ran";
  std::string dir = tempDir();
  std::string src = dir + "/kernels.cu";
  std::error_code ec;
  llvm::raw_fd_ostream(src, ec) << source;
  ASSERT_FALSE(ec);
  std::string cmd = nvcc + " -c -std=c++17 -arch=sm_80 -Xcompiler=-Wall,-Wextra "
                           "-I" VSA_RUNTIME_INCLUDE_DIR " " + src + " -o " +
                    dir + "/kernels.o";
  std::string log;
  EXPECT_EQ(runCommand(cmd, dir + "/nvcc.log", log), 0) << cmd << "\n" << log;
  EXPECT_EQ(log.find("warning"), std::string::npos) << log;
}

// vrt.semantic_attention's scratch (planned at compile time) is what the
// CPU kernel asks for; the CUDA formula mirrors kernels/cuda's Scratch the
// same way and the CUDA kernel checks the size it gets.
TEST(SemanticScratch, MatchesTheCpuKernel) {
  const int64_t shapes[][7] = {
      {1, 2, 2, 48, 16, 8, 8},   {2, 2, 1, 8, 4, 4, 3},
      {1, 2, 2, 56, 16, 8, 8},   {2, 24, 8, 1000, 64, 37, 91},
      {1, 12, 12, 4096, 128, 100, 100}};
  for (const auto &s : shapes) {
    vsart_semantic_args_t args = {};
    args.attn.batch = s[0], args.attn.num_heads = s[1];
    args.attn.num_kv_heads = s[2], args.attn.seq_q = args.attn.seq_kv = s[3];
    args.attn.head_dim = s[4];
    args.num_q_clusters = s[5], args.num_kv_clusters = s[6];
    args.iterations_first = 50, args.iterations_warm = 2;
    args.top_p = 0.9f, args.min_kept_fraction = 0.1f;
    size_t bytes = 0;
    ASSERT_EQ(vsart_cpu_semantic_scratch_bytes(&args, &bytes), VSART_OK)
        << vsart_last_error();
    EXPECT_EQ(int64_t(bytes), vsa::vrt::SemanticAttentionOp::scratchBytes(
                                  false, s[0], s[1], s[2], s[3], s[4], s[5],
                                  s[6]))
        << "heads " << s[1] << ", seq " << s[3];
  }
}

} // namespace
