// A replay of llama.cpp's Vulkan backend's node reordering (ggml_vk_graph_optimize,
// ggml/src/ggml-vulkan/ggml-vulkan.cpp of llama.cpp de3ff815ea7d559ee917f063901b8986f038abc6):
// the scheduler hands each Vulkan split's nodes to it before the graph is copied for ggml-alloc,
// so the order it chooses decides the tensors' lifetimes, and with them the compute buffer.
// Internal to sched.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace vramplan::sched::vk {

// The ggml ops the reordering tells apart (GGML_OP_*); `none` is a leaf (weight, cache, graph
// input, or a copy of a tensor from another split).
enum class GgmlOp : std::uint8_t {
  none,
  reshape,
  view,
  permute,
  get_rows,
  rms_norm,
  norm,
  mul,
  add,
  scale,
  unary,
  glu,
  mul_mat,
  mul_mat_id,
  add_id,
  rope,
  soft_max,
  flash_attn_ext,
  cont,
  concat,
  argsort,
  sum_rows,
  div,
  clamp,
  set_rows,
  ssm_conv,
  ssm_scan,
  cpy,
  gated_delta_net,
  pad,
  // Gemma 3n's AltUp and activation-sparsity ops, and the REPEAT of llama4's expert input: real
  // nodes (not empty), in no fusion pattern the reordering keeps for the graphs built here.
  sqr,
  sqrt,
  sub,
  repeat,
  mean,
};

// One node of a split as the reordering (and CUDA's fusion matcher, cuda_fusion.hpp) sees it.
// Tensors are named by keys (any distinct integers): a node's own key, its sources' keys (-1:
// none), its view source's key (a view or a set_rows: the tensor whose memory it uses; -1
// otherwise).
struct Node {
  std::int64_t key = -1;
  GgmlOp op = GgmlOp::none;
  std::array<std::int64_t, 8> src{-1, -1, -1, -1, -1, -1, -1, -1};
  std::array<GgmlOp, 8> src_op{GgmlOp::none, GgmlOp::none, GgmlOp::none, GgmlOp::none,
                               GgmlOp::none, GgmlOp::none, GgmlOp::none, GgmlOp::none};
  // Each source's base: its view source when it is a view (or a set_rows), else itself.
  std::array<std::int64_t, 8> src_base{-1, -1, -1, -1, -1, -1, -1, -1};
  std::int64_t view_src = -1;
  int n_src = 8;        // the sources to look at: src[n_src..] are all -1
  bool output = false;  // GGML_TENSOR_FLAG_OUTPUT
  int use_count = 0;    // uses in the whole graph (ggml_node_get_use_count)
};

struct Reordered {
  std::vector<int> order;  // indices into the split's nodes, in the new order
  // add_alloc_dep: (the node after which, the tensors kept alive until it ran), by key.
  std::vector<std::pair<std::int64_t, std::vector<std::int64_t>>> deps;
};

// A tensor's shape, type and layout, by key (the UNARY + MUL fusion's checks).
struct Layout {
  std::array<std::int64_t, 4> ne{1, 1, 1, 1};
  bool f32 = false;
  bool contiguous = true;
};

[[nodiscard]] Reordered reorder(const std::vector<Node>& nodes,
                                const std::function<Layout(std::int64_t)>& layout);

}  // namespace vramplan::sched::vk
