//===- Emitter.cpp - one walk over a planned vrt function ------------------===//
//
// The forward function is straight-line code: every vrt op becomes a call
// (runtime GEMM/attention/norm/softmax or a generated kernel) on pointers
// into the inputs, the weights or the arena at its planned offset. Views
// share their operand's pointer. The same walk writes C++ for the CPU and
// CUDA C++ for the GPU; only the callee names, the storage types and the
// stream argument differ.
//
//===----------------------------------------------------------------------===//

#include "vsa/Target/Emitter.h"
#include "vsa/Support/Matchers.h"
#include "vsa/dialects/dit/ShapeInference.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdio>
#include <type_traits>

using namespace mlir;
using namespace vsa;
using namespace vsa::target;

namespace {

Type elementTypeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

/// The vsart_dtype_t enumerator of a logical element type, or "".
StringRef dtypeName(Type t) {
  std::optional<vsart_dtype_t> dtype = runtimeDtype(t);
  return dtype ? runtimeDtypeName(*dtype) : "";
}

/// A float literal that round-trips through fp32 ("1e-06f", "0.25f").
std::string floatLiteral(double v) {
  if (std::isinf(v))
    return v > 0 ? "INFINITY" : "-INFINITY";
  if (std::isnan(v))
    return "NAN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s + "f";
}

std::string cString(StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

class ModelEmitter {
public:
  ModelEmitter(func::FuncOp func, const EmitOptions &options,
               llvm::raw_ostream &os)
      : func(func), options(options), os(os),
        cuda(options.target == TargetKind::Cuda) {}
  LogicalResult emit();

private:
  LogicalResult emitPrologue();
  LogicalResult emitKernels();
  LogicalResult emitForward();
  LogicalResult emitOp(Operation *op);
  LogicalResult emitGemm(vrt::GemmOp op);
  void emitQuantizeRows(vrt::QuantizeRowsOp op);
  LogicalResult emitScaledGemm(vrt::ScaledGemmOp op);
  LogicalResult emitScaledGemmQuantize(vrt::ScaledGemmQuantizeOp op);
  /// What both FP8 GEMMs print: sizes, bias, alpha, lhs scales, epilogue.
  struct Fp8GemmCall {
    int64_t m, n, k;
    std::string bias, alpha, scales;
    StringRef epilogue;
  };
  template <class Op> FailureOr<Fp8GemmCall> fp8GemmCall(Op op);
  void emitAttention(vrt::AttentionOp op);
  /// `vsart_attention_args_t a` of a vrt.attention or
  /// vrt.semantic_attention.
  template <typename AttentionLike> void emitAttentionArgs(AttentionLike op);
  /// `args`.mask and mask_dims for a 4-d additive mask.
  void emitMask(StringRef args, Value mask);
  /// vrt.semantic_attention: the semantic kernel, or dense attention when
  /// the run context asks for it.
  void emitSemanticAttention(vrt::SemanticAttentionOp op);
  void emitRingAttention(vrt::RingAttentionOp op);
  void emitUlyssesAttention(vrt::UlyssesAttentionOp op);
  void emitBlockSparseCall(vrt::AttentionOp op);
  void emitVsaSelect(vrt::VsaSelectOp op);
  /// `if (...) {` opening the sparse path of block-sparse attention
  /// `index`, which the run context may send down the dense path.
  std::string sparsePathGuard(Operation *attention);
  void emitNorm(vrt::NormOp op);
  void emitNormQuantize(vrt::NormQuantizeOp op);
  void emitNormRope(vrt::NormRopeOp op);
  void emitSoftmax(vrt::SoftmaxOp op);
  void emitKernelCall(vrt::KernelOp op);
  /// vrt.all_to_all / vrt.all_gather / vrt.shard: a runtime call through
  /// ctx->comm.
  LogicalResult emitCollective(Operation *op);
  LogicalResult emitDescriptor();
  /// With VSART_DUMP_DIR set at run time, writes the op's result to a file.
  void emitDump(Operation *op, unsigned index);
  StringRef deviceOps() const {
    return cuda ? "&vsart_cuda_device_ops" : "&vsart_cpu_device_ops";
  }
  void emitTensorDesc(StringRef name, Value v, bool isInput);

  Storage storageOf(Value v);
  /// Pointer expression of `v` (const void * or void *).
  std::string ptr(Value v);
  std::string typed(Value v, bool isConst = true);

  func::FuncOp func;
  const EmitOptions &options;
  llvm::raw_ostream &os;
  bool cuda;
  DenseMap<Value, unsigned> weightIndex;
  /// The generated function each kernel calls (shared by identical bodies).
  DenseMap<Operation *, std::string> kernelFunction;
  unsigned numDumps = 0;
  SmallVector<Value> weights;
  /// Program-order number of each sparse attention, block-sparse or
  /// semantic (--attn dense_layers counts them).
  DenseMap<Operation *, int64_t> sparseIndex;
  /// Program-order number of each semantic attention: its warm flag in the
  /// persistent state (vrt-plan-memory lays them out the same way).
  DenseMap<Operation *, int64_t> semanticIndex;
  /// The world size of the program's collectives (0: none); the model's
  /// num_ranks.
  int64_t numRanks = 0;
  /// The model's groups, (size, stride), and each collective's index in it.
  SmallVector<std::pair<int64_t, int64_t>> groups;
  DenseMap<Operation *, int64_t> groupIndex;
  LogicalResult collectGroups();
  uint64_t stateBytes();
};

/// Whether a runtime library call (GEMM, attention, norm, softmax) or a
/// collective reads `v` or a view of it: those take bf16 on CUDA.
bool readByLibraryCall(Value v) {
  for (Operation *user : v.getUsers()) {
    if (isa<vrt::GemmOp, vrt::QuantizeRowsOp, vrt::ScaledGemmOp,
            vrt::ScaledGemmQuantizeOp, vrt::AttentionOp, vrt::SemanticAttentionOp,
            vrt::RingAttentionOp, vrt::UlyssesAttentionOp, vrt::NormOp,
            vrt::NormQuantizeOp, vrt::NormRopeOp, vrt::SoftmaxOp,
            vrt::AllToAllOp, vrt::AllGatherOp, vrt::ShardOp>(user))
      return true;
    if (auto view = dyn_cast<vrt::ViewOp>(user);
        view && readByLibraryCall(view.getResult()))
      return true;
  }
  return false;
}

/// Whether `use` is the weight operand of an FP8 GEMM.
bool isFp8WeightUse(OpOperand &use) {
  if (auto g = dyn_cast<vrt::ScaledGemmOp>(use.getOwner()))
    return &use == &g.getWeightMutable();
  auto q = dyn_cast<vrt::ScaledGemmQuantizeOp>(use.getOwner());
  return q && &use == &q.getWeightMutable();
}

/// Whether `weight` is the weight operand of an FP8 GEMM (then every use
/// is: vrt-quantize-gemms only rewrites such weights, and the emitter checks
/// it).
bool isScaledGemmWeight(Value weight) {
  return llvm::any_of(weight.getUses(), isFp8WeightUse);
}

/// Whether the FP8 weight `weight` is stored with one scale for the whole
/// tensor (an FP8-output GEMM reads it; the others read it as row-scaled).
bool isTensorScaledWeight(Value weight) {
  return llvm::any_of(weight.getUsers(), [](Operation *user) {
    return isa<vrt::ScaledGemmQuantizeOp>(user);
  });
}

/// An error unless every use of `w` is as an FP8 GEMM's weight: the session
/// stores it once, in FP8.
LogicalResult checkFp8WeightUses(Value w) {
  for (OpOperand &use : w.getUses())
    if (!isFp8WeightUse(use))
      return use.getOwner()->emitOpError("reads weight ")
             << w.getDefiningOp<vrt::WeightOp>().getName()
             << ", which scaled GEMMs need stored in FP8";
  return success();
}

Storage ModelEmitter::storageOf(Value v) {
  Type t = elementTypeOf(v);
  if (t.isInteger(64))
    return Storage::I64;
  if (t.isInteger(32))
    return Storage::I32;
  if (t.isInteger(8))
    return t.isUnsignedInteger() ? Storage::U8 : Storage::I8;
  if (t.isInteger(1))
    return Storage::Bool;
  if (t.isF64())
    return Storage::F64;
  Value r = vrt::viewSource(v);
  // FP8 values and their fp32 scales keep their types on every target; a
  // weight of scaled GEMMs is stored in FP8 with row scales.
  if (vrt::keepsElementType(r))
    return isa<Float8E4M3FNType>(t) ? Storage::F8E4M3 : Storage::F32;
  if (r.getDefiningOp<vrt::WeightOp>() && isScaledGemmWeight(r))
    return Storage::F8E4M3;
  // Model inputs keep their precision (a timestep must not round to bf16),
  // and so do weights that only generated kernels read (frequency tables,
  // modulation tables): kernels compute in fp32 from any storage.
  bool wide = isa<BlockArgument>(r) ||
              (r.getDefiningOp<vrt::WeightOp>() && !readByLibraryCall(r));
  if (cuda && !wide)
    return Storage::BF16;
  if (t.isF16())
    return Storage::F16;
  if (t.isBF16())
    return Storage::BF16;
  return Storage::F32;
}

std::string ModelEmitter::ptr(Value v) {
  v = vrt::viewSource(v);
  if (auto arg = dyn_cast<BlockArgument>(v))
    return llvm::formatv("inputs[{0}]", arg.getArgNumber()).str();
  Operation *def = v.getDefiningOp();
  if (isa<vrt::WeightOp>(def))
    return llvm::formatv("weights[{0}]", weightIndex.lookup(v)).str();
  int64_t offset = -1;
  if (auto one = def->getAttrOfType<IntegerAttr>("offset"))
    offset = one.getInt();
  else if (auto many = def->getAttrOfType<DenseI64ArrayAttr>("offsets"))
    offset = many[cast<OpResult>(v).getResultNumber()];
  return llvm::formatv("(arena + {0})", offset).str();
}

std::string ModelEmitter::typed(Value v, bool isConst) {
  if (cuda)
    return ptr(v);
  return llvm::formatv("({0}float *){1}", isConst ? "const " : "", ptr(v))
      .str();
}

LogicalResult ModelEmitter::emitPrologue() {
  os << "// Generated by vsac from model '" << options.modelName
     << "' (target " << (cuda ? "cuda" : "cpu") << "). Do not edit.\n";
  os << "#include <cmath>\n#include <cstdint>\n#include <cstring>\n";
  if (cuda)
    os << "#include <cuda_runtime.h>\n#include <cuda_bf16.h>\n"
          "#include \"vsart_cuda.h\"\n";
  os << "#include \"vsart.h\"\n#include \"vsart_model.h\"\n\n";
  os << "#define VSA_CHECK(call) do { vsart_status_t s_ = (call); "
        "if (s_ != VSART_OK) return s_; } while (0)\n\n";
  return success();
}

LogicalResult ModelEmitter::emitKernels() {
  // Blocks repeat: kernels with the same body and storage share one function.
  constexpr StringLiteral placeholder = "vsa_kernel_template";
  llvm::StringMap<std::string> byText;
  for (vrt::KernelOp k : func.getOps<vrt::KernelOp>()) {
    SmallVector<Storage> inputs =
        llvm::map_to_vector(k.getInputs(), [&](Value v) { return storageOf(v); });
    std::string name = k.getSymName().str(), text;
    llvm::raw_string_ostream body(text);
    k.setSymName(placeholder);
    LogicalResult emitted =
        emitKernel(k, options.target, inputs, storageOf(k.getResult()), body);
    k.setSymName(name);
    if (failed(emitted))
      return failure();
    auto [it, inserted] = byText.try_emplace(text, name);
    kernelFunction[k] = it->second;
    if (!inserted)
      continue;
    for (size_t pos = text.find(placeholder); pos != std::string::npos;
         pos = text.find(placeholder, pos + name.size()))
      text.replace(pos, placeholder.size(), name);
    os << text << "\n";
  }
  return success();
}

StringRef epilogueName(vrt::Epilogue e) {
  switch (e) {
  case vrt::Epilogue::gelu_tanh:
    return "VSART_EPILOGUE_GELU_TANH";
  case vrt::Epilogue::gelu_erf:
    return "VSART_EPILOGUE_GELU_ERF";
  case vrt::Epilogue::none:
    break;
  }
  return "VSART_EPILOGUE_NONE";
}

void ModelEmitter::emitQuantizeRows(vrt::QuantizeRowsOp op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  int64_t cols = shape.back(), rows = dit::numElements(shape.drop_back());
  std::string scales = "(float *)" + ptr(op.getScales());
  if (cuda)
    os << llvm::formatv("  VSA_CHECK(vsart_cuda_quantize_rows({0}, {1}, {2}, "
                        "{2}, {3}, {4}, stream));\n",
                        ptr(op.getInput()), rows, cols, ptr(op.getValues()),
                        scales);
  else
    os << llvm::formatv("  VSA_CHECK(vsart_cpu_quantize_rows({0}, {1}, {2}, "
                        "{2}, (uint8_t *){3}, {4}));\n",
                        typed(op.getInput()), rows, cols, ptr(op.getValues()),
                        scales);
}

template <class Op>
FailureOr<ModelEmitter::Fp8GemmCall> ModelEmitter::fp8GemmCall(Op op) {
  Value w = op.getWeight();
  if (failed(checkFp8WeightUses(w)))
    return failure();
  ArrayRef<int64_t> a = shapeOf(op.getLhs());
  return Fp8GemmCall{dit::numElements(a.drop_back()), shapeOf(w)[0],
                     a.back(),
                     op.getBias() ? typed(op.getBias()) : "nullptr",
                     floatLiteral(op.getAlpha().convertToDouble()),
                     "(const float *)" + ptr(op.getLhsScales()),
                     epilogueName(op.getEpilogue())};
}

LogicalResult ModelEmitter::emitScaledGemmQuantize(
    vrt::ScaledGemmQuantizeOp op) {
  FailureOr<Fp8GemmCall> g = fp8GemmCall(op);
  if (failed(g))
    return failure();
  std::string outScales = "(float *)" + ptr(op.getScales());
  if (cuda)
    os << llvm::formatv(
        "  VSA_CHECK(vsart_cuda_scaled_gemm_quantize({0}, {1}, {2}, {3}, {4}, "
        "{5}, {6}, {7}, {8}, {9}, {10}, stream));\n",
        g->m, g->n, g->k, g->alpha, ptr(op.getLhs()), g->scales,
        ptr(op.getWeight()), ptr(op.getValues()), outScales, g->bias,
        g->epilogue);
  else
    os << llvm::formatv(
        "  VSA_CHECK(vsart_cpu_scaled_gemm_quantize({0}, {1}, {2}, {3}, "
        "(const uint8_t *){4}, {5}, {6}, (uint8_t *){7}, {8}, {9}, {10}));\n",
        g->m, g->n, g->k, g->alpha, ptr(op.getLhs()), g->scales,
        ptr(op.getWeight()), ptr(op.getValues()), outScales, g->bias,
        g->epilogue);
  return success();
}

LogicalResult ModelEmitter::emitScaledGemm(vrt::ScaledGemmOp op) {
  FailureOr<Fp8GemmCall> call = fp8GemmCall(op);
  if (failed(call))
    return failure();
  Value w = op.getWeight();
  const int64_t m = call->m, n = call->n, k = call->k;
  const std::string &bias = call->bias, &alpha = call->alpha,
                    &scales = call->scales;
  StringRef epi = call->epilogue;
  if (Value residual = op.getResidual()) {
    // The gate's values start gate_offset elements into its buffer.
    std::string gate =
        op.getGate() ? llvm::formatv("(const char *){0} + {1}",
                                     ptr(op.getGate()),
                                     op.getGateOffset() *
                                         storageBytes(storageOf(op.getGate())))
                           .str()
                     : "nullptr";
    if (cuda)
      os << llvm::formatv(
          "  VSA_CHECK(vsart_cuda_scaled_gemm_residual({0}, {1}, {2}, {3}, "
          "{4}, {5}, {6}, {7}, {1}, {8}, {9}, {10}, stream));\n",
          m, n, k, alpha, ptr(op.getLhs()), scales, ptr(w),
          ptr(op.getResult()), bias, ptr(residual), gate);
    else
      os << llvm::formatv(
          "  VSA_CHECK(vsart_cpu_scaled_gemm_residual({0}, {1}, {2}, {3}, "
          "(const uint8_t *){4}, {5}, {6}, (float *){7}, {1}, {8}, {9}, "
          "{10}));\n",
          m, n, k, alpha, ptr(op.getLhs()), scales, ptr(w),
          ptr(op.getResult()), bias, typed(residual),
          op.getGate() ? "(const float *)(" + gate + ")" : gate);
    return success();
  }
  if (cuda)
    os << llvm::formatv("  VSA_CHECK(vsart_cuda_scaled_gemm({0}, {1}, {2}, {3}, "
                        "{4}, {5}, {6}, {7}, {1}, {8}, {9}, stream));\n",
                        m, n, k, alpha, ptr(op.getLhs()), scales, ptr(w),
                        ptr(op.getResult()), bias, epi);
  else
    os << llvm::formatv("  VSA_CHECK(vsart_cpu_scaled_gemm({0}, {1}, {2}, {3}, "
                        "(const uint8_t *){4}, {5}, {6}, (float *){7}, {1}, "
                        "{8}, {9}));\n",
                        m, n, k, alpha, ptr(op.getLhs()), scales, ptr(w),
                        ptr(op.getResult()), bias, epi);
  return success();
}

LogicalResult ModelEmitter::emitGemm(vrt::GemmOp op) {
  ArrayRef<int64_t> a = shapeOf(op.getLhs()), b = shapeOf(op.getRhs());
  bool ta = op.getTransA(), tb = op.getTransB();
  int64_t m = ta ? a.back() : a[a.size() - 2], k = ta ? a[a.size() - 2] : a.back();
  int64_t n = tb ? b[b.size() - 2] : b.back();
  int64_t batch = dit::numElements(a.drop_back(2));
  bool sharedRhs = b.size() == 2;
  // A weight shared by every batch row: one GEMM over all rows.
  if (sharedRhs && !ta) {
    m *= batch;
    batch = 1;
  }
  int64_t lda = ta ? m : k, ldb = tb ? k : n;
  int64_t strideA = m * k, strideB = sharedRhs ? 0 : k * n, strideC = m * n;
  StringRef epi = epilogueName(op.getEpilogue());
  std::string bias = op.getBias() ? typed(op.getBias()) : "nullptr";
  double alpha = op.getAlpha().convertToDouble();
  if (cuda) {
    os << llvm::formatv("  VSA_CHECK(vsart_cuda_gemm({0}, {1}, {2}, {3}, {4}, "
                        "{5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, {3}, {13}, "
                        "{14}, {15}, {16}, stream));\n",
                        int(ta), int(tb), m, n, k, floatLiteral(alpha), ptr(op.getLhs()), lda,
                        strideA, ptr(op.getRhs()), ldb, strideB,
                        ptr(op.getResult()), strideC, batch, bias, epi);
    return success();
  }
  os << llvm::formatv("  for (int64_t i = 0; i < {0}; ++i)\n", batch);
  os << llvm::formatv(
      "    VSA_CHECK(vsart_cpu_gemm({0}, {1}, {2}, {3}, {4}, {5}, {6} + i * "
      "{7}, {8}, {9} + i * {10}, {11}, 0.0f, ({12}float *){13} + i * {14}, {3}, "
      "{15}, {16}));\n",
      int(ta), int(tb), m, n, k, floatLiteral(alpha), typed(op.getLhs()), strideA, lda,
      typed(op.getRhs()), strideB, ldb, "", ptr(op.getResult()), strideC, bias,
      epi);
  return success();
}

/// Element strides (batch, head, seq) of a 4-d operand in `layout`.
std::array<int64_t, 3> attentionStrides(Value v, vrt::Layout layout) {
  ArrayRef<int64_t> s = shapeOf(v);
  int64_t rowStride = s[3], planeStride = s[2] * s[3];
  if (layout == vrt::Layout::bshd) // (B, S, H, D)
    return {s[1] * planeStride, s[3], planeStride};
  return {s[1] * planeStride, planeStride, rowStride};
}

template <typename AttentionLike>
void ModelEmitter::emitAttentionArgs(AttentionLike op) {
  auto q = vrt::AttentionOp::bhsdDims(op.getQuery().getType(), op.getQLayout());
  auto k = vrt::AttentionOp::bhsdDims(op.getKey().getType(), op.getKvLayout());
  auto strides = [&](Value v, vrt::Layout l) {
    auto s = attentionStrides(v, l);
    return llvm::formatv("{{{0}, {1}, {2}}", s[0], s[1], s[2]).str();
  };
  os << "    vsart_attention_args_t a = {};\n";
  os << llvm::formatv("    a.q = {0}; a.k = {1}; a.v = {2}; a.out = {3};\n",
                      ptr(op.getQuery()), ptr(op.getKey()), ptr(op.getValue()),
                      ptr(op.getResult()));
  os << llvm::formatv("    a.batch = {0}; a.num_heads = {1}; a.num_kv_heads = "
                      "{2}; a.seq_q = {3}; a.seq_kv = {4}; a.head_dim = {5};\n",
                      q[0], q[1], k[1], q[2], k[2], q[3]);
  auto set = [&](StringRef field, Value v, vrt::Layout l) {
    os << "    { const int64_t s[3] = " << strides(v, l)
       << "; std::memcpy(a." << field << ", s, sizeof s); }\n";
  };
  set("q_strides", op.getQuery(), op.getQLayout());
  set("k_strides", op.getKey(), op.getKvLayout());
  set("v_strides", op.getValue(), op.getKvLayout());
  set("out_strides", op.getResult(), op.getOutLayout());
  os << "    a.scale = " << floatLiteral(op.getScale().convertToDouble())
     << ";\n";
  if constexpr (std::is_same_v<AttentionLike, vrt::AttentionOp> ||
                std::is_same_v<AttentionLike, vrt::RingAttentionOp>)
    if (Value mask = op.getMask())
      emitMask("a", mask);
  if constexpr (std::is_same_v<AttentionLike, vrt::AttentionOp>)
    if (op.getFp8())
      os << "    a.fp8 = 1;\n";
}

void ModelEmitter::emitMask(StringRef args, Value mask) {
  ArrayRef<int64_t> m = shapeOf(mask);
  os << llvm::formatv("    {0}.mask = {1}; {0}.mask_dims[0] = {2}; "
                      "{0}.mask_dims[1] = {3}; {0}.mask_dims[2] = {4}; "
                      "{0}.mask_dims[3] = {5};\n",
                      args, ptr(mask), m[0], m[1], m[2], m[3]);
}

/// The largest block of constant block offsets `blocks` (0 when unknown).
static int64_t largestBlock(Value blocks) {
  auto w = vrt::viewSource(blocks).getDefiningOp<vrt::WeightOp>();
  auto values = w ? dyn_cast_or_null<DenseIntElementsAttr>(w.getValueAttr())
                  : DenseIntElementsAttr();
  if (!values)
    return 0;
  int64_t largest = 0, previous = 0;
  for (const APInt &v : values.getValues<APInt>()) {
    largest = std::max(largest, v.getSExtValue() - previous);
    previous = v.getSExtValue();
  }
  return largest;
}

void ModelEmitter::emitBlockSparseCall(vrt::AttentionOp op) {
  Value blocks = op.getBlockOffsets();
  int64_t numBlocks = shapeOf(blocks)[0] - 1;
  int64_t rotations = op.getRotations();
  int64_t numLists = shapeOf(op.getListOffsets())[0] / rotations - 1;
  auto q = vrt::AttentionOp::bhsdDims(op.getQuery().getType(), op.getQLayout());
  // With one batch entry per-head and per-(batch, head) lists coincide.
  StringRef scope = numLists == numBlocks ? "VSART_LISTS_SHARED"
                    : numLists == q[0] * q[1] * numBlocks
                        ? "VSART_LISTS_PER_BATCH_HEAD"
                        : "VSART_LISTS_PER_HEAD";
  os << "    vsart_block_sparse_args_t b = {};\n    b.attn = a;\n";
  if (op.getFp8()) // the dense path's only
    os << "    b.attn.fp8 = 0;\n";
  os << llvm::formatv("    b.num_q_blocks = b.num_kv_blocks = {0};\n"
                      "    b.q_block_offsets = b.kv_block_offsets = "
                      "(const int64_t *)({1});\n"
                      "    b.list_scope = {4};\n"
                      "    b.list_offsets = (const int64_t *)({2}){6};\n"
                      "    b.lists = (const int32_t *)({3});\n"
                      "    b.max_q_block = {5};\n",
                      numBlocks, ptr(blocks), ptr(op.getListOffsets()),
                      ptr(op.getLists()), scope, largestBlock(blocks),
                      rotations > 1
                          ? llvm::formatv(" + (ctx ? ctx->attention.step % "
                                          "{0} : 0) * {1}",
                                          rotations, numLists + 1)
                                .str()
                          : std::string());
  os << (cuda ? "    VSA_CHECK(vsart_cuda_block_sparse_attention(&b, stream));\n"
              : "    VSA_CHECK(vsart_cpu_block_sparse_attention(&b));\n");
}

std::string ModelEmitter::sparsePathGuard(Operation *attention) {
  return llvm::formatv("if (!vsart_attention_runs_dense(ctx, {0})) {{",
                       sparseIndex.lookup(attention))
      .str();
}

void ModelEmitter::emitAttention(vrt::AttentionOp op) {
  os << "  {\n";
  emitAttentionArgs(op);
  StringRef dense = cuda ? "VSA_CHECK(vsart_cuda_attention(&a, stream));"
                         : "VSA_CHECK(vsart_cpu_attention_strided(&a));";
  if (op.getBlockOffsets()) {
    // Attention is permutation-invariant, so the dense path may read the
    // tile-ordered operands as they are.
    os << "    " << sparsePathGuard(op) << "\n";
    emitBlockSparseCall(op);
    os << "    } else {\n      " << dense << "\n    }\n  }\n";
    return;
  }
  os << "    " << dense << "\n  }\n";
}

void ModelEmitter::emitVsaSelect(vrt::VsaSelectOp op) {
  auto q = vrt::AttentionOp::bhsdDims(op.getQuery().getType(), op.getQLayout());
  auto k = vrt::AttentionOp::bhsdDims(op.getKey().getType(), op.getKvLayout());
  auto qs = attentionStrides(op.getQuery(), op.getQLayout());
  auto ks = attentionStrides(op.getKey(), op.getKvLayout());
  int64_t numTiles = shapeOf(op.getTileOffsets())[0] - 1;
  // Its lists feed one attention, whose dense path needs no selection; the
  // coarse output (a gated VSA model) is needed on both paths.
  Operation *attention = *op.getLists().getUsers().begin();
  os << "  " << (op.getCoarse() ? "{" : sparsePathGuard(attention)) << "\n";
  os << "    vsart_vsa_select_args_t s = {};\n";
  os << llvm::formatv("    s.attn.q = {0}; s.attn.k = s.attn.v = {1};\n",
                      ptr(op.getQuery()), ptr(op.getKey()));
  os << llvm::formatv("    s.attn.batch = {0}; s.attn.num_heads = {1}; "
                      "s.attn.num_kv_heads = {2}; s.attn.seq_q = s.attn.seq_kv "
                      "= {3}; s.attn.head_dim = {4};\n",
                      q[0], q[1], k[1], q[2], q[3]);
  os << llvm::formatv("    {{ const int64_t qs[3] = {{{0}, {1}, {2}}, ks[3] = "
                      "{{{3}, {4}, {5}}; std::memcpy(s.attn.q_strides, qs, "
                      "sizeof qs); std::memcpy(s.attn.k_strides, ks, sizeof "
                      "ks); std::memcpy(s.attn.v_strides, ks, sizeof ks); }\n",
                      qs[0], qs[1], qs[2], ks[0], ks[1], ks[2]);
  if (Value coarse = op.getCoarse()) {
    auto vs = attentionStrides(op.getValue(), op.getKvLayout());
    auto cs = attentionStrides(coarse, vrt::Layout::bhsd);
    os << llvm::formatv("    s.attn.v = {0}; s.attn.out = {1};\n"
                        "    {{ const int64_t vs[3] = {{{2}, {3}, {4}}, os[3] "
                        "= {{{5}, {6}, {7}}; std::memcpy(s.attn.v_strides, "
                        "vs, sizeof vs); std::memcpy(s.attn.out_strides, os, "
                        "sizeof os); }\n",
                        ptr(op.getValue()), ptr(coarse), vs[0], vs[1], vs[2],
                        cs[0], cs[1], cs[2]);
  }
  if (Value pooledQ = op.getPooledQ())
    os << llvm::formatv("    s.pooled_q = (const float *)({0}); s.pooled_k = "
                        "(const float *)({1});\n",
                        ptr(pooledQ), ptr(op.getPooledK()));
  os << "    s.attn.scale = " << floatLiteral(op.getScale().convertToDouble())
     << ";\n";
  os << llvm::formatv(
      "    s.num_tiles = {0};\n"
      "    s.tile_offsets = (const int64_t *)({1});\n"
      "    s.top_k = vsart_vsa_top_k({0}, ctx && ctx->attention.sparsity >= 0 "
      "? ctx->attention.sparsity : {2});\n"
      "    s.list_offsets = (int64_t *)({3});\n"
      "    s.lists = (int32_t *)({4});\n",
      numTiles, ptr(op.getTileOffsets()),
      // A double literal: the interpreter decides top-k in double too.
      llvm::formatv("{0}", llvm::format("%.17g",
                                        op.getSparsity().convertToDouble()))
          .str(),
      ptr(op.getListOffsets()), ptr(op.getLists()));
  os << (cuda ? "    VSA_CHECK(vsart_cuda_vsa_select(&s, stream));\n"
              : "    VSA_CHECK(vsart_cpu_vsa_select(&s));\n");
  os << "  }\n";
}

void ModelEmitter::emitRingAttention(vrt::RingAttentionOp op) {
  os << "  {\n";
  emitAttentionArgs(op);
  std::string local = "nullptr";
  if (Value lk = op.getLocalKey()) {
    // Keys every rank holds whole (bhsd), attended once besides the ring.
    ArrayRef<int64_t> l = shapeOf(lk);
    os << llvm::formatv(
        "    vsart_attention_args_t local = {{};\n"
        "    local.k = {0}; local.v = {1}; local.seq_kv = {2};\n"
        "    {{ const int64_t s[3] = {{{3}, {4}, {5}}; std::memcpy(local.k_strides, "
        "s, sizeof s); std::memcpy(local.v_strides, s, sizeof s); }\n",
        ptr(lk), ptr(op.getLocalValue()), l[2], l[1] * l[2] * l[3], l[2] * l[3],
        l[3]);
    if (Value lm = op.getLocalMask())
      emitMask("local", lm);
    local = "&local";
  }
  os << llvm::formatv("    VSA_CHECK(vsart_{0}_ring_attention(ctx && ctx->groups "
                      "? ctx->groups[{1}] : nullptr, {2}, &a, {6}, {7}, "
                      "{3}, {4}{5}));\n",
                      cuda ? "cuda" : "cpu", groupIndex.lookup(op),
                      op.getGroupSize(), ptr(op.getScratch()),
                      shapeOf(op.getScratch())[0], cuda ? ", stream" : "",
                      local, op.getValidKeys() ? *op.getValidKeys() : 0);
  os << "  }\n";
}

void ModelEmitter::emitUlyssesAttention(vrt::UlyssesAttentionOp op) {
  ArrayRef<int64_t> q = shapeOf(op.getQuery());
  os << "  {\n";
  os << "    vsart_attention_args_t a = {};\n";
  os << llvm::formatv("    a.q = {0}; a.k = {1}; a.v = {2}; a.out = {3};\n",
                      ptr(op.getQuery()), ptr(op.getKey()), ptr(op.getValue()),
                      ptr(op.getResult()));
  os << llvm::formatv("    a.batch = {0}; a.num_heads = a.num_kv_heads = {1}; "
                      "a.seq_q = a.seq_kv = {2}; a.head_dim = {3};\n",
                      q[0], q[1], q[2], q[3]);
  os << llvm::formatv("    {{ const int64_t s[3] = {{{0}, {1}, {2}}; for (int i = "
                      "0; i < 3; ++i) a.q_strides[i] = a.k_strides[i] = "
                      "a.v_strides[i] = a.out_strides[i] = s[i]; }\n",
                      q[1] * q[2] * q[3], q[2] * q[3], q[3]);
  os << "    a.scale = " << floatLiteral(op.getScale().convertToDouble())
     << ";\n";
  os << llvm::formatv("    VSA_CHECK(vsart_{0}_ulysses_attention(ctx && "
                      "ctx->groups ? ctx->groups[{1}] : nullptr, {2}, &a, {3}, "
                      "{4}, {5}{6}));\n",
                      cuda ? "cuda" : "cpu", groupIndex.lookup(op),
                      op.getGroupSize(), op.getChunks(), ptr(op.getScratch()),
                      shapeOf(op.getScratch())[0], cuda ? ", stream" : "");
  os << "  }\n";
}

void ModelEmitter::emitSemanticAttention(vrt::SemanticAttentionOp op) {
  int64_t flag = semanticIndex.lookup(op);
  int64_t scratch = shapeOf(op.getScratch())[0];
  os << "  {\n";
  emitAttentionArgs(op);
  os << "    " << sparsePathGuard(op) << "\n";
  os << "      char *state = ctx ? static_cast<char *>(ctx->state) : nullptr;\n"
        "      vsart_semantic_state_t st = {};\n";
  os << llvm::formatv("      if (state) {{ st.q_centroids = (float *)(state + "
                      "{0}); st.k_centroids = (float *)(state + {1}); }\n",
                      op.getStateOffset().value_or(0),
                      op.getStateOffset().value_or(0) + op.kCentroidsOffset());
  os << llvm::formatv("      st.initialized = semantic_warm[{0}];\n", flag);
  os << "      vsart_semantic_args_t s = {};\n      s.attn = a;\n";
  os << llvm::formatv(
      "      s.num_q_clusters = {0}; s.num_kv_clusters = {1};\n"
      "      s.iterations_first = {2}; s.iterations_warm = {3};\n"
      "      s.top_p = ctx && ctx->attention.top_p >= 0 ? "
      "float(ctx->attention.top_p) : {4};\n"
      "      s.min_kept_fraction = {5};\n"
      "      s.state = &st;\n"
      "      s.scratch = {6}; s.scratch_bytes = {7};\n",
      op.getQClusters(), op.getKvClusters(), op.getIterations(),
      op.getWarmIterations(), floatLiteral(op.getTopP().convertToDouble()),
      floatLiteral(op.getMinKept().convertToDouble()), ptr(op.getScratch()),
      scratch);
  os << (cuda ? "      VSA_CHECK(vsart_cuda_semantic_attention(&s, stream));\n"
              : "      VSA_CHECK(vsart_cpu_semantic_attention(&s));\n");
  // The flag persists with the centroids: later forwards of this video start
  // warm, also after forwards that ran this attention dense.
  os << llvm::formatv(
      "      if (!semantic_warm[{0}]) {{\n"
      "        static const int32_t warm = 1;\n"
      "        VSA_CHECK(({1})->upload(state + {2}, &warm, sizeof warm, "
      "stream));\n"
      "        semantic_warm[{0}] = 1;\n      }\n",
      flag, deviceOps(), 4 * flag);
  os << "    } else {\n      "
     << (cuda ? "VSA_CHECK(vsart_cuda_attention(&a, stream));"
              : "VSA_CHECK(vsart_cpu_attention_strided(&a));")
     << "\n    }\n  }\n";
}

void ModelEmitter::emitNorm(vrt::NormOp op) {
  ArrayRef<int64_t> s = shapeOf(op.getInput());
  int64_t dim = s.back(), rows = dit::numElements(s) / std::max<int64_t>(dim, 1);
  Value shift = op.getModShift();
  std::string fn = (Twine(cuda ? "vsart_cuda_" : "vsart_cpu_") +
                    (op.getKind() == vrt::NormKind::layer ? "layer_norm"
                                                          : "rms_norm") +
                    (shift ? "_modulate" : ""))
                       .str();
  // The modulated form takes (batch, seq) rows, one modulation row a batch.
  std::string sizes =
      shift ? llvm::formatv("{0}, {1}, {2}", shapeOf(shift)[0],
                            rows / shapeOf(shift)[0], dim)
                  .str()
            : llvm::formatv("{0}, {1}", rows, dim).str();
  std::string modulation =
      shift ? ", " + typed(shift) + ", " + typed(op.getModScale()) : "";
  os << llvm::formatv(
      "  VSA_CHECK({0}({1}, {2}, {3}, {4}, {5}, {6}{7}{8}));\n", fn,
      typed(op.getInput()), cuda ? ptr(op.getResult()) : typed(op.getResult(), false),
      sizes, op.getScale() ? typed(op.getScale()) : "nullptr",
      op.getBias() ? typed(op.getBias()) : "nullptr",
      floatLiteral(op.getEpsilon().convertToDouble()), modulation,
      cuda ? ", stream" : "");
}

void ModelEmitter::emitNormQuantize(vrt::NormQuantizeOp op) {
  ArrayRef<int64_t> s = shapeOf(op.getInput());
  int64_t dim = s.back(), rows = dit::numElements(s) / std::max<int64_t>(dim, 1);
  Value shift = op.getModShift();
  // The modulated form takes (batch, seq) rows, one modulation row a batch.
  int64_t batch = shift ? shapeOf(shift)[0] : 1;
  auto opt = [&](Value v) { return v ? ptr(v) : std::string("nullptr"); };
  os << "  {\n    vsart_norm_quantize_args_t n = {};\n";
  os << llvm::formatv(
      "    n.x = {0}; n.q = (uint8_t *){1}; n.scales = (float *){2};\n"
      "    n.batch = {3}; n.seq = {4}; n.dim = {5}; n.centered = {6};\n"
      "    n.scale = {7}; n.bias = {8}; n.mod_shift = {9}; n.mod_scale = {10};"
      " n.eps = {11};\n",
      ptr(op.getInput()), ptr(op.getValues()), ptr(op.getScales()), batch,
      rows / batch, dim, op.getKind() == vrt::NormKind::layer ? 1 : 0,
      opt(op.getScale()), opt(op.getBias()), opt(shift),
      opt(op.getModScale()), floatLiteral(op.getEpsilon().convertToDouble()));
  if (op.getPerTensor())
    os << "    n.per_tensor = 1;\n";
  os << (cuda ? "    VSA_CHECK(vsart_cuda_norm_quantize(&n, stream));\n"
              : "    VSA_CHECK(vsart_cpu_norm_quantize(&n));\n");
  os << "  }\n";
}

void ModelEmitter::emitNormRope(vrt::NormRopeOp op) {
  ArrayRef<int64_t> x = shapeOf(op.getInput());
  const int64_t d = 2 * shapeOf(op.getCos())[1];
  auto opt = [&](Value v) { return v ? ptr(v) : std::string("nullptr"); };
  os << "  {\n    vsart_norm_rope_args_t r = {};\n";
  os << llvm::formatv("    r.x = {0}; r.out = {1};\n"
                      "    r.batch = {2}; r.seq = {3}; r.heads = {4}; "
                      "r.head_dim = {5};\n"
                      "    r.centered = {6}; r.scale = {7}; r.bias = {8}; "
                      "r.eps = {9};\n"
                      "    r.cos = {10}; r.sin = {11}; r.heads_major = {12};\n",
                      ptr(op.getInput()), ptr(op.getResult()), x[0], x[1],
                      x[2] / d, d, op.getKind() == vrt::NormKind::layer ? 1 : 0,
                      opt(op.getScale()), opt(op.getBias()),
                      floatLiteral(op.getEpsilon().convertToDouble()),
                      ptr(op.getCos()), ptr(op.getSin()),
                      op.getHeadsMajor() ? 1 : 0);
  if (Value pooled = op.getPooled())
    os << llvm::formatv("    r.tile_offsets = (const int64_t *)({0}); "
                        "r.num_tiles = {1}; r.pooled = (float *)({2});\n",
                        ptr(op.getTiles()), shapeOf(op.getTiles())[0] - 1,
                        ptr(pooled));
  os << (cuda ? "    VSA_CHECK(vsart_cuda_norm_rope(&r, stream));\n"
              : "    VSA_CHECK(vsart_cpu_norm_rope(&r));\n");
  os << "  }\n";
}

void ModelEmitter::emitSoftmax(vrt::SoftmaxOp op) {
  ArrayRef<int64_t> s = shapeOf(op.getInput());
  int64_t dim = s.back(), rows = dit::numElements(s) / std::max<int64_t>(dim, 1);
  os << llvm::formatv("  VSA_CHECK({0}({1}, {2}, {3}, {4}{5}));\n",
                      cuda ? "vsart_cuda_softmax" : "vsart_cpu_softmax",
                      typed(op.getInput()),
                      cuda ? ptr(op.getResult()) : typed(op.getResult(), false),
                      rows, dim, cuda ? ", stream" : "");
}

void ModelEmitter::emitKernelCall(vrt::KernelOp op) {
  os << "  {\n    const void *in[] = {";
  llvm::interleaveComma(op.getInputs(), os, [&](Value v) { os << ptr(v); });
  if (op.getInputs().empty())
    os << "nullptr";
  os << "};\n    VSA_CHECK(" << kernelFunction.lookup(op) << "(in, " << ptr(op.getResult())
     << ", stream));\n  }\n";
}


/// (group_size, group_stride) of a collective, or (0, 0) for other ops.
std::pair<int64_t, int64_t> collectiveGroup(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::pair<int64_t, int64_t>>(op)
      .Case([](vrt::AllToAllOp a) {
        return std::pair<int64_t, int64_t>(a.getGroupSize(),
                                           a.getGroupStride());
      })
      .Case([](vrt::AllGatherOp g) {
        return std::pair<int64_t, int64_t>(g.getGroupSize(),
                                           g.getGroupStride());
      })
      .Case([](vrt::ShardOp s) {
        return std::pair<int64_t, int64_t>(s.getGroupSize(),
                                           s.getGroupStride());
      })
      .Case([](vrt::RingAttentionOp r) {
        return std::pair<int64_t, int64_t>(r.getGroupSize(),
                                           r.getGroupStride());
      })
      .Case([](vrt::UlyssesAttentionOp u) {
        return std::pair<int64_t, int64_t>(u.getGroupSize(),
                                           u.getGroupStride());
      })
      .Default([](Operation *) { return std::pair<int64_t, int64_t>(0, 0); });
}

LogicalResult ModelEmitter::emitCollective(Operation *op) {
  Value in = op->getOperand(0), out = op->getResult(0);
  // The collective moves bytes: its operand must already be stored like
  // its result (on CUDA a model input keeps f32 while activations are bf16).
  if (storageOf(in) != storageOf(out))
    return op->emitOpError("reads a value stored as ")
           << storageCType(storageOf(in)) << " but its result is stored as "
           << storageCType(storageOf(out))
           << ": copy it into the arena first (an identity vrt.kernel)";
  ArrayRef<int64_t> dims = shapeOf(in);
  os << "  {\n    static const int64_t dims[] = {";
  llvm::interleaveComma(dims, os);
  if (dims.empty())
    os << "0";
  os << "};\n";
  int64_t group = collectiveGroup(op).first;
  std::string common =
      llvm::formatv("ctx && ctx->groups ? ctx->groups[{4}] : nullptr, {0}, "
                    "{1}, {2}, {3}, dims",
                    group, ptr(in), ptr(out), dims.size(),
                    groupIndex.lookup(op))
          .str();
  std::string tail =
      llvm::formatv("{0}, nullptr{1}", storageBytes(storageOf(out)),
                    cuda ? ", stream" : "")
          .str();
  StringRef prefix = cuda ? "vsart_cuda_" : "vsart_cpu_";
  if (auto shard = dyn_cast<vrt::ShardOp>(op))
    os << llvm::formatv("    VSA_CHECK({0}shard_copy({1}, {2}, {3}{4}));\n",
                        prefix, common, shard.getAxis(),
                        storageBytes(storageOf(out)),
                        cuda ? ", stream" : "");
  else if (auto a2a = dyn_cast<vrt::AllToAllOp>(op);
           a2a && a2a.getInputs().size() > 1) {
    // Packed: every tensor through one collective.
    os << "    const void *in[] = {";
    llvm::interleaveComma(a2a.getInputs(), os, [&](Value v) { os << ptr(v); });
    os << "};\n    void *out[] = {";
    llvm::interleaveComma(a2a.getResults(), os,
                          [&](Value v) { os << ptr(v); });
    os << "};\n";
    os << llvm::formatv(
        "    VSA_CHECK({0}all_to_all_n(ctx && ctx->groups ? ctx->groups[{1}] "
        ": nullptr, {2}, {3}, in, out, {4}, dims, {5}, {6}, {7}));\n",
        prefix, groupIndex.lookup(op), group, a2a.getInputs().size(),
        dims.size(), a2a.getScatterAxis(), a2a.getGatherAxis(), tail);
  } else if (a2a) {
    os << llvm::formatv("    VSA_CHECK({0}all_to_all({1}, {2}, {3}, {4}));\n",
                        prefix, common, a2a.getScatterAxis(),
                        a2a.getGatherAxis(), tail);
  }
  else
    os << llvm::formatv("    VSA_CHECK({0}all_gather({1}, {2}, {3}));\n",
                        prefix, common, cast<vrt::AllGatherOp>(op).getAxis(),
                        tail);
  os << "  }\n";
  return success();
}

LogicalResult ModelEmitter::emitOp(Operation *op) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](vrt::WeightOp) { return success(); })
      .Case([&](vrt::ViewOp) { return success(); })
      .Case([&](vrt::GemmOp g) { return emitGemm(g); })
      .Case([&](vrt::QuantizeRowsOp q) {
        emitQuantizeRows(q);
        return success();
      })
      .Case([&](vrt::ScaledGemmOp g) { return emitScaledGemm(g); })
      .Case([&](vrt::ScaledGemmQuantizeOp g) {
        return emitScaledGemmQuantize(g);
      })
      .Case([&](vrt::AttentionOp a) {
        emitAttention(a);
        return success();
      })
      .Case([&](vrt::RingAttentionOp r) -> LogicalResult {
        int64_t need = r.scratchBytes(cuda ? 2 : 4);
        if (shapeOf(r.getScratch())[0] < need)
          return r.emitOpError("scratch of ")
                 << shapeOf(r.getScratch())[0] << " bytes, the "
                 << (cuda ? "cuda" : "cpu") << " kernel needs " << need
                 << ": plan memory for this target";
        emitRingAttention(r);
        return success();
      })
      .Case([&](vrt::UlyssesAttentionOp u) -> LogicalResult {
        int64_t need = u.scratchBytes(cuda ? 2 : 4);
        if (shapeOf(u.getScratch())[0] < need)
          return u.emitOpError("scratch of ")
                 << shapeOf(u.getScratch())[0] << " bytes, the "
                 << (cuda ? "cuda" : "cpu") << " kernel needs " << need
                 << ": plan memory for this target";
        emitUlyssesAttention(u);
        return success();
      })
      .Case([&](vrt::SemanticAttentionOp a) -> LogicalResult {
        int64_t need = a.scratchBytes(cuda);
        if (shapeOf(a.getScratch())[0] < need)
          return a.emitOpError("scratch of ")
                 << shapeOf(a.getScratch())[0] << " bytes, the "
                 << (cuda ? "cuda" : "cpu") << " kernel needs " << need
                 << ": plan memory for this target";
        if (!a.getStateOffset())
          return a.emitOpError("has no state_offset: run vrt-plan-memory "
                               "first");
        emitSemanticAttention(a);
        return success();
      })
      .Case([&](vrt::VsaSelectOp v) -> LogicalResult {
        if (!v.getLists().hasOneUse() ||
            !isa<vrt::AttentionOp>(*v.getLists().getUsers().begin()))
          return v.emitOpError("lists must feed exactly one attention");
        emitVsaSelect(v);
        return success();
      })
      .Case([&](vrt::NormOp n) {
        emitNorm(n);
        return success();
      })
      .Case([&](vrt::NormQuantizeOp n) {
        emitNormQuantize(n);
        return success();
      })
      .Case([&](vrt::NormRopeOp n) {
        emitNormRope(n);
        return success();
      })
      .Case([&](vrt::SoftmaxOp s) {
        emitSoftmax(s);
        return success();
      })
      .Case([&](vrt::KernelOp k) {
        emitKernelCall(k);
        return success();
      })
      .Case<vrt::AllToAllOp, vrt::AllGatherOp, vrt::ShardOp>(
          [&](Operation *c) { return emitCollective(c); })
      .Case([&](func::ReturnOp ret) {
        for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
          auto type = cast<RankedTensorType>(v.getType());
          int64_t bytes = type.getNumElements() * storageBytes(storageOf(v));
          if (cuda)
            os << llvm::formatv("  if (cudaMemcpyAsync(outputs[{0}], {1}, {2}, "
                                "cudaMemcpyDeviceToDevice, "
                                "static_cast<cudaStream_t>(stream)) != "
                                "cudaSuccess)\n    return VSART_ERROR_INVALID_ARGUMENT;\n",
                                i, ptr(v), bytes);
          else
            os << llvm::formatv("  std::memcpy(outputs[{0}], {1}, {2});\n", i,
                                ptr(v), bytes);
        }
        return success();
      })
      .Default([&](Operation *other) {
        return other->emitOpError("cannot be emitted for the ")
               << (cuda ? "cuda" : "cpu") << " target";
      });
}

