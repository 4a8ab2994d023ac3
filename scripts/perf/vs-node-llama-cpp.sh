#!/usr/bin/env bash
# Whole-process wall time of `vramplan fit` against node-llama-cpp's `inspect estimate` on the
# same GGUF, in one hyperfine run (issue 12's Performance paragraph; docs/performance.md §3).
# Not run by CI: it needs hyperfine and node-llama-cpp (scripts/oracle/README.md, Setup).
#
#   scripts/perf/vs-node-llama-cpp.sh [--build-dir build] [--model llama3.1:8b-q4_k_m]
#
# The GGUF is written by vramplan_make_gguf (a test-only target: configure the build with
# -DVRAMPLAN_BUILD_TESTS=ON): the catalog model's real tensor list and metadata, its tensor
# data a hole, so both tools read the same header and neither reads weights.
set -euo pipefail

build_dir=build
model=llama3.1:8b-q4_k_m
runs=30
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

node_modules=${VRAMPLAN_ORACLE_NODE_MODULES:-$HOME/.cache/vramplan-oracle/node_modules}
nlc="$node_modules/.bin/node-llama-cpp"
for tool in hyperfine node "$build_dir/bin/vramplan" "$build_dir/bin/vramplan_make_gguf" "$nlc"; do
  command -v "$tool" > /dev/null || { echo "missing: $tool" >&2; exit 1; }
done

work=${TMPDIR:-/tmp}/vramplan-perf
mkdir -p "$work"
gguf="$work/${model//[:\/]/_}.gguf"
[[ -f "$gguf" ]] || "$build_dir/bin/vramplan_make_gguf" --model "$model" --out "$gguf" > /dev/null

echo "model: $model ($gguf)"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$build_dir/bin/vramplan" --version
echo "node-llama-cpp $("$nlc" --version)"

# Both plan a 24 GB GPU from the file's header; node-llama-cpp on its CPU build (--gpu false)
# so that it probes no GPU driver.
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/hyperfine.json" \
  -n vramplan "$build_dir/bin/vramplan fit --model $gguf --vram 24G" \
  -n node-llama-cpp "$nlc inspect estimate --gpu false --maxVram 24GB -m $gguf"

python3 - "$work/hyperfine.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
v, n = results["vramplan"], results["node-llama-cpp"]
print(f"medians: vramplan {v['median'] * 1e3:.2f} ms, node-llama-cpp {n['median'] * 1e3:.0f} ms, "
      f"ratio {n['median'] / v['median']:.0f}x")
PY
