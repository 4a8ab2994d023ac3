#!/usr/bin/env bash
# Generates sparse GGUFs of several architectures with vramplan_make_gguf and cross-checks
# vramplan's reader against @huggingface/gguf. Usage: scripts/crosscheck/run.sh [BUILD_DIR]
# Needs node and @huggingface/gguf (NODE_PATH or ~/.cache/vramplan-oracle/node_modules).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(realpath -m "${1:-$root/build}")  # absolute: the check runs from the npm cache dir
cache=${VRAMPLAN_ORACLE_CACHE:-$HOME/.cache/vramplan-oracle}
out=${VRAMPLAN_CROSSCHECK_DIR:-/tmp/vramplan-crosscheck}
mkdir -p "$out"

cmake --build "$build" --target vramplan vramplan_make_gguf >/dev/null
files=()
for model in qwen2.5:0.5b-q4_K_M llama3.2:1b-q8_0 gemma2:2b-q4_K_M phi3:3.8b-q4_0 \
             deepseek-coder-v2:16b-q4_K_M gpt-oss:20b-mxfp4 qwen3:30b-q4_K_M; do
  file="$out/${model//[:\/]/-}.gguf"
  [[ -f $file ]] || "$build/bin/vramplan_make_gguf" --model "$model" --out "$file" >/dev/null
  files+=("$file")
done
cp "$here/gguf_crosscheck.mjs" "$cache/gguf_crosscheck.mjs"
(cd "$cache" && node gguf_crosscheck.mjs "$build/bin/vramplan" "${files[@]}")
