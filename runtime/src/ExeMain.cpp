// vsart_exe_main: the command line of the model executables vsac emits.
// Every failure prints one "error: ..." line to stderr and returns 1.
#include "DTypes.h"
#include "ExeMain.h"
#include "Internal.h"
#include "Npy.h"
#include "vsart_model.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Options {
  std::vector<std::string> inputs, outputs; // "NAME=FILE" or "FILE"
  std::vector<std::string> weights;
  std::vector<std::string> attention; // "KEY=VALUE"
  std::string vsab;
  bool vsabGiven = false, noVsab = false;
  bool randomInputs = false, randomWeights = false, quiet = false, help = false;
  uint64_t repeat = 0, seed = 0, threads = 0, ranks = 0;
  uint64_t denseForwards = 0; // the first N forwards run dense
};

using Buffer = std::vector<uint8_t>;

// Set on the threads of --ranks N: errors become the thread's
// vsart_last_error() (vsart_comm_run_each reports the failing rank's root
// cause once) instead of one line per rank on stderr.
thread_local bool collectErrors = false;

// Always a single line: names read from files may hold newlines.
int error(std::string message) {
  std::replace(message.begin(), message.end(), '\n', ' ');
  if (collectErrors) {
    vsart::fail(VSART_ERROR_INVALID_ARGUMENT, message);
    return 1;
  }
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

int apiError(vsart_status_t st) {
  const char *message = vsart_last_error();
  return error(*message ? message : vsart_status_message(st));
}

// For the bool-returning steps: print the error, return false.
bool reported(const std::string &message) {
  error(message);
  return false;
}
bool reportedApi(vsart_status_t st) {
  apiError(st);
  return false;
}
bool setError(std::string *err, std::string message) {
  *err = std::move(message);
  return false;
}

// ---- argument parsing -------------------------------------------------------

// Decimal digits only (no sign), at most `max`.
bool parseUInt(const std::string &s, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (s.empty())
    return false;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    uint64_t d = uint64_t(c - '0');
    if (v > (max - d) / 10)
      return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool *flagFor(Options *o, const std::string &arg) {
  if (arg == "--random-inputs")
    return &o->randomInputs;
  if (arg == "--random-weights")
    return &o->randomWeights;
  if (arg == "--quiet" || arg == "-q")
    return &o->quiet;
  if (arg == "--help" || arg == "-h")
    return &o->help;
  if (arg == "--no-vsab")
    return &o->noVsab;
  return nullptr;
}

bool takesValue(const std::string &arg) {
  for (const char *name : {"--input", "--output", "--weights", "--vsab",
                           "--attn", "--repeat", "--seed", "--threads",
                           "--ranks", "--dense-forwards"})
    if (arg == name)
      return true;
  return false;
}

bool numberOption(const std::string &arg, const std::string &v, Options *o,
                  std::string *err) {
  bool good = true;
  if (arg == "--repeat")
    good = parseUInt(v, 1000000000, &o->repeat) && o->repeat > 0;
  else if (arg == "--threads")
    good = parseUInt(v, 1024, &o->threads) && o->threads > 0;
  else if (arg == "--ranks")
    good = parseUInt(v, 1024, &o->ranks) && o->ranks > 0;
  else if (arg == "--dense-forwards")
    good = parseUInt(v, 1000000000, &o->denseForwards);
  else
    good = parseUInt(v, UINT64_MAX, &o->seed);
  if (!good)
    *err = arg + " expects a " +
           (arg == "--seed"      ? "non-negative integer"
            : arg == "--threads" ? "thread count in [1, 1024]"
            : arg == "--ranks"   ? "rank count in [1, 1024]"
            : arg == "--dense-forwards" ? "count in [0, 10^9]"
                                 : "count in [1, 10^9]") +
           ", got '" + v + "'";
  return good;
}

bool valueOption(const std::string &arg, const std::string &v, Options *o,
                 std::string *err) {
  if (arg == "--input")
    o->inputs.push_back(v);
  else if (arg == "--output")
    o->outputs.push_back(v);
  else if (arg == "--weights")
    o->weights.push_back(v);
  else if (arg == "--attn")
    o->attention.push_back(v);
  else if (arg == "--vsab")
    o->vsab = v, o->vsabGiven = true;
  else
    return numberOption(arg, v, o, err);
  return true;
}

// Accepts "--opt value" and "--opt=value".
bool parseArgs(int argc, char **argv, Options *o, std::string *err) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i] ? argv[i] : "", value;
    size_t eq = arg.find('=');
    bool inlineValue = arg.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inlineValue) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    if (bool *flag = flagFor(o, arg)) {
      if (inlineValue)
        return setError(err, arg + " takes no value");
      *flag = true;
      continue;
    }
    if (!takesValue(arg))
      return setError(err, (arg.rfind("-", 0) == 0 ? "unknown option '"
                                                   : "unexpected argument '") +
                               arg + "' (see --help)");
    if (!inlineValue) {
      if (i + 1 >= argc || !argv[i + 1])
        return setError(err, arg + " needs a value");
      value = argv[++i];
    }
    if (!valueOption(arg, value, o, err))
      return false;
  }
  return true;
}