LogicalResult ModelEmitter::emitForward() {
  os << "static vsart_status_t vsa_forward(void *const *inputs, void *const "
        "*outputs, const void *const *weights, void *arena_ptr, void "
        "*stream, const vsart_run_context_t *ctx) {\n";
  os << "  if (vsart_profile_enabled()) vsart_profile_forward();\n";
  os << "  char *arena = static_cast<char *>(arena_ptr);\n"
        "  (void)inputs; (void)outputs; (void)weights; (void)arena; "
        "(void)stream; (void)ctx;\n";
  if (!semanticIndex.empty()) {
    // Whether each semantic attention's centroids are warm: int32 flags at
    // the start of the persistent state, zero in a new video.
    os << llvm::formatv(
        "  int32_t semantic_warm[{0}] = {{};\n"
        "  if (ctx && ctx->state && ctx->state_calls > 0)\n"
        "    VSA_CHECK(({1})->download(semantic_warm, ctx->state, sizeof "
        "semantic_warm, stream));\n",
        semanticIndex.size(), deviceOps());
  }
  for (Operation &op : func.getBody().front()) {
    if (!isa<vrt::WeightOp, vrt::ViewOp, func::ReturnOp>(op)) {
      std::string text;
      llvm::raw_string_ostream line(text);
      op.print(line, OpPrintingFlags().skipRegions().elideLargeElementsAttrs(4));
      os << "  // " << StringRef(text).split('\n').first.take_front(160) << "\n";
    }
    bool timed = op.hasAttr("offset") || op.hasAttr("offsets");
    StringRef kind = timed ? op.getName().stripDialect() : "";
    if (timed)
      os << "  if (vsart_profile_enabled()) vsart_profile_op(\"" << kind
         << "\", " << deviceOps() << ", stream, 0);\n";
    if (failed(emitOp(&op)))
      return failure();
    if (timed) {
      os << "  if (vsart_profile_enabled()) vsart_profile_op(\"" << kind
         << "\", " << deviceOps() << ", stream, 1);\n";
      if (op.getNumResults() == 1 ||
          isa<vrt::SemanticAttentionOp, vrt::RingAttentionOp,
              vrt::UlyssesAttentionOp, vrt::AllToAllOp>(op))
        emitDump(&op, numDumps++); // the (first) output, not the scratch
    }
  }
  os << "  return VSART_OK;\n}\n\n";
  return success();
}

