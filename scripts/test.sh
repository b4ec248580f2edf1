#!/usr/bin/env bash
# Builds what the tests need and runs every test: a short importer fuzz run,
# then the lit suite (dialect, importer, passes). Ends with the summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh vsa-test-deps
if [ "${VSA_SKIP_FUZZ:-0}" != 1 ]; then
  # A fixed seed keeps the CI run reproducible.
  scripts/fuzz.sh "${VSA_FUZZ_SECONDS:-60}" -seed=1
fi
results=build/test/lit-results.xml
status=0
/usr/lib/llvm-22/bin/lit -sv --xunit-xml-output="$results" build/test || status=$?
python3 - "$results" <<'PY'
import sys, xml.etree.ElementTree as ET
suites = list(ET.parse(sys.argv[1]).getroot().iter("testsuite"))
tests, failures, skipped = (sum(int(s.get(k, 0)) for s in suites)
                            for k in ("tests", "failures", "skipped"))
print(f"lit: {tests - failures - skipped} passed, {failures} failed, {skipped} skipped")
PY
exit $status