// ---- model tensors
// ------------------------------------------------------------

std::string shapeOf(const vsart_tensor_desc_t &d) {
  return vsart::shapeString(d.rank, d.dims);
}

std::string typeOf(const vsart_tensor_desc_t &d) {
  std::string s = vsart::dtypeName(d.dtype);
  if (d.storage != d.dtype)
    s += std::string(" (stored ") + vsart::dtypeName(d.storage) + ")";
  return s;
}

size_t hostBytes(const vsart_tensor_desc_t &d) {
  return size_t(vsart::numElements(d.rank, d.dims)) * vsart_dtype_size(d.dtype);
}

uint64_t storageBytes(const vsart_tensor_desc_t *descs, int32_t n) {
  uint64_t total = 0;
  for (int32_t i = 0; i < n; ++i)
    total += vsart_storage_bytes(descs[i].storage, descs[i].rank,
                                 descs[i].dims);
  return total;
}

std::string nameList(const vsart_tensor_desc_t *descs, int32_t n) {
  std::string s;
  for (int32_t i = 0; i < n; ++i)
    s += std::string(i ? ", " : "") + descs[i].name;
  return n ? s : "none";
}

// Resolves "NAME=FILE", or "FILE" (no '=') when there is exactly one
// tensor, to a tensor index; -1 with *err on failure. A path holding '='
// needs the NAME= form.
int32_t resolve(const std::string &spec, const vsart_tensor_desc_t *descs,
                int32_t n, const std::string &what, std::string *file,
                std::string *err) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos) {
    *file = spec;
    if (n == 1 && !spec.empty())
      return 0;
    *err = "--" + what + " '" + spec + "': name the " + what +
           " (NAME=FILE); the model's " + what + "s: " + nameList(descs, n);
    return -1;
  }
  const std::string name = spec.substr(0, eq);
  *file = spec.substr(eq + 1);
  for (int32_t i = 0; i < n; ++i) {
    if (name != descs[i].name)
      continue;
    if (!file->empty())
      return i;
    *err = "--" + what + " " + spec + ": missing file name";
    return -1;
  }
  *err = "unknown " + what + " '" + name + "'; the model's " + what +
         "s: " + nameList(descs, n);
  return -1;
}

// Resolves every spec; files[i] is the file of tensor i ("" if none).
bool resolveAll(const std::vector<std::string> &specs,
                const vsart_tensor_desc_t *descs, int32_t n,
                const std::string &what, std::vector<std::string> *files,
                std::string *err) {
  files->assign(size_t(n), "");
  for (const std::string &spec : specs) {
    std::string file;
    int32_t index = resolve(spec, descs, n, what, &file, err);
    if (index < 0)
      return false;
    if (!(*files)[size_t(index)].empty())
      return setError(err, what + " '" + descs[index].name + "' given twice");
    (*files)[size_t(index)] = file;
  }
  return true;
}

// ---- inputs
// -------------------------------------------------------------------

uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Floats ~ N(0, 1) by Box-Muller, integers uniform in [0, 1000), bools 1.
void randomInput(const vsart_tensor_desc_t &d, uint64_t seed, int32_t index,
                 Buffer *buf) {
  uint64_t state = seed * 0x2545f4914f6cdd1dull + uint64_t(index) + 1;
  const size_t n = size_t(vsart::numElements(d.rank, d.dims));
  buf->assign(hostBytes(d), 0);
  for (size_t i = 0; i < n; ++i) {
    if (vsart::isFloatDtype(d.dtype)) {
      double u1 = double((splitmix64(&state) >> 11) + 1) * 0x1p-53; // (0, 1]
      double u2 = double(splitmix64(&state) >> 11) * 0x1p-53;
      double r = std::sqrt(-2.0 * std::log(u1)), t = 2.0 * M_PI * u2;
      vsart::storeFloat(d.dtype, buf->data(), i, float(r * std::cos(t)));
      if (++i < n)
        vsart::storeFloat(d.dtype, buf->data(), i, float(r * std::sin(t)));
    } else if (d.dtype == VSART_DTYPE_I64 || d.dtype == VSART_DTYPE_I32) {
      int64_t v = int64_t(splitmix64(&state) % 1000);
      int32_t v32 = int32_t(v);
      if (d.dtype == VSART_DTYPE_I64)
        std::memcpy(buf->data() + 8 * i, &v, 8);
      else
        std::memcpy(buf->data() + 4 * i, &v32, 4);
    } else {
      (*buf)[i] = d.dtype == VSART_DTYPE_BOOL ? 1 : uint8_t(splitmix64(&state));
    }
  }
}

bool loadInput(const vsart_tensor_desc_t &d, const std::string &file,
               Buffer *buf) {
  vsart::npy::Array array;
  if (vsart_status_t st = vsart::npy::read(file, &array))
    return reportedApi(st);
  const std::vector<int64_t> want(d.dims, d.dims + d.rank);
  if (array.shape != want)
    return reported(
        std::string("input '") + d.name + "': " + file + " has shape " +
        vsart::shapeString(int32_t(array.shape.size()), array.shape.data()) +
        ", the model expects " + shapeOf(d));
  buf->assign(hostBytes(d), 0);
  const std::string what = std::string("input '") + d.name + "' (" + file + ")";
  if (vsart_status_t st =
          vsart::npy::convert(array, d.dtype, buf->data(), what))
    return reportedApi(st);
  return true;
}

// Reads or generates every input; false after printing an error.
bool prepareInputs(const vsart_model_t *m, const Options &o,
                   const std::vector<std::string> &files,
                   std::vector<Buffer> *bufs) {
  bufs->resize(size_t(m->num_inputs));
  for (int32_t i = 0; i < m->num_inputs; ++i) {
    const vsart_tensor_desc_t &d = m->inputs[i];
    Buffer &buf = (*bufs)[size_t(i)];
    if (!files[size_t(i)].empty()) {
      if (!loadInput(d, files[size_t(i)], &buf))
        return false;
    } else if (o.randomInputs) {
      randomInput(d, o.seed, i, &buf);
    } else {
      return reported(std::string("input '") + d.name + "' (" + typeOf(d) +
                      " " + shapeOf(d) + ") not given: use --input " + d.name +
                      "=FILE.npy or --random-inputs");
    }
  }
  return true;
}

// ---- session
// ------------------------------------------------------------------

struct SessionHolder {
  vsart_session_t s = nullptr;
  ~SessionHolder() { vsart_session_destroy(s); }
};

bool fileExists(const std::string &path) {
  return !path.empty() && ::access(path.c_str(), R_OK) == 0;
}

// argv[0] + ".vsab"; when argv[0] is a bare name found through PATH, the
// executable's real path (Linux /proc/self/exe) + ".vsab".
std::string defaultVsab(const char *argv0) {
  if (!argv0 || !*argv0)
    return "";
  std::string candidate = std::string(argv0) + ".vsab";
  if (fileExists(candidate))
    return candidate;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0 && std::string(argv0).find('/') == std::string::npos) {
    candidate = std::string(self, size_t(n)) + ".vsab";
    if (fileExists(candidate))
      return candidate;
  }
  return "";
}