void ModelEmitter::emitDump(Operation *op, unsigned index) {
  Value v = op->getResult(0);
  auto type = cast<RankedTensorType>(v.getType());
  std::string name = op->getName().stripDialect().str();
  if (auto k = dyn_cast<vrt::KernelOp>(op))
    name = k.getSymName().str();
  StringRef storage = storageOf(v) == Storage::BF16
                          ? "VSART_DTYPE_BF16"
                          : dtypeName(type.getElementType());
  os << "  if (vsart_dump_enabled()) {\n    static const int64_t dims[] = {";
  llvm::interleaveComma(type.getShape(), os);
  if (type.getRank() == 0)
    os << "0";
  os << llvm::formatv("};\n    VSA_CHECK(vsart_dump_tensor({0}, \"{1}\", {2}, {3}, "
                      "{4}, dims, {5}, stream));\n  }\n",
                      index, name, ptr(v), storage, type.getRank(),
                      deviceOps());
}

void ModelEmitter::emitTensorDesc(StringRef name, Value v, bool isInput) {
  auto type = cast<RankedTensorType>(v.getType());
  Storage s = storageOf(v);
  StringRef storage =
      s == Storage::BF16 ? "VSART_DTYPE_BF16"
      : s == Storage::F8E4M3
          ? runtimeDtypeName(isTensorScaledWeight(v)
                                 ? VSART_DTYPE_F8E4M3_TENSOR
                                 : VSART_DTYPE_F8E4M3_ROWS)
          : dtypeName(type.getElementType());
  os << "  {" << cString(name) << ", " << dtypeName(type.getElementType())
     << ", " << storage << ", " << type.getRank() << ", {";
  llvm::interleaveComma(type.getShape(), os);
  os << "}},\n";
}

