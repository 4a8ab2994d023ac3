// The allocation dependencies llama.cpp's CUDA backend adds for the MoE fusions it will run
// (ggml_backend_cuda_graph_optimize, ggml/src/ggml-cuda/ggml-cuda.cu): the top-k routing
// (ggml_cuda_topk_moe_fusion, ggml_cuda_should_use_topk_moe in topk-moe.cu) and the weighted
// sum of the selected experts (ggml_cuda_match_moe_weighted_reduction). ggml-backend-sched
// turns each into a dependency node after the node it names (add_alloc_dep in
// ggml_backend_sched_split_graph), so ggml-alloc keeps those tensors alive until then; the
// CUDA backend does not reorder nodes unless GGML_CUDA_GRAPH_OPT=1. Internal to sched.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "vk_reorder.hpp"

namespace vramplan::sched::cuda_fusion {

// What the matchers check of a tensor beyond its op: its shape, its type, its layout.
struct Info {
  std::array<std::int64_t, 4> ne{1, 1, 1, 1};
  bool f32 = false;
  bool contiguous = true;
};

// (the node after which, the tensors kept alive until it ran), by key.
using Deps = std::vector<std::pair<std::int64_t, std::vector<std::int64_t>>>;

// One CUDA split's nodes, in order (vk::Node: keys, ops, sources, use counts); `info` answers
// for every key a node or a source names.
[[nodiscard]] Deps alloc_deps(const std::vector<vk::Node>& nodes,
                              const std::function<Info(std::int64_t)>& info);

}  // namespace vramplan::sched::cuda_fusion
