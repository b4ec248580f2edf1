#!/usr/bin/env bash
# Builds the importer fuzzer (tools/fuzz) in build-fuzz/ with clang and runs
# it for SECONDS (default 60) on a copy of the seed corpus test/fuzz/corpus.
# Exits non-zero on a crash, leak, timeout, out-of-memory or sanitizer report;
# the reproducer is kept in build-fuzz/fuzz-artifacts/<time>/. Ends with libFuzzer's
# stats line. Extra arguments go to libFuzzer (e.g. -jobs=2, -seed=1).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [LIBFUZZER_ARGS...]" >&2
  exit 2
fi

build=build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -G Ninja -B "$build" -S . -DVSA_ENABLE_FUZZER=ON \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
# Other builds share the machine: one ninja at a time.
flock /tmp/vsa-build.lock ninja -C "$build" vsa-import-fuzzer
fuzzer=$build/bin/vsa-import-fuzzer

work=$(mktemp -d "${TMPDIR:-/tmp}/vsa-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r test/fuzz/corpus "$work/corpus"
stamp=$(date +%Y%m%d-%H%M%S)
artifacts=$build/fuzz-artifacts/$stamp
mkdir -p "$artifacts"
log=$build/fuzz-$stamp.log

echo "fuzz: running $fuzzer for ${seconds}s (log: $log)"
status=0
# UBSan reports abort (the target is built with -fno-sanitize-recover).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
"$fuzzer" "$work/corpus" -dict=test/fuzz/onnx.dict \
  -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" \
  >"$log" 2>&1 || status=$?

stats=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED|RELOAD)' "$log" | tail -n 1 || true)
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED (exit $status); last 60 lines of $log:" >&2
  tail -n 60 "$log" >&2
  ls -1 "$artifacts" 2>/dev/null | sed "s|^|fuzz: artifact $artifacts/|" >&2 || true
  echo "fuzz: ${stats:-no stats}" >&2
  exit "$status"
fi
echo "fuzz: ok: ${stats:-no stats}"
