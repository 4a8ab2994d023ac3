#!/usr/bin/env bash
# Live accuracy check for CI (.ci/run): measures scripts/oracle/grid-ci.json (6 quick cases) with
# real llama.cpp through node-llama-cpp@3.22.1 and checks vramplan against it with the unit
# test's tolerances (tests/accuracy/accuracy_test.cpp: weights and KV exact, compute + output
# within max(3 %, 8 MiB)). node_modules live outside the repository, in
# ~/.cache/vramplan-oracle (installed once). Without node/npm or the registry it prints a skip
# line and exits 0.
#
#   scripts/oracle/ci.sh [BUILD_DIR]     (default: build; needs bin/vramplan_tests built)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(realpath -m "${1:-$root/build}")
cache="$HOME/.cache/vramplan-oracle"
work=$(mktemp -d /tmp/vramplan-oracle-ci.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "accuracy (live): node/npm not available; skipped"
  exit 0
fi
if [[ ! -d $cache/node_modules/node-llama-cpp ]]; then
  mkdir -p "$cache"
  [[ -f $cache/package.json ]] || (cd "$cache" && npm init -y >/dev/null)
  if ! (cd "$cache" && timeout 600 npm install --no-audit --no-fund node-llama-cpp@3.22.1 \
          >/dev/null 2>&1); then
    echo "accuracy (live): npm install node-llama-cpp@3.22.1 failed (registry unreachable?); skipped"
    exit 0
  fi
fi
version=$(node -p "require('$cache/node_modules/node-llama-cpp/package.json').version")
if [[ $version != 3.22.1 ]]; then
  echo "accuracy (live): $cache has node-llama-cpp $version, not 3.22.1; skipped"
  exit 0
fi

echo "accuracy (live): measuring scripts/oracle/grid-ci.json with node-llama-cpp $version"
VRAMPLAN_ORACLE_NODE_MODULES="$cache/node_modules" timeout 900 \
  "$root/scripts/oracle/run.sh" --grid "$root/scripts/oracle/grid-ci.json" --name ci \
  --work "$work" --out-dir "$work/data" --build-dir "$build" >"$work/run.log" 2>&1 || {
  tail -20 "$work/run.log"
  echo "accuracy (live): measurement failed" >&2
  exit 1
}
cases=$(wc -l <"$work/data/ci.jsonl")
echo "accuracy (live): $cases cases measured; comparing"
VRAMPLAN_ACCURACY_DIR="$work/data" "$build/bin/vramplan_tests" \
  --gtest_filter='Accuracy.WeightsAndKvExact:Accuracy.ComputeAndOutputWithinThreePercentOrEightMiB' \
  | grep -E '^\[accuracy\]|FAILED|PASSED|Failure|n_ctx='
exit "${PIPESTATUS[0]}"
