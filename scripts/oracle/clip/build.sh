#!/usr/bin/env bash
# Builds clip_mem: the pinned llama.cpp's tools/mtmd CLIP loader and graph builders compiled
# against the prebuilt CPU ggml libraries of the same commit (node-llama-cpp 3.22.1, de3ff815).
# Usage: scripts/oracle/clip/build.sh [OUT_DIR]   (default /tmp/clip_mem)
set -euo pipefail
LLAMA=${LLAMA_CPP_DIR:-/root/.cache/vramplan-oracle-vulkan/llama.cpp}
LIBS=${GGML_LIB_DIR:-/root/.cache/vramplan-oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64}
OUT=${1:-/tmp/clip_mem}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT/obj"
CXX=${CXX:-g++}
FLAGS=(-std=c++17 -O1 -g0 -w -fPIC -I"$LLAMA/ggml/include" -I"$LLAMA/include" -I"$LLAMA/tools/mtmd")
objs=()
for src in "$LLAMA"/tools/mtmd/clip.cpp "$LLAMA"/tools/mtmd/mtmd-image.cpp "$LLAMA"/tools/mtmd/mtmd-audio.cpp "$LLAMA"/tools/mtmd/models/*.cpp "$HERE/clip_mem.cpp"; do
  obj="$OUT/obj/$(basename "$(dirname "$src")")_$(basename "$src" .cpp).o"
  if [[ ! -f $obj || $src -nt $obj ]]; then
    echo "CXX $src" >&2
    "$CXX" "${FLAGS[@]}" -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done
"$CXX" -o "$OUT/clip_mem" "${objs[@]}" "$LIBS/libggml-base.so" "$LIBS/libggml.v0.5.0.so" \
  -Wl,-rpath,"$LIBS" -lpthread
echo "$OUT/clip_mem"