bool bindWeights(vsart_session_t s, const Options &o) {
  for (const std::string &file : o.weights)
    if (vsart_status_t st = vsart_session_load_safetensors(s, file.c_str()))
      return reportedApi(st);
  if (o.randomWeights)
    if (vsart_status_t st = vsart_session_randomize_weights(s, o.seed))
      return reportedApi(st);
  if (int64_t n = vsart_session_num_unbound(s))
    return reported(std::to_string(n) + " weight(s) not bound (" +
                    vsart_last_error() +
                    "); use --vsab, --weights FILE.safetensors or "
                    "--random-weights (float weights only)");
  return true;
}

bool openSession(const vsart_model_t *m, const Options &o, const char *argv0,
                 SessionHolder *h) {
  std::string vsab = o.vsabGiven ? o.vsab : o.noVsab ? "" : defaultVsab(argv0);
  if (o.vsabGiven && o.vsab.empty())
    return reported("--vsab needs a file name");
  if (vsart_status_t st =
          vsart_session_create(m, vsab.empty() ? nullptr : vsab.c_str(), &h->s))
    return reportedApi(st);
  return bindWeights(h->s, o);
}

void printMemory(const vsart_model_t *m, vsart_session_t s) {
  const double mib = 1024.0 * 1024.0;
  std::printf("arena %.1f MiB, weights %.1f MiB, device total %.1f MiB\n",
              double(m->arena_bytes) / mib,
              double(storageBytes(m->weights, m->num_weights)) / mib,
              double(vsart_session_device_bytes(s)) / mib);
}

// ---- running
// ------------------------------------------------------------------

// Sets the --attn parameters (after dense=0: --dense-forwards may have set
// it).
bool setAttention(vsart_session_t s, const Options &o, bool resetDense) {
  if (resetDense)
    if (vsart_status_t st = vsart_session_set_attention_param(s, "dense", "0"))
      return reportedApi(st);
  for (const std::string &pair : o.attention) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos)
      return reported("--attn expects KEY=VALUE, got '" + pair + "'");
    if (vsart_status_t st = vsart_session_set_attention_param(
            s, pair.substr(0, eq).c_str(), pair.substr(eq + 1).c_str()))
      return reportedApi(st);
  }
  return true;
}

// Forward number `index` of the run: the first --dense-forwards run dense
// (as pipelines run their first denoising steps), then --attn applies.
bool forward(vsart_session_t s, const Options &o, uint64_t index) {
  if (o.denseForwards && index == 0)
    if (vsart_status_t st = vsart_session_set_attention_param(s, "dense", "1"))
      return reportedApi(st);
  if (o.denseForwards && index == o.denseForwards &&
      !setAttention(s, o, /*resetDense=*/true))
    return false;
  if (vsart_status_t st = vsart_session_forward(s))
    return reportedApi(st);
  return true;
}

