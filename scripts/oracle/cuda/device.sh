#!/usr/bin/env bash
# The CUDA oracle's run on a machine with an NVIDIA GPU (scripts/oracle/cuda/README.md): builds
# libllama with CUDA from the llama.cpp source node-llama-cpp 3.22.1 bundles, then measures
# grid-cuda.json through the Vulkan oracle's driver and measure.py (--backend cuda).
#
#   scripts/oracle/cuda/device.sh SOURCE_DIR MAKE_GGUF OUT_DIR [JOBS]
#
# SOURCE_DIR: the llama.cpp source (with a SOURCE_COMMIT file naming its commit); MAKE_GGUF:
# vramplan_make_gguf (or a wrapper); OUT_DIR receives llamacpp-cuda.jsonl, progress.jsonl (each
# record as it completes), the build log and the raw logs (logs.tgz).
set -uo pipefail
src=$1 make_gguf=$2 out=$3 jobs=${4:-6}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${BUILD_DIR:-/tmp/vramplan-llama-cuda}
mkdir -p "$out"
t0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader
nvcc=$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2>/dev/null | head -1)
export PATH="$(dirname "$nvcc"):$PATH"
"$nvcc" --version | tail -2
echo "cpus: $(nproc)  $(grep -m1 'model name' /proc/cpuinfo)"
arch=${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)}
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=ON \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="$arch" -DLLAMA_CURL=OFF \
  -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_BUILD_APP=OFF >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
if ! cmake --build "$build" --target llama -j"$(nproc)" >>"$out/build.log" 2>&1; then
  grep -m20 -B2 -A8 "error" "$out/build.log" | tail -60
  exit 1
fi
echo "libllama with CUDA built in $((SECONDS - t0)) s"
work=/tmp/vramplan-oracle-cuda
measure() {  # GRID NAME
  python3 "$here/../vulkan/measure.py" --backend cuda --build-dir "$build" --source "$src" \
    --grid "$here/$1" --name "$2" --make-gguf "$make_gguf" --work "$work" --out-dir "$out" \
    --jobs "$jobs" --progress "$out/progress.jsonl" 2>&1 | tee -a "$out/measure.log" | tail -n 80
  return "${PIPESTATUS[0]}"
}
footprint() {  # CASES
  python3 "$here/footprint.py" --driver "$work/driver" --gguf-dir "$work/gguf" \
    --out "$out/footprint-$1.jsonl" --logs "$work/logs/footprint-$1" --cases "$1"
  echo "footprints at $((SECONDS - t0)) s"
}
if [[ ${ORACLE_RUN:-first} == more ]]; then  # more.sh
  measure grid-cuda-more.json llamacpp-cuda-more; rc=$?
  footprint more
else
  measure grid-cuda.json llamacpp-cuda; rc=$?
  echo "real models measured at $((SECONDS - t0)) s, rc $rc"
  footprint first
  measure grid-cuda-shapes.json llamacpp-cuda-shapes || rc=$?
fi
tar czf "$out/logs.tgz" -C "$work" logs
echo "done in $((SECONDS - t0)) s, rc $rc"
exit "$rc"
