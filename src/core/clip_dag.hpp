// The encoder graph builders' stand-in for a ggml context (clip_graph.cpp, clip_qwenvl.cpp):
// tensors recorded as a builder creates them, laid out in ggml's graph order.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <vramplan/graph_alloc.hpp>
#include <vramplan/vision_encoder.hpp>

namespace vramplan::clip_detail {

using graph::Elem;
using graph::Op;
using Shape = std::array<std::int64_t, 4>;

// A stand-in for a ggml context: tensors with their sources in creation order. The graph is
// then laid out in ggml's order (ggml_visit_parents_graph: a tensor after its sources, depth
// first, source 0 first, each tensor once), from the roots in the order the builder expanded
// them (clip's build_attn pins Q, K and V with ggml_build_forward_order before the rest).
class Dag {
 public:
  enum class Kind : std::uint8_t { input, weight, view, node };

  int input(Elem elem, Shape ne) { return add({Kind::input, Op::input, elem, ne, true, {}}); }
  int weight() { return add({Kind::weight, Op::external, Elem::f32, {1, 1, 1, 1}, true, {}}); }
  int op(Op op, Elem elem, Shape ne, std::vector<int> srcs) {
    return add({Kind::node, op, elem, ne, true, std::move(srcs)});
  }
  // A view of a tensor (reshape when contiguous, permute/transpose when not); a view of a
  // weight is the weight (the allocator owns neither).
  int view(int parent, Shape ne, bool contiguous = true) {
    if (t_[static_cast<std::size_t>(parent)].kind == Kind::weight) return parent;
    return add({Kind::view,
                Op::view,
                t_[static_cast<std::size_t>(parent)].elem,
                ne,
                contiguous,
                {parent}});
  }
  [[nodiscard]] const Shape& ne(int t) const { return t_[static_cast<std::size_t>(t)].ne; }

  // ggml_build_forward_expand / _order: appends the root and its unvisited ancestors.
  void expand(int root) {
    visited_.resize(t_.size(), false);
    visit(root);
  }

  [[nodiscard]] graph::Graph lay_out() const {
    graph::Graph g;
    g.reserve(t_.size());
    std::vector<graph::TensorId> id(t_.size(), -1);
    // ggml_gallocr allocates the graph inputs first, in the order the nodes use them.
    for (int n : order_) {
      for (int s : t_[static_cast<std::size_t>(n)].src) {
        const T& src = t_[static_cast<std::size_t>(s)];
        if (src.kind == Kind::input && id[static_cast<std::size_t>(s)] < 0) {
          id[static_cast<std::size_t>(s)] = g.input(src.elem, src.ne);
        }
      }
    }
    for (int n : order_) {
      const T& t = t_[static_cast<std::size_t>(n)];
      auto& out = id[static_cast<std::size_t>(n)];
      if (t.kind == Kind::weight) {
        out = g.external();
      } else if (t.kind == Kind::view) {
        out = g.view(id[static_cast<std::size_t>(t.src[0])], t.ne, t.contiguous);
      } else if (t.kind == Kind::node) {
        graph::Tensor x;
        x.op = t.op;
        x.elem = t.elem;
        x.ne = t.ne;
        for (std::size_t i = 0; i < t.src.size(); ++i) {
          x.src[i] = id[static_cast<std::size_t>(t.src[i])];
        }
        out = g.node(x);
      }
    }
    return g;
  }

 private:
  struct T {
    Kind kind;
    Op op;
    Elem elem;
    Shape ne;
    bool contiguous;
    std::vector<int> src;
  };
  int add(T t) {
    t_.push_back(std::move(t));
    return static_cast<int>(t_.size() - 1);
  }
  void visit(int t) {
    if (visited_[static_cast<std::size_t>(t)]) return;
    visited_[static_cast<std::size_t>(t)] = true;
    for (int s : t_[static_cast<std::size_t>(t)].src) visit(s);
    if (t_[static_cast<std::size_t>(t)].kind != Kind::input) order_.push_back(t);
  }

  std::vector<T> t_;
  std::vector<bool> visited_;
  std::vector<int> order_;  // weights, views and nodes in graph order
};

// The Qwen-VL encoders' graphs (clip_qwenvl.cpp): qwen25vl and qwen3vl.
[[nodiscard]] graph::Graph qwenvl_graph(const VisionEncoder& encoder, std::int64_t out_width,
                                        bool flash_attn);

}  // namespace vramplan::clip_detail
