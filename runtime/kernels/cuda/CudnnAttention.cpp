// Attention through cuDNN's fused flash-attention ("SDPA" fprop) engine,
// reached with the cuDNN 9 backend API only and loaded at run time:
// libcudnn.so.9 (or libcudnn.so) is dlopen'ed on first use, so executables
// have no link-time dependency on cuDNN and fall back to our own kernel
// (Attention.cu) when it is missing or cannot run a case (a mask, head_dim
// not a multiple of 8 or above 256, misaligned operands, no keys, a scale
// that is not positive, or a graph cuDNN builds no plan for).
//
// The operation graph is the one the fused engine recognises:
//   S = Q K^T (fp32) ; S *= scale (by-value) ; M = max_j S ; E = exp(S - M) ;
//   L = sum_j E ; stats = M + log L ; P = E / L (bf16) ; O = P V
// where stats (each query row's log-sum-exp) is an output when the caller
// asks for it (ring attention merges partial outputs with it) and virtual
// otherwise,
// with Q (b, h, s_q, d), K^T (b, h_kv, d, s_kv) (K's strides swapped), V
// (b, h_kv, s_kv, d) and O (b, h, s_q, d) addressed with the caller's
// element strides, head_dim contiguous. An execution plan is built once per
// shape/stride/scale key (heuristic mode A, the first engine config that
// finalizes) and cached, a failed build too; one handle and one device
// workspace (grown on demand) serve each device, guarded by its mutex.
#include "Common.h"
#include "DynamicLibrary.h"

#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#if __has_include(<cudnn_graph.h>)
#include <cudnn_graph.h>
#include <dlfcn.h>
#define VSART_HAVE_CUDNN_HEADERS 1
#else
#define VSART_HAVE_CUDNN_HEADERS 0
#endif

namespace {

// -1: not read yet (VSART_ATTENTION decides); otherwise a path value.
std::atomic<int> gPath{-1};

/// VSART_ATTENTION: unset, "" or "auto" -> AUTO, "own" -> OWN,
/// "cudnn" -> CUDNN; anything else -> -2 (an error at each call).
int pathFromEnv() {
  const char *env = std::getenv("VSART_ATTENTION");
  if (!env || !*env || std::strcmp(env, "auto") == 0)
    return VSART_ATTENTION_AUTO;
  if (std::strcmp(env, "own") == 0)
    return VSART_ATTENTION_OWN;
  if (std::strcmp(env, "cudnn") == 0)
    return VSART_ATTENTION_CUDNN;
  return -2;
}

} // namespace