LogicalResult ModelEmitter::emitDescriptor() {
  auto nameOf = [&](ArrayRef<DictionaryAttr> attrs, unsigned i,
                    StringRef prefix) -> std::string {
    if (i < attrs.size() && attrs[i])
      if (auto n = attrs[i].getAs<StringAttr>("dit.name"))
        return n.str();
    return (prefix + Twine(i)).str();
  };
  SmallVector<DictionaryAttr> argAttrs, resAttrs;
  func.getAllArgAttrs(argAttrs);
  func.getAllResultAttrs(resAttrs);
  os << "static const vsart_tensor_desc_t vsa_inputs[] = {\n";
  for (BlockArgument arg : func.getArguments())
    emitTensorDesc(nameOf(argAttrs, arg.getArgNumber(), "input"), arg, true);
  if (func.getNumArguments() == 0)
    os << "  {}\n";
  os << "};\nstatic const vsart_tensor_desc_t vsa_outputs[] = {\n";
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  for (auto [i, v] : llvm::enumerate(ret.getOperands()))
    emitTensorDesc(nameOf(resAttrs, i, "output"), v, false);
  os << "};\nstatic const vsart_tensor_desc_t vsa_weights[] = {\n";
  for (Value w : weights)
    emitTensorDesc(w.getDefiningOp<vrt::WeightOp>().getName(), w, false);
  if (weights.empty())
    os << "  {}\n";
  auto arena = func->getAttrOfType<IntegerAttr>(vrt::kArenaBytesAttr);
  os << "};\n";
  if (!groups.empty()) {
    os << "static const vsart_comm_group_t vsa_groups[] = {";
    llvm::interleaveComma(groups, os, [&](std::pair<int64_t, int64_t> g) {
      os << "{" << g.first << ", " << g.second << "}";
    });
    os << "};\n";
  }
  os << "\nextern \"C\" const vsart_model_t *vsa_model(void) {\n"
     << "  static const vsart_model_t model = {\n"
     << "    VSART_MODEL_ABI_VERSION, " << cString(options.modelName) << ", "
     << (cuda ? "VSART_TARGET_CUDA, &vsart_cuda_device_ops"
              : "VSART_TARGET_CPU, &vsart_cpu_device_ops")
     << ",\n    " << func.getNumArguments() << ", vsa_inputs, "
     << ret.getNumOperands() << ", vsa_outputs, " << weights.size()
     << ", vsa_weights,\n    " << arena.getInt() << "u, vsa_forward, "
     << numRanks << ", " << groups.size() << ", "
     << (groups.empty() ? "nullptr" : "vsa_groups") << ", " << stateBytes()
     << "u};\n"
     << "  return &model;\n}\n";
  if (options.withMain)
    os << "\n#ifndef VSA_NO_MAIN\nint main(int argc, char **argv) {\n"
          "  return "
       << (cuda ? "vsart_cuda_exe_main" : "vsart_exe_main")
       << "(argc, argv, vsa_model());\n}\n#endif\n";
  return success();
}

