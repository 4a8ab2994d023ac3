#!/usr/bin/env bash
# Measures every make_mmproj.py preset with clip_mem; one JSON line per preset and setting.
# Usage: scripts/oracle/clip/measure.sh [CLIP_MEM [PRESET...]]
#   (default /tmp/clip_mem/clip_mem and the presets of clip-cpu.jsonl)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-/tmp/clip_mem/clip_mem}
export GGML_LIB_DIR=${GGML_LIB_DIR:-/root/.cache/vramplan-oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PRESETS=("${@:2}")
if [[ ${#PRESETS[@]} -eq 0 ]]; then
  PRESETS=(gemma3-4b gemma3-12b gemma3-27b llava-7b llava-13b llava-34b gemma3-small llava-vitb16-224
           qwen2.5vl-3b qwen2.5vl-7b qwen2.5vl-32b qwen2.5vl-72b qwen3vl-2b qwen3vl-4b qwen3vl-8b
           qwen3vl-30b-a3b qwen3vl-32b qwen2.5vl-7b-f32patch qwen3vl-8b-f32patch qwen2.5vl-small
           qwen3vl-small qwen3vl-nodeepstack)
fi
for preset in "${PRESETS[@]}"; do
  shape=$(python3 "$HERE/make_mmproj.py" "$preset" "$TMP/$preset.gguf")
  "$BIN" "$TMP/$preset.gguf" 2>/dev/null | while read -r fa weights total compute; do
    echo "{\"preset\":\"$preset\",\"encoder\":$shape,\"flash_attn\":\"${fa#fa=}\",\"backend\":\"CPU\",\"weights\":${weights#weights=},\"compute\":${compute#compute=},\"llama_cpp\":\"de3ff815\"}"
  done
  rm -f "$TMP/$preset.gguf"
done