#if VSART_HAVE_CUDNN_HEADERS
namespace {

// ---- the functions of libcudnn we use --------------------------------------

struct Api {
  size_t (*getVersion)() = nullptr;
  const char *(*errorString)(cudnnStatus_t) = nullptr;
  void (*lastErrorString)(char *, size_t) = nullptr; // optional
  cudnnStatus_t (*create)(cudnnHandle_t *) = nullptr;
  cudnnStatus_t (*setStream)(cudnnHandle_t, cudaStream_t) = nullptr;
  cudnnStatus_t (*createDesc)(cudnnBackendDescriptorType_t,
                              cudnnBackendDescriptor_t *) = nullptr;
  cudnnStatus_t (*destroyDesc)(cudnnBackendDescriptor_t) = nullptr;
  cudnnStatus_t (*setAttr)(cudnnBackendDescriptor_t, cudnnBackendAttributeName_t,
                           cudnnBackendAttributeType_t, int64_t,
                           const void *) = nullptr;
  cudnnStatus_t (*getAttr)(cudnnBackendDescriptor_t const,
                           cudnnBackendAttributeName_t,
                           cudnnBackendAttributeType_t, int64_t, int64_t *,
                           void *) = nullptr;
  cudnnStatus_t (*finalize)(cudnnBackendDescriptor_t) = nullptr;
  cudnnStatus_t (*execute)(cudnnHandle_t, cudnnBackendDescriptor_t,
                           cudnnBackendDescriptor_t) = nullptr;
  size_t version = 0;
  std::string error; // why the library is unusable, "" when it loaded
};

using vsart::cuda::bindSymbol;

Api loadApi() {
  Api api;
  void *lib = vsart::cuda::openLibrary({"libcudnn.so.9", "libcudnn.so"}, "cuDNN", api.error);
  if (!lib)
    return api;
  bool ok = bindSymbol(lib, "cudnnGetVersion", api.getVersion) &&
            bindSymbol(lib, "cudnnGetErrorString", api.errorString) &&
            bindSymbol(lib, "cudnnCreate", api.create) &&
            bindSymbol(lib, "cudnnSetStream", api.setStream) &&
            bindSymbol(lib, "cudnnBackendCreateDescriptor", api.createDesc) &&
            bindSymbol(lib, "cudnnBackendDestroyDescriptor", api.destroyDesc) &&
            bindSymbol(lib, "cudnnBackendSetAttribute", api.setAttr) &&
            bindSymbol(lib, "cudnnBackendGetAttribute", api.getAttr) &&
            bindSymbol(lib, "cudnnBackendFinalize", api.finalize) &&
            bindSymbol(lib, "cudnnBackendExecute", api.execute);
  bindSymbol(lib, "cudnnGetLastErrorString", api.lastErrorString);
  if (!ok) {
    api.error = "libcudnn lacks a backend API function";
    return api;
  }
  api.version = api.getVersion();
  if (api.version < 90000) // cuDNN 9 numbers versions major*10000 + ...
    api.error = "cuDNN " + std::to_string(api.version) +
                " is older than 9.0, which the fused attention needs";
  return api; // never dlclose'd: plans and the handle live in the library
}

const Api &api() {
  static const Api a = loadApi();
  return a;
}

std::string describe(cudnnStatus_t st) {
  std::string s = api().errorString ? api().errorString(st) : "cuDNN error";
  if (api().lastErrorString) {
    char buf[512] = {};
    api().lastErrorString(buf, sizeof(buf));
    if (buf[0])
      s += std::string(" (") + buf + ")";
  }
  return s;
}

// ---- plans -----------------------------------------------------------------

enum Uid : int64_t {
  kQ = 1, kK, kV, kO, kScale, kStats, // in the variant pack (kStats: asked)
  // FP8: the scalars of vsart::cuda::Fp8Scalar, in its order.
  kScalar0 = 10,
  kS = 100, kScaled, kMax, kSub, kExp, kSum, kLog, kP, // virtual
  kDescaledQ, kDescaledK, kP8, kO0, kO1, kO2 // virtual (FP8)
};

using Key = std::array<int64_t, 20>;
using KeyHash = vsart::cuda::ArrayHash;

/// Owns backend descriptors (the plan keeps those it was built from).
struct Descs {
  std::vector<cudnnBackendDescriptor_t> all;
  Descs() = default;
  Descs(const Descs &) = delete;
  Descs &operator=(const Descs &) = delete;
  ~Descs() {
    for (auto it = all.rbegin(); it != all.rend(); ++it)
      api().destroyDesc(*it);
  }
};

struct Plan {
  Descs descs;
  cudnnBackendDescriptor_t plan = nullptr; // null: cuDNN can't run the key
  int64_t workspace = 0;
  std::string error; // why not, when plan is null
};

/// Builds descriptors into `descs`, remembering the first failure.
class Builder {
public:
  Builder(Descs &descs, cudnnHandle_t handle) : descs_(descs), handle_(handle) {}
  const std::string &error() const { return error_; }

  cudnnBackendDescriptor_t make(cudnnBackendDescriptorType_t type) {
    cudnnBackendDescriptor_t d = nullptr;
    if (!error_.empty() || !check(api().createDesc(type, &d), "create"))
      return nullptr;
    descs_.all.push_back(d);
    return d;
  }
  void set(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name,
           cudnnBackendAttributeType_t type, int64_t count, const void *v) {
    if (error_.empty() && d)
      check(api().setAttr(d, name, type, count, v), "set attribute");
  }
  void setDesc(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name,
               cudnnBackendDescriptor_t v) {
    set(d, name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &v);
  }
  void setType(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name,
               cudnnDataType_t v) {
    set(d, name, CUDNN_TYPE_DATA_TYPE, 1, &v);
  }
  void finalize(cudnnBackendDescriptor_t d, const char *what) {
    if (error_.empty() && d)
      check(api().finalize(d), what);
  }

