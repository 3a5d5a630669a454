#!/usr/bin/env bash
# Builds Switchyard with ThreadSanitizer (-DSWITCHYARD_TSAN=ON) into ./build-tsan (or
# $TSAN_BUILD_DIR) and runs what crosses threads against it: the worker inbox and listener
# unit tests, and the integration modules that reload, rebind, drain and stop (lifecycle,
# admin) and the classes of the rewrite module that look up the catalog off the worker, check
# it on its own thread and rebuild the rules (integration.rewrite_threads). A worker's
# io_context takes no locks (proxy/worker_inbox.hpp), so only its own thread may touch it; a
# report here means something else did. Every report is written to a file, and any file fails this script,
# also for a race in a proxy that was shutting down. Extra args go to ctest.
# scripts/test.sh runs this after the ASan + UBSan suite.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${TSAN_BUILD_DIR:-build-tsan}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-Og -g1" \
  -DCMAKE_C_FLAGS_DEBUG="-Og -g1" -DSWITCHYARD_TSAN=ON -DSWITCHYARD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target switchyard proxy_thread_tests
reports=$(mktemp -d)
chmod 777 "$reports"  # the harness may run the proxy as another user
trap 'rm -rf "$reports"' EXIT
export TSAN_OPTIONS="log_path=$reports/report:second_deadlock_stack=1"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 900 \
  -R '^(proxy\.(WorkerInboxTest|ListenersTest|MetricsShardsTest)\.|integration\.(lifecycle|admin|rewrite_threads)$)' "$@"
if compgen -G "$reports/report*" >/dev/null; then
  echo "test-threads: ThreadSanitizer reports:" >&2
  cat "$reports"/report* >&2
  exit 1
fi
echo "test-threads: no ThreadSanitizer report"
