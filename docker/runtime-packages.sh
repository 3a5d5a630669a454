#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries a binary links, one per line, so
# the runtime image installs exactly those (and follows whatever install-deps.sh built against).
#   docker/runtime-packages.sh build/proxy/switchyard
set -euo pipefail
binary=${1:?usage: runtime-packages.sh BINARY}
ldd "$binary" | awk '$3 ~ /^\// { print $3 }' | while read -r lib; do
  dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib"
done | cut -d: -f1 | sort -u
