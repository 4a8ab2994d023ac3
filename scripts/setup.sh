#!/usr/bin/env bash
# Installs what vramplan needs to build (Debian 12 packages only) and builds it into build/.
#   bash scripts/setup.sh           the tool only: build/bin/vramplan (README command 1)
#   bash scripts/setup.sh --tests   the tool and the test suite, for ctest (README command 2)
# Run as root on a fresh machine, or as a user with sudo. Idempotent: a second run only
# rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=0
case ${1:-} in
  "") ;;
  --tests) tests=1 ;;
  *) echo "usage: bash scripts/setup.sh [--tests]" >&2; exit 2 ;;
esac

packages=(cmake ninja-build g++ libcli11-dev nlohmann-json3-dev libfmt-dev libyaml-cpp-dev)
# docker-compose (1.29): test-only, validates the compose goldens without a daemon
# (tests/golden/compose_config_test.cpp skips, saying so, where it is missing).
((tests)) && packages+=(libgtest-dev docker-compose)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  as_root=()
  [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  echo "setup: installing ${missing[*]}" >&2
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if ((tests)); then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVRAMPLAN_BUILD_TESTS=ON >/dev/null
  cmake --build build -j "$(nproc)"
else
  # Only what `vramplan` needs (the catalog compiler, the libraries, the tool): about half of
  # the full build. A first configure leaves the tests out (no GoogleTest needed); an existing
  # build/ keeps its settings.
  configure=(-DCMAKE_BUILD_TYPE=Release)
  [[ -f build/CMakeCache.txt ]] || configure+=(-DVRAMPLAN_BUILD_TESTS=OFF)
  cmake -S . -B build -G Ninja "${configure[@]}" >/dev/null
  cmake --build build -j "$(nproc)" --target vramplan
fi