// One forward, or with --repeat N one warm-up then N timed forwards. Only
// `report` (rank 0) prints the timings.
bool runForwards(vsart_session_t s, const Options &o, bool report = true) {
  const uint64_t repeat = o.repeat;
  uint64_t index = 0;
  if (!forward(s, o, index++))
    return false;
  if (repeat == 0) {
    if (report)
      vsart_profile_report();
    return true;
  }
  vsart_profile_reset(); // the warm-up pays for one-time set-up
  std::vector<double> ms;
  for (uint64_t r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    if (!forward(s, o, index++))
      return false;
    auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  if (!report)
    return true;
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  const double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  std::printf("median %.3f ms, min %.3f ms, max %.3f ms (%llu runs)\n", median,
              ms.front(), ms.back(), static_cast<unsigned long long>(n));
  vsart_profile_report();
  return true;
}

double elementValue(vsart_dtype_t dtype, const Buffer &buf, size_t i) {
  int64_t i64;
  int32_t i32;
  switch (dtype) {
  case VSART_DTYPE_I64:
    std::memcpy(&i64, buf.data() + 8 * i, 8);
    return double(i64);
  case VSART_DTYPE_I32:
    std::memcpy(&i32, buf.data() + 4 * i, 4);
    return double(i32);
  case VSART_DTYPE_U8:
  case VSART_DTYPE_BOOL:
    return double(buf[i]);
  default:
    return double(vsart::loadFloat(dtype, buf.data(), i));
  }
}

void printChecksum(const vsart_tensor_desc_t &d, const Buffer &buf) {
  const size_t n = size_t(vsart::numElements(d.rank, d.dims));
  double sum = 0, absSum = 0;
  for (size_t i = 0; i < n; ++i) {
    double v = elementValue(d.dtype, buf, i);
    sum += v;
    absSum += std::fabs(v);
  }
  std::printf("%s: %s %s sum=%.6e mean_abs=%.6e\n", d.name,
              vsart::dtypeName(d.dtype), shapeOf(d).c_str(), sum,
              n ? absSum / double(n) : 0.0);
}

bool emitOutputs(const vsart_model_t *m, vsart_session_t s, const Options &o,
                 const std::vector<std::string> &files) {
  for (int32_t i = 0; i < m->num_outputs; ++i) {
    const vsart_tensor_desc_t &d = m->outputs[i];
    Buffer buf(hostBytes(d));
    if (vsart_status_t st = vsart_session_get_output(s, i, buf.data()))
      return reportedApi(st);
    const std::string &file = files[size_t(i)];
    if (file.empty()) {
      printChecksum(d, buf);
      continue;
    }
    const std::vector<int64_t> shape(d.dims, d.dims + d.rank);
    if (vsart_status_t st = vsart::npy::write(file, d.dtype, shape, buf.data()))
      return reportedApi(st);
    if (!o.quiet)
      std::printf("wrote %s to %s\n", d.name, file.c_str());
  }
  return true;
}

// ---- --help
// -------------------------------------------------------------------

const char kOptionsHelp[] =
    "options:\n"
    "  --input NAME=FILE.npy   input NAME from a .npy file (repeatable; NAME= "
    "may\n"
    "                          be left out when the model has one input)\n"
    "  --output NAME=FILE.npy  write output NAME as .npy (NAME= may be left "
    "out\n"
    "                          when the model has one output); outputs not\n"
    "                          written print a checksum\n"
    "  --random-inputs         fill inputs not given: floats ~ N(0, 1), "
    "integers\n"
    "                          uniform in [0, 1000), bools true\n"
    "  --weights FILE          bind weights by name from a safetensors file\n"
    "                          (repeatable; later files win; unused tensors "
    "are\n"
    "                          ignored)\n"
    "  --vsab FILE             bind weights from a .vsab (default: "
    "PROGRAM.vsab\n"
    "                          when it exists)\n"
    "  --no-vsab               do not load the default .vsab\n"
    "  --random-weights        fill float weights still unbound with seeded\n"
    "                          random values (integer weights never)\n"
    "  --attn KEY=VALUE        sparse attention per call (repeatable):\n"
    "                          sparsity=S (vsa, fraction of key tiles "
    "dropped),\n"
    "                          topk=K (fraction kept), top_p=P, dense=1 (run\n"
    "                          dense), dense_layers=N (first N blocks dense),\n"
    "                          step=N (denoising step)\n"
    "  --seed N                seed of the random inputs and weights (default "
    "0)\n"
    "  --dense-forwards N      the first N forwards run dense (--attn dense=1),\n"
    "                          the rest as --attn says: the dense first\n"
    "                          denoising steps of a pipeline (with --repeat)\n"
    "  --repeat N              after one warm-up forward, time N forwards and\n"
    "                          print the median, min and max; the outputs\n"
    "                          are the last forward's. Forwards share the\n"
    "                          model's persistent state, as the steps of one\n"
    "                          video do (semantic attention: the first\n"
    "                          forward clusters cold, later ones start from\n"
    "                          its centroids)\n"
    "  --threads N             CPU kernel threads (default: VSART_NUM_THREADS "
    "or\n"
    "                          all cores)\n"
    "  --ranks N               run N ranks of a context-parallel model (CPU:\n"
    "                          N threads, one session each; CUDA: NCCL, rank\n"
    "                          r on GPU r); every rank gets the same inputs,\n"
    "                          rank 0 writes the outputs and times --repeat.\n"
    "                          Under torchrun/mpirun (RANK/WORLD_SIZE or\n"
    "                          OMPI_COMM_WORLD_*) a CUDA executable of such a\n"
    "                          model joins the job instead (one GPU each)\n"
    "  --quiet                 print only checksums and timings\n"
    "  --help                  this text\n";

void printTensors(const char *title, const vsart_tensor_desc_t *descs,
                  int32_t n) {
  std::printf("%s:\n", title);
  for (int32_t i = 0; i < n; ++i)
    std::printf("  %s  %s %s\n", descs[i].name, typeOf(descs[i]).c_str(),
                shapeOf(descs[i]).c_str());
}

void printHelp(const vsart_model_t *m, const char *prog) {
  std::printf("usage: %s [options]\n\n"
              "Runs model '%s' (%s) once and writes or summarises its "
              "outputs.\n\n%s\n",
              prog, m->name ? m->name : "", m->device ? m->device->name : "?",
              kOptionsHelp);
  printTensors("inputs", m->inputs, m->num_inputs);
  printTensors("outputs", m->outputs, m->num_outputs);
  std::printf("weights: %d tensors, %llu bytes on the device\n", m->num_weights,
              static_cast<unsigned long long>(
                  storageBytes(m->weights, m->num_weights)));
  std::printf("arena: %llu bytes\n",
              static_cast<unsigned long long>(m->arena_bytes));
  if (m->state_bytes)
    std::printf("state: %llu bytes, kept from forward to forward\n",
                static_cast<unsigned long long>(m->state_bytes));
  if (m->num_ranks > 1)
    std::printf("ranks: %d (run with --ranks %d)\n", m->num_ranks,
                m->num_ranks);
}

// Checks what --help and the resolution of names read before a session
// validates the rest.
bool modelUsable(const vsart_model_t *m) {
  if (!m)
    return reported("no model");
  if (m->abi_version != VSART_MODEL_ABI_VERSION)
    return reported("model ABI version " + std::to_string(m->abi_version) +
                    ", this runtime implements " +
                    std::to_string(VSART_MODEL_ABI_VERSION));
  if (m->num_inputs < 0 || m->num_outputs < 0 || m->num_weights < 0 ||
      (m->num_inputs && !m->inputs) || (m->num_outputs && !m->outputs) ||
      (m->num_weights && !m->weights))
    return reported("model has malformed tensor tables");
  for (const auto &[descs, n] : {std::pair{m->inputs, m->num_inputs},
                                 std::pair{m->outputs, m->num_outputs},
                                 std::pair{m->weights, m->num_weights}})
    for (int32_t i = 0; i < n; ++i)
      if (!descs[i].name || descs[i].rank < 0 || descs[i].rank > VSART_MAX_RANK)
        return reported("model has a malformed tensor descriptor");
  return true;
}

// What every rank does with its own session (comm NULL: the only rank).
// Rank 0 prints, times and writes the outputs; the others run the same
// forwards.
struct RankJob {
  const vsart_model_t *m = nullptr;
  const Options *o = nullptr;
  const char *argv0 = nullptr;
  const std::vector<Buffer> *inputs = nullptr;
  const std::vector<std::string> *outFiles = nullptr;
  vsart_status_t (*selectDevice)(int32_t rank) = nullptr;
};

bool runRank(const RankJob &job, vsart_comm_t comm) {
  const vsart_model_t *m = job.m;
  const Options &o = *job.o;
  const int32_t rank = comm ? vsart_comm_rank(comm) : 0;
  if (job.selectDevice)
    if (vsart_status_t st = job.selectDevice(rank))
      return reportedApi(st);
  SessionHolder h;
  if (!openSession(m, o, job.argv0, &h))
    return false;
  if (!setAttention(h.s, o, /*resetDense=*/false))
    return false;
  for (int32_t i = 0; i < m->num_inputs; ++i)
    if (vsart_status_t st =
            vsart_session_set_input(h.s, i, (*job.inputs)[size_t(i)].data()))
      return reportedApi(st);
  if (vsart_status_t st = vsart_session_set_comm(h.s, comm))
    return reportedApi(st);
  if (rank == 0 && !o.quiet)
    printMemory(m, h.s);
  if (!runForwards(h.s, o, rank == 0))
    return false;
  return rank != 0 || emitOutputs(m, h.s, o, *job.outFiles);
}

// vsart_comm_run_each may run a rank on the calling thread: restore.
int rankThread(vsart_comm_t comm, void *user) {
  const bool previous = collectErrors;
  collectErrors = true;
  const bool good = runRank(*static_cast<const RankJob *>(user), comm);
  collectErrors = previous;
  return good ? 0 : 1;
}

// A launcher (torchrun, mpirun) started this process as one of several.
bool launchedAsRank() {
  for (const char *v : {"WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char *s = std::getenv(v); s && *s)
      return true;
  return false;
}

int run(const vsart_model_t *m, const Options &o, const char *argv0,
        const vsart::ExeHooks *hooks) {
  std::string err;
  std::vector<std::string> inFiles, outFiles;
  if (!resolveAll(o.inputs, m->inputs, m->num_inputs, "input", &inFiles,
                  &err) ||
      !resolveAll(o.outputs, m->outputs, m->num_outputs, "output", &outFiles,
                  &err))
    return error(err);
  for (const std::string &pair : o.attention)
    if (pair.find('=') == std::string::npos)
      return error("--attn expects KEY=VALUE, got '" + pair + "'");
  if (o.threads)
    vsart_set_num_threads(int32_t(o.threads));
  std::vector<Buffer> inputs;
  if (!prepareInputs(m, o, inFiles, &inputs))
    return 1;
  RankJob job;
  job.m = m;
  job.o = &o;
  job.argv0 = argv0;
  job.inputs = &inputs;
  job.outFiles = &outFiles;
  const bool device = m->target != VSART_TARGET_CPU;
  if (o.ranks) {
    if (!device) {
      if (vsart_status_t st = vsart_comm_run_threads(int32_t(o.ranks),
                                                     rankThread, &job))
        return apiError(st);
      return 0;
    }
    if (!hooks || !hooks->createLocal)
      return error("--ranks on the " +
                   std::string(m->device ? m->device->name : "device") +
                   " target needs an executable built with "
                   "vsart_cuda_exe_main");
    std::vector<vsart_comm_t> comms(size_t(o.ranks), nullptr);
    if (vsart_status_t st =
            hooks->createLocal(int32_t(o.ranks), 0.0, comms.data()))
      return apiError(st);
    job.selectDevice = hooks->selectDevice;
    vsart_status_t st =
        vsart_comm_run_each(int32_t(o.ranks), comms.data(), rankThread, &job);
    std::string message = vsart_last_error();
    for (vsart_comm_t c : comms)
      vsart_comm_destroy(c);
    if (st)
      return error(message.empty() ? vsart_status_message(st) : message);
    return 0;
  }
  if (m->num_ranks > 1 && device && hooks && hooks->createFromEnv &&
      launchedAsRank()) {
    vsart_comm_t comm = nullptr;
    if (vsart_status_t st = hooks->createFromEnv(0.0, &comm))
      return apiError(st);
    const bool good = runRank(job, comm);
    if (!good) // the others stop with this rank's message
      vsart_comm_abort(comm, vsart_last_error());
    vsart_comm_destroy(comm);
    return good ? 0 : 1;
  }
  return runRank(job, nullptr) ? 0 : 1;
}

} // namespace

int vsart::exeMain(int argc, char **argv, const vsart_model_t *model,
                  const vsart::ExeHooks *hooks) {
  if (argc < 0 || !argv)
    argc = 0;
  const char *argv0 = argc > 0 && argv[0] ? argv[0] : nullptr;
  Options o;
  std::string err;
  if (!parseArgs(argc, argv, &o, &err))
    return error(err);
  if (!modelUsable(model))
    return 1;
  if (o.help) {
    printHelp(model, argv0 ? argv0 : (model->name ? model->name : "model"));
    return 0;
  }
  return run(model, o, argv0, hooks);
}

extern "C" int vsart_exe_main(int argc, char **argv,
                              const vsart_model_t *model) {
  return vsart::exeMain(argc, argv, model, nullptr);
}
