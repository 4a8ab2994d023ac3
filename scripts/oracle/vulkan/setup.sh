#!/usr/bin/env bash
# Set-up for the Vulkan (lavapipe) oracle, scripts/oracle/vulkan/README.md: Mesa's software
# Vulkan driver, node-llama-cpp's prebuilt Vulkan libllama, and the llama.cpp source it was
# built from (for llama.h and for reading the code behind the numbers).
#
#   scripts/oracle/vulkan/setup.sh [CACHE_DIR]   (default ~/.cache/vramplan-oracle-vulkan)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache="${1:-$HOME/.cache/vramplan-oracle-vulkan}"

if ! dpkg -s mesa-vulkan-drivers libvulkan1 >/dev/null 2>&1; then
  apt-get install -y mesa-vulkan-drivers vulkan-tools libvulkan1
fi
mkdir -p "$cache"
cp "$here/package.json" "$cache/package.json"
# Only node-llama-cpp and its Vulkan build: the other prebuilt packages are optional.
(cd "$cache" && npm install --omit=optional --ignore-scripts --no-audit --no-fund)
if [[ ! -d "$cache/llama.cpp/.git" ]]; then
  git clone -q "$cache/node_modules/node-llama-cpp/llama/gitRelease.bundle" "$cache/llama.cpp"
fi
echo "llama.cpp source: $(git -C "$cache/llama.cpp" log -1 --format='%H %cs')"
GGML_VK_VISIBLE_DEVICES=0 vulkaninfo --summary 2>/dev/null | grep -E "deviceName|deviceType" || true
