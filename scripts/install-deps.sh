#!/usr/bin/env bash
# Installs everything Switchyard needs to build, test, benchmark and run its demo, from
# Debian 12 packages only. Safe to run again: it does nothing when all are present.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ pkg-config
  libboost1.81-dev libboost-system1.81-dev libssl-dev libspdlog-dev libtomlplusplus-dev
  libpg-query-dev libprotobuf-c-dev libpq-dev rapidjson-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-15 postgresql-client-15 postgresql-contrib pgbouncer
  python3 python3-psycopg python3-asyncpg python3-prometheus-client openssl
  python3-psycopg2 python3-sqlalchemy python3-django openjdk-17-jdk-headless libpostgresql-jdbc-java
  procps iproute2
  # fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or install them with sudo apt-get install)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Where an init system runs, installing these packages starts Debian's own PostgreSQL cluster
# and PgBouncer; the tests, benchmarks and demo start their own on other ports and need
# neither, and PgBouncer's default port is the demo's.
if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
  pg_ctlcluster 15 main stop 2>/dev/null || true
fi
if [[ " ${missing[*]} " == *" pgbouncer "* ]]; then
  service pgbouncer stop >/dev/null 2>&1 || true
fi
