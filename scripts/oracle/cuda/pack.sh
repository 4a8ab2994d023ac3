#!/usr/bin/env bash
# Packs what the CUDA oracle's device run needs into DIR (scripts/oracle/cuda/README.md): the
# llama.cpp source of the Vulkan oracle's set-up without ggml's other backends, and
# vramplan_make_gguf with the shared libraries a bare machine lacks (fmt, yaml-cpp).
#
#   scripts/oracle/cuda/pack.sh DIR [SOURCE] [MAKE_GGUF]
set -euo pipefail
dir=$1
src=${2:-$HOME/.cache/vramplan-oracle-vulkan/llama.cpp}
make_gguf=${3:-build/bin/vramplan_make_gguf}
[[ -f "$src/include/llama.h" ]] || { echo "pack.sh: no llama.cpp source in $src" >&2; exit 1; }
[[ -x "$make_gguf" ]] || { echo "pack.sh: no $make_gguf (build it first)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/llama.cpp/ggml/src" "$dir/bin"
cp -r "$src"/{CMakeLists.txt,cmake,include,src,vendor,LICENSE} "$dir/llama.cpp/"
cp -r "$src"/ggml/{CMakeLists.txt,cmake,include} "$dir/llama.cpp/ggml/"
for f in "$src"/ggml/src/*; do
  case $(basename "$f") in
    ggml-cuda | ggml-cpu | ggml-blas) cp -r "$f" "$dir/llama.cpp/ggml/src/" ;;
    ggml-*) [[ -d $f ]] || cp "$f" "$dir/llama.cpp/ggml/src/" ;;  # other backends: left out
    *) cp -r "$f" "$dir/llama.cpp/ggml/src/" ;;
  esac
done
git -C "$src" log -1 --format='%H %cs' >"$dir/llama.cpp/SOURCE_COMMIT"
cp "$make_gguf" "$dir/bin/vramplan_make_gguf"
for lib in $(ldd "$make_gguf" | awk '/libfmt|libyaml-cpp/ {print $3}'); do cp "$lib" "$dir/bin/"; done
cat >"$dir/bin/make_gguf" <<'WRAP'
#!/bin/sh
here=$(dirname "$0")
LD_LIBRARY_PATH="$here" exec "$here/vramplan_make_gguf" "$@"
WRAP
chmod +x "$dir/bin/make_gguf"
du -sh "$dir"