LogicalResult ModelEmitter::collectGroups() {
  auto world = func->getAttrOfType<IntegerAttr>(vrt::kNumRanksAttr);
  if (world)
    numRanks = world.getInt();
  for (Operation &op : func.getBody().front()) {
    auto [size, stride] = collectiveGroup(&op);
    if (!size)
      continue;
    // Without a declared world, every collective spans the same one group.
    if (!world && (stride != 1 || (numRanks && size != numRanks)))
      return op.emitOpError("has group_size ")
             << size << " (stride " << stride << ") but "
             << (numRanks ? "an earlier collective has " + std::to_string(numRanks)
                          : std::string("the function declares no world"))
             << ": set " << vrt::kNumRanksAttr << " for several groups";
    if (!world)
      numRanks = size;
    if (numRanks % (size * stride))
      return op.emitOpError("group of ")
             << size << " ranks at stride " << stride << " does not tile "
             << numRanks << " ranks";
    auto *it = llvm::find(groups, std::make_pair(size, stride));
    groupIndex[&op] = it - groups.begin();
    if (it == groups.end())
      groups.emplace_back(size, stride);
  }
  if (numRanks > 1024 || numRanks < 0)
    return func.emitError("world of ") << numRanks << " ranks is not in [0, 1024]";
  return success();
}

