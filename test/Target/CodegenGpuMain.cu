//===- CodegenGpuMain.cu - run exported generated kernels on a GPU --------===//
//
// Not built by CMake (the build machine has no GPU). Export and run:
//   VSA_CODEGEN_GPU_EXPORT=DIR vsa-codegen-tests --gtest_filter='CodegenCuda*'
//   nvcc -std=c++17 -O2 -arch=sm_90 -I runtime/include -I DIR \
//        test/Target/CodegenGpuMain.cu -o DIR/gpu-check
//   DIR/gpu-check DIR
// Each kernel runs on the inputs vsa-codegen-tests generated; its result is
// compared with the reference interpreter's, as the CPU tests do.
//
//===----------------------------------------------------------------------===//

#include "kernels.cu" // generated: the prologue and every kernel

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Launcher = vsart_status_t (*)(const void *const *, void *, void *);
struct Entry {
  const char *name;
  Launcher fn;
};
const Entry kEntries[] = {
#include "kernels_table.inc"
};

// vsa::target::Storage, in its order.
enum Storage { F32, F64, BF16, F16, I64, I32, I8, U8, Bool };

size_t sizeOf(int s) {
  return s == F64 || s == I64 ? 8 : s == F32 || s == I32 ? 4
                                  : s == BF16 || s == F16 ? 2 : 1;
}

template <typename T> T load(const char *p) {
  T v;
  memcpy(&v, p, sizeof v);
  return v;
}

double decode(int s, const char *p) {
  switch (s) {
  case F32: return load<float>(p);
  case F64: return load<double>(p);
  case BF16: return __bfloat162float(load<__nv_bfloat16>(p));
  case F16: return __half2float(load<__half>(p));
  case I64: return double(load<int64_t>(p));
  case I32: return load<int32_t>(p);
  case I8: return load<int8_t>(p);
  default: return load<uint8_t>(p);
  }
}

double tolerance(int s) {
  return s == F32 || s == F64 ? 1e-5 : s == BF16 ? 1e-2 : s == F16 ? 2e-3 : 0;
}

std::vector<char> readFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(f), {});
}

Launcher find(const std::string &name) {
  for (const Entry &e : kEntries)
    if (name == e.name)
      return e.fn;
  return nullptr;
}

/// Runs one manifest line's case; returns the number of bad elements.
int runCase(const std::string &dir, std::istringstream &line) {
  std::string name;
  size_t nin;
  line >> name >> nin;
  std::vector<size_t> sizes(nin);
  for (size_t &s : sizes)
    line >> s;
  int out, racy;
  size_t count;
  line >> out >> count >> racy;
  std::vector<char> in = readFile(dir + "/" + name + ".in");
  std::vector<char> ref = readFile(dir + "/" + name + ".ref");
  std::vector<void *> dev;
  size_t at = 0;
  for (size_t s : sizes) {
    void *p = nullptr;
    cudaMalloc(&p, s ? s : 1);
    cudaMemcpy(p, in.data() + at, s, cudaMemcpyHostToDevice);
    dev.push_back(p);
    at += s;
  }
  size_t bytes = count * sizeOf(out);
  void *o = nullptr;
  cudaMalloc(&o, bytes ? bytes : 1);
  cudaMemset(o, 0xcd, bytes);
  vsart_status_t status = find(name)(dev.data(), o, nullptr);
  cudaError_t err = cudaDeviceSynchronize();
  std::vector<char> got(bytes);
  cudaMemcpy(got.data(), o, bytes, cudaMemcpyDeviceToHost);
  for (void *p : dev)
    cudaFree(p);
  cudaFree(o);
  if (status != VSART_OK || err != cudaSuccess) {
    printf("FAIL %s: status %d, %s\n", name.c_str(), int(status),
           cudaGetErrorString(err));
    return 1;
  }
  int bad = 0;
  for (size_t i = 0; i < count && !racy; ++i) {
    double g = decode(out, got.data() + i * sizeOf(out));
    double w = load<double>(ref.data() + i * sizeof(double));
    bool ok = std::isnan(w) ? std::isnan(g)
              : std::isinf(w) ? g == w
                              : std::fabs(g - w) <=
                                    tolerance(out) * std::fmax(1.0, std::fabs(w));
    if (!ok && bad++ < 5)
      printf("FAIL %s[%zu]: got %.9g, want %.9g\n", name.c_str(), i, g, w);
  }
  printf("%s %s%s\n", bad ? "FAIL" : "ok  ", name.c_str(),
         racy ? " (ran; repeated indices race, not compared)" : "");
  return bad;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s EXPORT_DIR\n", argv[0]);
    return 2;
  }
  std::ifstream manifest(std::string(argv[1]) + "/manifest.txt");
  int failed = 0, cases = 0;
  for (std::string text; std::getline(manifest, text); ++cases) {
    std::istringstream line(text);
    failed += runCase(argv[1], line) != 0;
  }
  printf("%d cases, %d failed\n", cases, failed);
  return failed != 0 || cases == 0;
}
