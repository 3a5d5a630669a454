#!/usr/bin/env bash
# The one command that installs what is needed, builds, and runs every test. CI runs it.
#
#   ./scripts/test.sh           the whole suite on an ASan + UBSan build, the thread checks
#                               on a ThreadSanitizer build, the fuzz smoke,
#                               and the README's quick start end to end
#   ./scripts/test.sh --plain   the whole suite on the plain build (./build), then the quick
#                               start: quicker to rebuild while working, no sanitizers
#
# The default run, in order (about 16 minutes on 2 cores from a clean clone):
#   1. scripts/test-sanitized.sh: every unit test and every integration test (against a real
#      PostgreSQL 15 the harness starts) with the sanitized switchyard in ./build-sanitize;
#      any sanitizer report fails the test that triggered it.
#   2. scripts/test-threads.sh: the tests that cross threads on a ThreadSanitizer build
#      (./build-tsan); any report fails it.
#   3. scripts/fuzz.sh: each libFuzzer target for 5 s (clang, ./build-fuzz), then a replay of
#      the checked-in corpora.
#   4. scripts/demo.sh --smoke on the sanitized binary: demo database, demo migration, a dual
#      write checked through psql, backfill and verify.
# Extra arguments go to ctest (e.g. -R integration.rewrite).
set -euo pipefail
cd "$(dirname "$0")/.."
PLAIN=0
if [ "${1:-}" = "--plain" ]; then
  PLAIN=1
  shift
elif [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
./scripts/install-deps.sh
export SWITCHYARD_DEMO_PORT=${SWITCHYARD_DEMO_PORT:-16432}
export SWITCHYARD_DEMO_PG_PORT=${SWITCHYARD_DEMO_PG_PORT:-16433}
if [ "$PLAIN" -eq 1 ]; then
  ./scripts/build.sh
  ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j"$(nproc)" --timeout 600 "$@"
  SWITCHYARD_BUILD_DIR="${BUILD_DIR:-build}" ./scripts/demo.sh --smoke
  exit 0
fi
started=$SECONDS
./scripts/test-sanitized.sh "$@"
echo "test: sanitized suite passed ($((SECONDS - started)) s so far)"
./scripts/test-threads.sh
echo "test: ThreadSanitizer checks passed ($((SECONDS - started)) s so far)"
./scripts/fuzz.sh 5
echo "test: fuzz smoke passed ($((SECONDS - started)) s so far)"
SWITCHYARD_BUILD_DIR="${SANITIZE_BUILD_DIR:-build-sanitize}" ./scripts/demo.sh --smoke
echo "test: all passed in $((SECONDS - started)) s"
