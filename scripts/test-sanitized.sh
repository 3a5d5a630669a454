#!/usr/bin/env bash
# Builds Switchyard with AddressSanitizer + UBSan (-DSWITCHYARD_SANITIZE=ON) into
# ./build-sanitize (or $SANITIZE_BUILD_DIR) and runs the whole CTest suite against it: the
# unit tests and the integration tests, which then drive the sanitized switchyard binary.
# Any sanitizer report fails the test that triggered it (UBSan does not recover; the harness
# fails a test whose proxy died and shows the report from its log). Extra args go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${SANITIZE_BUILD_DIR:-build-sanitize}
# Benchmarks are not tests; the sanitized build skips them to save time.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSWITCHYARD_SANITIZE=ON -DSWITCHYARD_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
# halt_on_error for UBSan makes any undefined behaviour fatal (and so visible) in the child
# processes the integration tests start; abort_on_error gives a core-less, clear exit.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 900 "$@"
