#!/usr/bin/env bash
# Runs the llama.cpp oracle over a grid (scripts/oracle/README.md):
# writes a sparse GGUF per model with vramplan_make_gguf, measures each configuration with real
# llama.cpp (node-llama-cpp, CPU backend) and writes bench/accuracy/data/<name>.jsonl.
#
#   scripts/oracle/run.sh [--build-dir DIR] [--grid FILE] [--name NAME] [--work DIR] [--out-dir DIR]
#
# Environment: VRAMPLAN_ORACLE_NODE_MODULES (default ~/.cache/vramplan-oracle/node_modules),
# a directory holding node-llama-cpp@3.22.1 (see README.md for installing it there).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir="$root/build-oracle"
grid="$root/scripts/oracle/grid-smoke.json"
name="llamacpp-cpu-smoke"
work="/tmp/vramplan-oracle"
out_dir="$root/bench/accuracy/data"
node_modules="${VRAMPLAN_ORACLE_NODE_MODULES:-$HOME/.cache/vramplan-oracle/node_modules}"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$(realpath -m "$2"); shift 2 ;;
    --grid) grid=$(realpath "$2"); shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --work) work=$(realpath -m "$2"); shift 2 ;;
    --out-dir) out_dir=$(realpath -m "$2"); shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [[ ! -d "$node_modules/node-llama-cpp" ]]; then
  echo "run.sh: node-llama-cpp not found in $node_modules (see scripts/oracle/README.md)" >&2
  exit 2
fi

# 1. vramplan_make_gguf (configure the build dir if it has never been configured).
make_gguf="$build_dir/bin/vramplan_make_gguf"
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build_dir" --target vramplan_make_gguf >/dev/null

# 2. Sparse GGUFs: the data section is a hole, so each takes only its header on disk.
mkdir -p "$work/gguf"
models=$(node -e 'for (const e of JSON.parse(require("fs").readFileSync(process.argv[1])))
                    console.log(e.model)' "$grid")
summaries="$work/models.jsonl"
: >"$summaries"
for model in $models; do
  file="$work/gguf/${model//[:\/]/-}.gguf"
  # --as-llamacpp: a file llama.cpp loads as Ollama's compat layer presents it (qwen25vl ->
  # qwen2vl; no change for the other architectures).
  "$make_gguf" --model "$model" --as-llamacpp --out "$file" >>"$summaries"
done
echo "GGUFs in $work/gguf: $(du -sh --apparent-size "$work/gguf" | cut -f1) nominal," \
     "$(du -sh "$work/gguf" | cut -f1) on disk" >&2

# 3. The grid with file paths, architecture and file type filled in.
node -e '
  const fs = require("fs");
  const grid = JSON.parse(fs.readFileSync(process.argv[1]));
  const made = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map(JSON.parse);
  const byModel = new Map(made.map((m) => [m.model, m]));
  for (const e of grid) {
    const m = [...byModel.values()].find((x) => x.path.endsWith(
        "/" + e.model.replace(/[:\/]/g, "-") + ".gguf"));
    Object.assign(e, {gguf: m.path, arch: m.arch, file_type: m.file_type,
                      canonical: m.model, tensor_bytes: m.tensor_bytes});
  }
  fs.writeFileSync(process.argv[3], JSON.stringify(grid, null, 1));
' "$grid" "$summaries" "$work/grid.json"

# 4. llama.cpp's build, from the library node-llama-cpp loads (its own release tag is recorded
#    by measure.mjs).
lib=$(ls "$node_modules"/@node-llama-cpp/linux-x64/bins/*/libllama-common.so 2>/dev/null | head -1)
if [[ -n "$lib" ]]; then
  VRAMPLAN_LLAMA_BUILD=$(python3 - "$lib" <<'EOF' 2>/dev/null || true
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
commit = lib._Z12llama_commitv
commit.restype = ctypes.c_char_p
print(f"build {lib._Z18llama_build_numberv()}, commit {commit().decode()}")
EOF
  )
  export VRAMPLAN_LLAMA_BUILD
fi

# 5. Measure.
mkdir -p "$out_dir"
NODE_PATH="$node_modules" node "$root/scripts/oracle/measure.mjs" \
  --grid "$work/grid.json" --out "$work/$name.jsonl" --log-dir "$work/logs/$name"
mv "$work/$name.jsonl" "$out_dir/$name.jsonl"
echo "wrote $out_dir/$name.jsonl ($(wc -l <"$out_dir/$name.jsonl") cases)" >&2
