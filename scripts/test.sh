#!/usr/bin/env bash
# The one command that installs what is needed, builds, and runs every test
# (unit tests, and integration tests against a real PostgreSQL 15 the harness starts).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j"$(nproc)" --timeout 600
# The README's quick start, end to end: demo database, demo migration, a dual write checked.
SWITCHYARD_DEMO_PORT=${SWITCHYARD_DEMO_PORT:-16432} SWITCHYARD_DEMO_PG_PORT=${SWITCHYARD_DEMO_PG_PORT:-16433} \
  ./scripts/demo.sh --smoke
