// The search order of llama.cpp's --fit (common/fit.cpp) over GPU layers and MoE experts, shared
// by the planner (planner.cpp, which measures each candidate with the closed forms) and `check`
// (check.cpp, which replays llama-server's --fit on a deployment). `fits` is monotone: what fits
// with more layers on the GPU (or fewer experts in RAM) also fits with fewer (or more).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

namespace vramplan::fit_order {

// The most GPU layers in [0, all_layers] for which fits(layers) holds; 0 when none does. A
// binary search: about log2(n_layer) evaluations instead of one per layer (a crafted
// 1024-layer model made a linear scan take minutes: docs/reliability.md §7).
template <typename Fits>
std::int32_t most_gpu_layers(std::int32_t all_layers, Fits fits) {
  if (all_layers <= 0 || fits(all_layers)) return all_layers;
  std::int32_t lo = 0;               // fits, or is the answer when nothing does
  std::int32_t hi = all_layers - 1;  // all_layers does not fit
  while (lo < hi) {
    const std::int32_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

struct ExpertPlacement {
  std::int32_t gpu_layers = 0;
  std::int32_t cpu_moe = 0;  // --n-cpu-moe: blocks 0..cpu_moe-1 keep their experts in RAM
};

// A mixture of experts: the routed experts stay in RAM before whole layers leave the GPU, so
// attention and the KV cache stay on it. First the most layers that fit with every block's
// experts in RAM, then the experts given back to the GPU for as many of its blocks as still
// fit: --n-cpu-moe is the smallest N that fits. fits(gpu_layers, cpu_moe). nullopt when not
// even one block fits on the GPU that way (the caller then offloads whole layers only).
template <typename Fits>
std::optional<ExpertPlacement> place_experts(std::int32_t all_layers, std::int32_t n_block,
                                             Fits fits) {
  const std::int32_t layers =
      most_gpu_layers(all_layers, [&](std::int32_t n) { return fits(n, n_block); });
  // The output layer goes to the GPU first: `layers` GPU layers hold layers - 1 blocks.
  const std::int32_t gpu_blocks = std::min(std::max(layers - 1, 0), n_block);
  if (gpu_blocks <= 0) return std::nullopt;
  // Blocks 0..n_block-gpu_blocks-1 run on the CPU anyway: N up to there changes nothing.
  std::int32_t lo = n_block - gpu_blocks + 1;
  std::int32_t hi = n_block;  // fits; GPU use falls as N grows
  while (lo < hi) {
    const std::int32_t mid = lo + (hi - lo) / 2;
    if (fits(layers, mid)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return ExpertPlacement{layers, hi};
}

}  // namespace vramplan::fit_order