uint64_t ModelEmitter::stateBytes() {
  auto bytes = func->getAttrOfType<IntegerAttr>(vrt::kStateBytesAttr);
  return bytes ? bytes.getInt() : 0;
}

LogicalResult ModelEmitter::emit() {
  if (!func->getAttrOfType<IntegerAttr>(vrt::kArenaBytesAttr))
    return func.emitError("has no memory plan: run vrt-plan-memory first");
  for (Operation &op : func.getBody().front()) {
    if (isa<vrt::VrtDialect, func::FuncDialect>(op.getDialect()))
      continue;
    return op.emitOpError("is not a vrt op: lower the function to vrt first");
  }
  for (auto w : func.getOps<vrt::WeightOp>()) {
    if (dtypeName(w.getType().getElementType()).empty())
      return w.emitOpError("has an element type the runtime cannot hold");
    weightIndex[w.getResult()] = weights.size();
    weights.push_back(w.getResult());
  }
  for (Operation &op : func.getBody().front()) {
    auto a = dyn_cast<vrt::AttentionOp>(op);
    if ((a && a.getBlockOffsets()) || isa<vrt::SemanticAttentionOp>(op))
      sparseIndex[&op] = sparseIndex.size();
    if (isa<vrt::SemanticAttentionOp>(op))
      semanticIndex[&op] = semanticIndex.size();
  }
  if (failed(collectGroups()))
    return failure();
  for (BlockArgument arg : func.getArguments())
    if (dtypeName(elementTypeOf(arg)).empty())
      return func.emitError("input ")
             << arg.getArgNumber() << " has an element type the runtime "
             << "cannot hold: " << arg.getType();
  if (failed(emitPrologue()) || failed(emitKernels()) ||
      failed(emitForward()) || failed(emitDescriptor()))
    return failure();
  return success();
}

} // namespace

