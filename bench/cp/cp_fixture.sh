# Sourced by bench/wan/gpu_run.sh and bench/cp/gpu_cp_run.sh (with $pkg and
# $OUT set): cp_fixture NAME runs the context-parallel fixture $pkg/NAME
# over its ranks (NCCL over the local GPUs) and compares its output with
# PyTorch's, appending both to $OUT/cp.txt.
cp_fixture() {
  local name=$1 ranks dir f
  ranks=$(cat "$pkg/cp/$name.ranks")
  dir=$pkg/fixtures/$(cat "$pkg/cp/$name.fixture")
  local args=()
  for f in "$dir"/in/*.npy; do args+=(--input "$(basename "$f" .npy)=$f"); done
  timeout 120 "$pkg/$name" --quiet --ranks "$ranks" "${args[@]}" --output "/tmp/$name.npy" >> "$OUT/cp.txt" 2>&1
  python3 test/e2e/Inputs/compare_npy.py "/tmp/$name.npy" "$dir/out/sample.npy" \
    --name "$name (cuda, $ranks GPUs)" --l2 2e-2 >> "$OUT/cp.txt" 2>&1
}
