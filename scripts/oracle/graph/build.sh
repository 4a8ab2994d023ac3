#!/usr/bin/env bash
# Builds the graph probe: the llama.cpp release node-llama-cpp bundles (the oracle's), with
# ggml-alloc-dump.patch, as static CPU libraries, and probe.cpp against them.
#
#   scripts/oracle/graph/build.sh [WORK_DIR]    (default /tmp/vramplan-graph; ~10 min on 2 cores)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:-/tmp/vramplan-graph}
modules=${VRAMPLAN_ORACLE_NODE_MODULES:-$HOME/.cache/vramplan-oracle/node_modules}
bundle="$modules/node-llama-cpp/llama/gitRelease.bundle"
[[ -f $bundle ]] || { echo "no $bundle: install the oracle first (scripts/oracle/README.md)" >&2; exit 1; }
mkdir -p "$work"
if [[ ! -d $work/llama.cpp ]]; then
  git clone -q "$bundle" "$work/llama.cpp"
  git -C "$work/llama.cpp" apply "$here/ggml-alloc-dump.patch"
fi
cmake -S "$work/llama.cpp" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
  -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_OPENSSL=OFF >/dev/null
ninja -C "$work/build" llama >/dev/null
g++ -O1 -std=c++17 "$here/probe.cpp" -I"$work/llama.cpp/include" -I"$work/llama.cpp/ggml/include" \
  -o "$work/probe" "$work/build/src/libllama.a" "$work/build/ggml/src/libggml.a" \
  "$work/build/ggml/src/libggml-cpu.a" "$work/build/ggml/src/libggml-base.a" -fopenmp -lpthread -ldl
echo "$work/probe"
