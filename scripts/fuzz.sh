#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into ./build-fuzz (or $FUZZ_BUILD_DIR) and runs each
# for a bounded time, default 5 seconds:
#   scripts/fuzz.sh                 # every target, 5 s each (the CI smoke)
#   scripts/fuzz.sh 1800            # every target, 30 min each, one after the other
#   scripts/fuzz.sh 600 fuzz_rewrite fuzz_config
# New inputs go to build-fuzz/corpus/<target> (seeds stay in tests/fuzz/corpus/<target>, add
# good ones by hand); a crash is saved as build-fuzz/artifacts/<target>/crash-* and makes
# this script fail. Each run's last status line (exec count) is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-5}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(fuzz_frontend fuzz_backend fuzz_config fuzz_rewrite)
fi
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (scripts/install-deps.sh installs clang)" >&2
  exit 1
fi

CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSWITCHYARD_FUZZ=ON -DSWITCHYARD_TESTS=OFF -DSWITCHYARD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${TARGETS[@]}"

status=0
summary=()
for target in "${TARGETS[@]}"; do
  work="$BUILD_DIR/corpus/$target"
  artifacts="$BUILD_DIR/artifacts/$target"
  log="$BUILD_DIR/$target.log"
  mkdir -p "$work" "$artifacts"
  echo "fuzz: $target for ${SECONDS_EACH}s"
  # -max_len bounds SQL/config inputs (the rewriter caps its own at 4 KiB too); -timeout
  # makes a hang a failure; leaks are reported by ASan at exit of each input's process.
  if "$BUILD_DIR/tests/fuzz/$target" "$work" "tests/fuzz/corpus/$target" \
      -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1; then
    summary+=("$target: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') execs, ok")
  else
    status=1
    summary+=("$target: FAILED, see $log and $artifacts")
    tail -n 40 "$log" >&2
  fi
done
printf '%s\n' "${summary[@]}"
# Replays the checked-in corpora once (seconds).
ctest --test-dir "$BUILD_DIR" --output-on-failure -R "$(IFS='|'; echo "${TARGETS[*]}")" || status=1
exit $status
