// Per-op-kind timing of generated forwards: with VSART_PROFILE=1 the
// generated code brackets every runtime call and kernel launch with
// vsart_profile_op (synchronising the device, so each op is timed alone) and
// the executable prints where a forward's time goes. Off, it costs one
// branch per op.
#include "vsart_model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {
struct Totals {
  std::mutex mutex;
  std::map<std::string, std::pair<double, int64_t>> byKind; // ms, calls
  int64_t forwards = 0;
  std::chrono::steady_clock::time_point start;
};
Totals &totals() {
  static Totals t;
  return t;
}
} // namespace

extern "C" int vsart_profile_enabled(void) {
  static const bool enabled = [] {
    const char *v = std::getenv("VSART_PROFILE");
    return v && *v && std::string(v) != "0";
  }();
  return enabled;
}

extern "C" void vsart_profile_forward(void) {
  Totals &t = totals();
  std::lock_guard<std::mutex> lock(t.mutex);
  ++t.forwards;
}

extern "C" void vsart_profile_op(const char *kind,
                                 const vsart_device_ops_t *device, void *stream,
                                 int end) {
  device->synchronize(stream);
  Totals &t = totals();
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (!end) {
    t.start = now;
    return;
  }
  auto &entry = t.byKind[kind];
  entry.first += std::chrono::duration<double, std::milli>(now - t.start).count();
  entry.second += 1;
}

extern "C" void vsart_profile_reset(void) {
  Totals &t = totals();
  std::lock_guard<std::mutex> lock(t.mutex);
  t.byKind.clear();
  t.forwards = 0;
}

extern "C" void vsart_profile_report(void) {
  Totals &t = totals();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (t.forwards == 0)
    return;
  std::vector<std::pair<std::string, std::pair<double, int64_t>>> rows(
      t.byKind.begin(), t.byKind.end());
  std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
    return a.second.first > b.second.first;
  });
  double sum = 0;
  for (const auto &r : rows)
    sum += r.second.first;
  std::printf("profile (per forward, ops timed one by one, %lld forwards):\n",
              static_cast<long long>(t.forwards));
  for (const auto &[kind, v] : rows)
    std::printf("  %-10s %10.3f ms %5.1f%%  %lld calls\n", kind.c_str(),
                v.first / double(t.forwards), sum > 0 ? 100 * v.first / sum : 0,
                static_cast<long long>(v.second / t.forwards));
  std::printf("  %-10s %10.3f ms\n", "total", sum / double(t.forwards));
}