  cudnnBackendDescriptor_t tensor(int64_t uid, cudnnDataType_t type,
                                  std::array<int64_t, 4> dims,
                                  std::array<int64_t, 4> strides,
                                  bool isVirtual, bool byValue = false) {
    cudnnBackendDescriptor_t t = make(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
    const int64_t alignment = 16;
    setType(t, CUDNN_ATTR_TENSOR_DATA_TYPE, type);
    set(t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims.data());
    set(t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides.data());
    set(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
    set(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment);
    set(t, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &isVirtual);
    if (byValue)
      set(t, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &byValue);
    finalize(t, "tensor");
    return t;
  }

  /// y = mode(x[, b]) in fp32.
  cudnnBackendDescriptor_t pointwise(cudnnPointwiseMode_t mode,
                                     cudnnBackendDescriptor_t x,
                                     cudnnBackendDescriptor_t b,
                                     cudnnBackendDescriptor_t y) {
    cudnnBackendDescriptor_t pw = make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
    set(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode);
    setType(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_DATA_FLOAT);
    finalize(pw, "pointwise descriptor");
    cudnnBackendDescriptor_t op =
        make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
    setDesc(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw);
    setDesc(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x);
    if (b)
      setDesc(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, b);
    setDesc(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y);
    finalize(op, "pointwise operation");
    return op;
  }

  /// y = reduce(x) over the dims where y has extent 1, in fp32.
  cudnnBackendDescriptor_t reduction(cudnnReduceTensorOp_t mode,
                                     cudnnBackendDescriptor_t x,
                                     cudnnBackendDescriptor_t y) {
    cudnnBackendDescriptor_t rd = make(CUDNN_BACKEND_REDUCTION_DESCRIPTOR);
    set(rd, CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE,
        1, &mode);
    setType(rd, CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_DATA_FLOAT);
    finalize(rd, "reduction descriptor");
    cudnnBackendDescriptor_t op =
        make(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR);
    setDesc(op, CUDNN_ATTR_OPERATION_REDUCTION_DESC, rd);
    setDesc(op, CUDNN_ATTR_OPERATION_REDUCTION_XDESC, x);
    setDesc(op, CUDNN_ATTR_OPERATION_REDUCTION_YDESC, y);
    finalize(op, "reduction operation");
    return op;
  }

  /// c = a b (batched over the two leading dims), fp32 accumulation.
  cudnnBackendDescriptor_t matmul(cudnnBackendDescriptor_t a,
                                  cudnnBackendDescriptor_t b,
                                  cudnnBackendDescriptor_t c) {
    cudnnBackendDescriptor_t mm = make(CUDNN_BACKEND_MATMUL_DESCRIPTOR);
    setType(mm, CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_DATA_FLOAT);
    finalize(mm, "matmul descriptor");
    cudnnBackendDescriptor_t op = make(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR);
    setDesc(op, CUDNN_ATTR_OPERATION_MATMUL_ADESC, a);
    setDesc(op, CUDNN_ATTR_OPERATION_MATMUL_BDESC, b);
    setDesc(op, CUDNN_ATTR_OPERATION_MATMUL_CDESC, c);
    setDesc(op, CUDNN_ATTR_OPERATION_MATMUL_DESC, mm);
    finalize(op, "matmul operation");
    return op;
  }

  cudnnHandle_t handle() const { return handle_; }
  bool check(cudnnStatus_t st, const char *what) {
    if (st == CUDNN_STATUS_SUCCESS)
      return true;
    if (error_.empty())
      error_ = std::string(what) + ": " + describe(st);
    return false;
  }

private:
  Descs &descs_;
  cudnnHandle_t handle_;
  std::string error_;
};

/// Appends the softmax over the last dim of `scaled` into `prob`: max, sub,
/// exp, sum, stats = max + log sum (a real output `withStats`, else
/// virtual), prob = exp / sum.
void softmaxOps(Builder &g, const vsart_attention_args_t &a,
                cudnnBackendDescriptor_t scaled, cudnnBackendDescriptor_t prob,
                bool withStats, std::vector<cudnnBackendDescriptor_t> &ops) {
  const int64_t b = a.batch, h = a.num_heads, sq = a.seq_q, skv = a.seq_kv;
  const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
  const std::array<int64_t, 4> sDims = {b, h, sq, skv},
                               sStrides = {h * sq * skv, sq * skv, skv, 1},
                               rDims = {b, h, sq, 1},
                               rStrides = {h * sq, sq, 1, 1};
  auto mx = g.tensor(kMax, f32, rDims, rStrides, true);
  auto sub = g.tensor(kSub, f32, sDims, sStrides, true);
  auto ex = g.tensor(kExp, f32, sDims, sStrides, true);
  auto sum = g.tensor(kSum, f32, rDims, rStrides, true);
  auto lg = g.tensor(kLog, f32, rDims, rStrides, true);
  auto stats = g.tensor(kStats, f32, rDims, rStrides, !withStats);
  ops.push_back(g.reduction(CUDNN_REDUCE_TENSOR_MAX, scaled, mx));
  ops.push_back(g.pointwise(CUDNN_POINTWISE_SUB, scaled, mx, sub));
  ops.push_back(g.pointwise(CUDNN_POINTWISE_EXP, sub, nullptr, ex));
  ops.push_back(g.reduction(CUDNN_REDUCE_TENSOR_ADD, ex, sum));
  ops.push_back(g.pointwise(CUDNN_POINTWISE_LOG, sum, nullptr, lg));
  ops.push_back(g.pointwise(CUDNN_POINTWISE_ADD, mx, lg, stats));
  ops.push_back(g.pointwise(CUDNN_POINTWISE_DIV, ex, sum, prob));
}

/// The operations of bf16 attention: S = Q K^T, the softmax (with its
/// statistics, a real output `withStats`), O = P V.
std::vector<cudnnBackendDescriptor_t>
bf16Ops(Builder &g, const vsart_attention_args_t &a, bool withStats) {
  const int64_t b = a.batch, h = a.num_heads, hkv = a.num_kv_heads,
                sq = a.seq_q, skv = a.seq_kv, d = a.head_dim;
  const cudnnDataType_t bf16 = CUDNN_DATA_BFLOAT16, f32 = CUDNN_DATA_FLOAT;
  const auto *qs = a.q_strides, *ks = a.k_strides, *vs = a.v_strides,
             *os = a.out_strides;
  auto q = g.tensor(kQ, bf16, {b, h, sq, d}, {qs[0], qs[1], qs[2], 1}, false);
  auto kt = g.tensor(kK, bf16, {b, hkv, d, skv}, {ks[0], ks[1], 1, ks[2]},
                     false);
  auto v = g.tensor(kV, bf16, {b, hkv, skv, d}, {vs[0], vs[1], vs[2], 1},
                    false);
  auto o = g.tensor(kO, bf16, {b, h, sq, d}, {os[0], os[1], os[2], 1}, false);
  auto scale = g.tensor(kScale, f32, {1, 1, 1, 1}, {1, 1, 1, 1}, false,
                        /*byValue=*/true);
  const std::array<int64_t, 4> sDims = {b, h, sq, skv},
                               sStrides = {h * sq * skv, sq * skv, skv, 1};
  auto s = g.tensor(kS, f32, sDims, sStrides, true);
  auto scaled = g.tensor(kScaled, f32, sDims, sStrides, true);
  auto prob = g.tensor(kP, bf16, sDims, sStrides, true); // bmm2's A: bf16
  std::vector<cudnnBackendDescriptor_t> ops = {
      g.matmul(q, kt, s), g.pointwise(CUDNN_POINTWISE_MUL, s, scale, scaled)};
  softmaxOps(g, a, scaled, prob, withStats, ops);
  ops.push_back(g.matmul(prob, v, o));
  return ops;
}

/// The operations of FP8 attention, as cuDNN's FP8 flash-attention engine
/// recognises them (the graph cudnn-frontend's FP8 SDPA node expands to):
/// S = Q8 K8^T times the scale and q's and k's descales, the softmax, its
/// amax, P8 = P * scale_s (E4M3), O = P8 V8 times the descales of P and v,
/// its amax, O8 = O * scale_o (E4M3). q8/k8/v8/o8 are rows of
/// e4m3RowBytes(head_dim) bytes, (batch, heads) slices back to back.
std::vector<cudnnBackendDescriptor_t> fp8Ops(Builder &g,
                                             const vsart_attention_args_t &a) {
  const int64_t b = a.batch, h = a.num_heads, hkv = a.num_kv_heads,
                sq = a.seq_q, skv = a.seq_kv, d = a.head_dim;
  const int64_t R = vsart::cuda::e4m3RowBytes(d);
  const cudnnDataType_t f8 = CUDNN_DATA_FP8_E4M3, f32 = CUDNN_DATA_FLOAT;
  auto q = g.tensor(kQ, f8, {b, h, sq, d}, {h * sq * R, sq * R, R, 1}, false);
  auto kt = g.tensor(kK, f8, {b, hkv, d, skv}, {hkv * skv * R, skv * R, 1, R},
                     false);
  auto v = g.tensor(kV, f8, {b, hkv, skv, d}, {hkv * skv * R, skv * R, R, 1},
                    false);
  auto o = g.tensor(kO, f8, {b, h, sq, d}, {h * sq * R, sq * R, R, 1}, false);
  auto scale = g.tensor(kScale, f32, {1, 1, 1, 1}, {1, 1, 1, 1}, false,
                        /*byValue=*/true);
  using vsart::cuda::Fp8Scalar;
  auto scalar = [&](Fp8Scalar which) {
    return g.tensor(kScalar0 + int64_t(which), f32, {1, 1, 1, 1}, {1, 1, 1, 1},
                    false);
  };
  const std::array<int64_t, 4> sDims = {b, h, sq, skv},
                               sStrides = {h * sq * skv, sq * skv, skv, 1},
                               oDims = {b, h, sq, d},
                               oStrides = {h * sq * d, sq * d, d, 1};
  auto s = g.tensor(kS, f32, sDims, sStrides, true);
  auto scaled = g.tensor(kScaled, f32, sDims, sStrides, true);
  auto sq8 = g.tensor(kDescaledQ, f32, sDims, sStrides, true);
  auto sk8 = g.tensor(kDescaledK, f32, sDims, sStrides, true);
  auto prob = g.tensor(kP, f32, sDims, sStrides, true);
  auto p8 = g.tensor(kP8, f8, sDims, sStrides, true);
  auto o0 = g.tensor(kO0, f32, oDims, oStrides, true);
  auto o1 = g.tensor(kO1, f32, oDims, oStrides, true);
  auto o2 = g.tensor(kO2, f32, oDims, oStrides, true);
  std::vector<cudnnBackendDescriptor_t> ops = {
      g.matmul(q, kt, s),
      g.pointwise(CUDNN_POINTWISE_MUL, s, scale, scaled),
      g.pointwise(CUDNN_POINTWISE_MUL, scaled, scalar(Fp8Scalar::DescaleQ),
                  sq8),
      g.pointwise(CUDNN_POINTWISE_MUL, sq8, scalar(Fp8Scalar::DescaleK), sk8)};
  softmaxOps(g, a, sk8, prob, /*withStats=*/false, ops);
  ops.push_back(g.reduction(CUDNN_REDUCE_TENSOR_AMAX, prob,
                            scalar(Fp8Scalar::AmaxS)));
  ops.push_back(
      g.pointwise(CUDNN_POINTWISE_MUL, prob, scalar(Fp8Scalar::ScaleS), p8));
  ops.push_back(g.matmul(p8, v, o0));
  ops.push_back(
      g.pointwise(CUDNN_POINTWISE_MUL, o0, scalar(Fp8Scalar::DescaleS), o1));
  ops.push_back(
      g.pointwise(CUDNN_POINTWISE_MUL, o1, scalar(Fp8Scalar::DescaleV), o2));
  ops.push_back(
      g.pointwise(CUDNN_POINTWISE_MUL, o2, scalar(Fp8Scalar::ScaleO), o));
  ops.push_back(g.reduction(CUDNN_REDUCE_TENSOR_AMAX, o2,
                            scalar(Fp8Scalar::AmaxO)));
  return ops;
}

/// The operation graph of `a` (FP8: fp8Ops), then the first engine config
/// of heuristic mode A whose execution plan finalizes.
void buildPlan(const vsart_attention_args_t &a, bool withStats,
               cudnnHandle_t handle, Plan &p) {
  Builder g(p.descs, handle);
  std::vector<cudnnBackendDescriptor_t> ops =
      a.fp8 ? fp8Ops(g, a) : bf16Ops(g, a, withStats);
  auto graph = g.make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  g.set(graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle);
  g.set(graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
        int64_t(ops.size()), ops.data());
  g.finalize(graph, "operation graph");

  auto heur = g.make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
  g.setDesc(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph);
  const cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
  g.set(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode);
  g.finalize(heur, "engine heuristic");
  int64_t count = 0;
  if (g.error().empty())
    g.check(api().getAttr(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                          CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr),
            "heuristic results");
  std::vector<cudnnBackendDescriptor_t> cfgs;
  for (int64_t i = 0; i < count && g.error().empty(); ++i)
    cfgs.push_back(g.make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR));
  if (count > 0 && g.error().empty())
    g.check(api().getAttr(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                          CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &count,
                          cfgs.data()),
            "heuristic results");
  if (!g.error().empty()) {
    p.error = g.error();
    return;
  }
  std::string lastError = "no engine config from the heuristic";
  for (int64_t i = 0; i < count; ++i) {
    Descs trial;
    Builder t(trial, handle);
    auto plan = t.make(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
    t.set(plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle);
    t.setDesc(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, cfgs[size_t(i)]);
    t.finalize(plan, "execution plan");
    int64_t ws = 0, n = 0;
    if (t.error().empty())
      t.check(api().getAttr(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
                            CUDNN_TYPE_INT64, 1, &n, &ws),
              "workspace size");
    if (!t.error().empty()) {
      lastError = t.error();
      continue;
    }
    trial.all.clear(); // the plan moves to p.descs
    p.descs.all.push_back(plan);
    p.plan = plan;
    p.workspace = ws;
    return;
  }
  p.error = lastError;
}

// ---- the process context ------------------------------------------------------

struct Context {
  std::mutex mutex;
  cudnnHandle_t handle = nullptr;
  void *workspace = nullptr;
  int64_t workspaceBytes = 0;
  cudaEvent_t lastUse = nullptr; // recorded after each execution
  cudaStream_t lastStream = nullptr;
  std::unordered_map<Key, std::unique_ptr<Plan>, KeyHash> plans;
  std::string error; // why cuDNN is unusable, "" when it works
};

Context *createContext() {
  auto *ctx = new Context();
  if (!api().error.empty()) {
    ctx->error = api().error;
    return ctx;
  }
  if (cudnnStatus_t st = api().create(&ctx->handle))
    ctx->error = "cudnnCreate: " + describe(st);
  else if (cudaEventCreateWithFlags(&ctx->lastUse, cudaEventDisableTiming) !=
           cudaSuccess)
    ctx->error = "cudaEventCreate failed";
  cudaGetLastError(); // a failure above is reported through ctx->error
  return ctx;
}

/// The current device's context (vsart::cuda::perDevice).
Context &context() { return vsart::cuda::perDevice<Context>(createContext); }

/// Why the fused engine can't take `a` by its shape or layout, "" if it may.
std::string unsupported(const vsart_attention_args_t &a) {
  if (a.mask)
    return "an additive mask";
  if (a.head_dim % 8 != 0 || a.head_dim > 256)
    return "head_dim " + std::to_string(a.head_dim) +
           " (a multiple of 8 up to 256 is needed)";
  if (a.seq_kv == 0)
    return "no keys";
  // Seen on an H200 with cuDNN 9.19: a negative scale gives NaN (the engine
  // seems to take the row max before scaling), so only scale > 0 goes there.
  if (!(a.scale > 0.0f) || !std::isfinite(a.scale))
    return "a scale that is not a positive finite number";
  const uintptr_t bits = reinterpret_cast<uintptr_t>(a.q) |
                         reinterpret_cast<uintptr_t>(a.k) |
                         reinterpret_cast<uintptr_t>(a.v) |
                         reinterpret_cast<uintptr_t>(a.out);
  bool aligned = bits % 16 == 0;
  for (int i = 0; i < 3; ++i)
    aligned = aligned && a.q_strides[i] % 8 == 0 && a.k_strides[i] % 8 == 0 &&
              a.v_strides[i] % 8 == 0 && a.out_strides[i] % 8 == 0;
  if (!aligned)
    return "operands not 16-byte aligned";
  return "";
}

Key keyOf(const vsart_attention_args_t &a, bool withStats) {
  uint32_t scaleBits;
  std::memcpy(&scaleBits, &a.scale, 4);
  return {a.batch,          a.num_heads,      a.num_kv_heads,   a.seq_q,
          a.seq_kv,         a.head_dim,       a.q_strides[0],   a.q_strides[1],
          a.q_strides[2],   a.k_strides[0],   a.k_strides[1],   a.k_strides[2],
          a.v_strides[0],   a.v_strides[1],   a.v_strides[2],   a.out_strides[0],
          a.out_strides[1], a.out_strides[2], int64_t(scaleBits),
          int64_t(withStats) | int64_t(a.fp8 != 0) << 1};
}

vsart_status_t failCudnn(const std::string &what) {
  return vsart::fail(VSART_ERROR_INVALID_ARGUMENT, "cuda_attention: " + what);
}

} // namespace

namespace {

/// Runs the plan of `a` (built and cached on first use) with the variant
/// pack's tensors `uids` / `ptrs` on `stream`. *ran false with *why: cuDNN
/// is unusable or built no plan; an error status: it failed to run.
vsart_status_t runPlan(const vsart_attention_args_t &a, bool withStats,
                       const int64_t *uids, void *const *ptrs, int64_t count,
                       cudaStream_t stream, bool *ran, std::string *why) {
  using vsart::cuda::check;
  *ran = false;
  Context &ctx = context();
  if (!ctx.error.empty()) {
    *why = ctx.error;
    return VSART_OK;
  }
  std::lock_guard<std::mutex> lock(ctx.mutex);
  auto &slot = ctx.plans[keyOf(a, withStats)];
  if (!slot) {
    slot = std::make_unique<Plan>();
    buildPlan(a, withStats, ctx.handle, *slot);
    cudaGetLastError(); // a failed build must not poison later launches
  }
  Plan &p = *slot;
  if (!p.plan) {
    *why = "cuDNN built no plan for this case: " + p.error;
    return VSART_OK;
  }
  if (p.workspace > ctx.workspaceBytes) {
    if (ctx.workspace) { // the last execution may still read it
      if (vsart_status_t st = check(cudaEventSynchronize(ctx.lastUse),
                                    "cuda_attention: cuDNN workspace"))
        return st;
      cudaFree(ctx.workspace);
      ctx.workspace = nullptr, ctx.workspaceBytes = 0;
    }
    if (vsart_status_t st =
            check(cudaMalloc(&ctx.workspace, size_t(p.workspace)),
                  "cuda_attention: cuDNN workspace", VSART_ERROR_OUT_OF_MEMORY))
      return st;
    ctx.workspaceBytes = p.workspace;
  }
  if (stream != ctx.lastStream)
    if (vsart_status_t st = check(cudaStreamWaitEvent(stream, ctx.lastUse, 0),
                                  "cuda_attention"))
      return st;
  if (cudnnStatus_t st = api().setStream(ctx.handle, stream))
    return failCudnn("cudnnSetStream: " + describe(st));
  Descs pack;
  Builder g(pack, ctx.handle);
  auto vp = g.make(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
  g.set(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, count, uids);
  g.set(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, count,
        ptrs);
  g.set(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1,
        &ctx.workspace);
  g.finalize(vp, "variant pack");
  if (g.error().empty())
    g.check(api().execute(ctx.handle, p.plan, vp), "cudnnBackendExecute");
  if (!g.error().empty())
    return failCudnn(g.error());
  ctx.lastStream = stream;
  if (vsart_status_t st =
          check(cudaEventRecord(ctx.lastUse, stream), "cuda_attention"))
    return st;
  *ran = true;
  return VSART_OK;
}

} // namespace

namespace vsart::cuda {

vsart_status_t cudnnAttention(const vsart_attention_args_t &a,
                              cudaStream_t stream, bool *ran,
                              std::string *why, float *lse) {
  *ran = false;
  if (std::string no = unsupported(a); !no.empty()) {
    *why = "cuDNN's fused attention does not take " + no;
    return VSART_OK;
  }
  float scale = a.scale; // by value: read from host memory at execution
  const int64_t uids[] = {kQ, kK, kV, kO, kScale, kStats};
  void *const ptrs[] = {const_cast<void *>(a.q), const_cast<void *>(a.k),
                        const_cast<void *>(a.v), a.out, &scale, lse};
  return runPlan(a, lse != nullptr, uids, ptrs, lse ? 6 : 5, stream, ran, why);
}

std::string fp8AttentionUnsupported(const vsart_attention_args_t &a) {
  if (!api().error.empty())
    return api().error;
  if (api().version < 90100 || api().version == 91000)
    return "cuDNN's FP8 attention needs cuDNN 9.1 or later (not 9.10.0), "
           "this is " +
           std::to_string(api().version);
  if (a.head_dim % 16 != 0)
    return "head_dim " + std::to_string(a.head_dim) +
           " (a multiple of 16 up to 256 is needed)";
  if (std::string no = unsupported(a); !no.empty())
    return "cuDNN's fused attention does not take " + no;
  return "";
}

vsart_status_t cudnnAttentionFp8(const vsart_attention_args_t &a,
                                 const Fp8Operands &f, cudaStream_t stream) {
  const std::string n = "cuda_attention (FP8): ";
  float scale = a.scale;
  int64_t uids[5 + int(Fp8Scalar::Count)] = {kQ, kK, kV, kO, kScale};
  void *ptrs[5 + int(Fp8Scalar::Count)] = {
      const_cast<void *>(f.q), const_cast<void *>(f.k),
      const_cast<void *>(f.v), f.out, &scale};
  for (int i = 0; i < int(Fp8Scalar::Count); ++i)
    uids[5 + i] = kScalar0 + i, ptrs[5 + i] = f.scalars + i;
  bool ran = false;
  std::string why;
  if (vsart_status_t st = runPlan(a, false, uids, ptrs, 5 + int(Fp8Scalar::Count),
                                  stream, &ran, &why))
    return st;
  return ran ? VSART_OK : failCudnn(n + why);
}

int cudnnVersion() {
  return api().error.empty() ? int(api().version) : 0;
}

} // namespace vsart::cuda

#else // no cuDNN headers at build time: our kernel only

namespace vsart::cuda {

vsart_status_t cudnnAttention(const vsart_attention_args_t &, cudaStream_t,
                              bool *ran, std::string *why, float *) {
  *ran = false;
  *why = "this build has no cuDNN support (cudnn_graph.h was not found)";
  return VSART_OK;
}

std::string fp8AttentionUnsupported(const vsart_attention_args_t &) {
  return "this build has no cuDNN support (cudnn_graph.h was not found)";
}

vsart_status_t cudnnAttentionFp8(const vsart_attention_args_t &,
                                 const Fp8Operands &, cudaStream_t) {
  return fail(VSART_ERROR_INVALID_ARGUMENT,
              "cuda_attention (FP8): this build has no cuDNN support "
              "(cudnn_graph.h was not found)");
}

int cudnnVersion() { return 0; }

} // namespace vsart::cuda

#endif

namespace vsart::cuda {

vsart_status_t attentionPath(vsart_attention_path_t *path) {
  int p = gPath.load();
  if (p == -1) {
    int expected = -1;
    gPath.compare_exchange_strong(expected, pathFromEnv());
    p = gPath.load();
  }
  if (p < 0)
    return fail(VSART_ERROR_INVALID_ARGUMENT,
                "cuda_attention: VSART_ATTENTION must be auto, own or cudnn");
  *path = static_cast<vsart_attention_path_t>(p);
  return VSART_OK;
}

} // namespace vsart::cuda

extern "C" vsart_status_t
vsart_cuda_set_attention_path(vsart_attention_path_t path) {
  if (path != VSART_ATTENTION_AUTO && path != VSART_ATTENTION_OWN &&
      path != VSART_ATTENTION_CUDNN)
    return vsart::fail(VSART_ERROR_INVALID_ARGUMENT,
                       "cuda_set_attention_path: unknown path");
  gPath.store(int(path));
  return vsart::ok();
}

extern "C" int vsart_cuda_cudnn_version(void) {
  return vsart::cuda::cudnnVersion();
}