std::optional<vsart_dtype_t> vsa::target::runtimeDtype(Type t) {
  if (t.isF32())
    return VSART_DTYPE_F32;
  if (t.isF16())
    return VSART_DTYPE_F16;
  if (t.isBF16())
    return VSART_DTYPE_BF16;
  if (t.isInteger(64))
    return VSART_DTYPE_I64;
  if (t.isInteger(32))
    return VSART_DTYPE_I32;
  if (t.isInteger(8))
    return VSART_DTYPE_U8;
  if (t.isInteger(1))
    return VSART_DTYPE_BOOL;
  return std::nullopt;
}

StringRef vsa::target::runtimeDtypeName(vsart_dtype_t dtype) {
  switch (dtype) {
  case VSART_DTYPE_F32:
    return "VSART_DTYPE_F32";
  case VSART_DTYPE_F16:
    return "VSART_DTYPE_F16";
  case VSART_DTYPE_BF16:
    return "VSART_DTYPE_BF16";
  case VSART_DTYPE_I64:
    return "VSART_DTYPE_I64";
  case VSART_DTYPE_I32:
    return "VSART_DTYPE_I32";
  case VSART_DTYPE_U8:
    return "VSART_DTYPE_U8";
  case VSART_DTYPE_BOOL:
    return "VSART_DTYPE_BOOL";
  case VSART_DTYPE_F8E4M3_ROWS:
    return "VSART_DTYPE_F8E4M3_ROWS";
  case VSART_DTYPE_F8E4M3_TENSOR:
    return "VSART_DTYPE_F8E4M3_TENSOR";
  }
  return "";
}

FailureOr<func::FuncOp> vsa::target::getProgram(ModuleOp module) {
  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  if (funcs.size() != 1 || funcs[0].getBody().getBlocks().size() != 1)
    return module.emitError("expected one function with one block, found ")
           << funcs.size() << " functions";
  return funcs[0];
}

LogicalResult vsa::target::emitModel(ModuleOp module, const EmitOptions &options,
                                     llvm::raw_ostream &os) {
  FailureOr<func::FuncOp> func = getProgram(module);
  if (failed(func))
    return failure();
  return ModelEmitter(*func, options, os).emit();
}
