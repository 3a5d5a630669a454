#!/usr/bin/env bash
# Builds Switchyard with AddressSanitizer + UBSan (-DSWITCHYARD_SANITIZE=ON) into
# ./build-sanitize (or $SANITIZE_BUILD_DIR) and runs the whole CTest suite against it: the
# unit tests and the integration tests, which then drive the sanitized switchyard binary.
# Any sanitizer report fails the test that triggered it (UBSan does not recover; the harness
# fails a test whose proxy died and shows the report from its log). Extra args go to ctest.
# scripts/test.sh runs this first; it needs the packages of scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${SANITIZE_BUILD_DIR:-build-sanitize}
# -Og -g1 compiles in half the time of -O2 -g under the sanitizers (the Asio/Beast coroutine
# code dominates) and keeps assertions on; the stack traces still name file and line.
# A unity build (eight sources per compiler run) instantiates the Asio and GoogleTest templates
# once per batch rather than once per file: this build takes 490 s of CPU instead of 1,100.
# One CTest test per unit-test executable: 708 sanitized process starts cost 160 s of CPU.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-Og -g1" \
  -DCMAKE_C_FLAGS_DEBUG="-Og -g1" -DSWITCHYARD_SANITIZE=ON -DCMAKE_UNITY_BUILD=ON \
  -DSWITCHYARD_TEST_PER_CASE=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
# halt_on_error for UBSan makes any undefined behaviour fatal (and so visible) in the child
# processes the integration tests start; abort_on_error gives a core-less, clear exit.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 900 "$@"
