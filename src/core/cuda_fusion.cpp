#include "cuda_fusion.hpp"

#include <algorithm>

// Follows ggml_backend_cuda_graph_optimize's fusion pass (see cuda_fusion.hpp) over one split.
// Only the gating vramplan's graphs build is matched: a softmax router, with or without the k
// weights renormalised; gpt-oss's delayed softmax adds no dependency there. The sigmoid router
// llama4 builds sorts the logits, not the sigmoid's output, which ggml_cuda_topk_moe_fusion
// requires (ARGSORT's source the node before the RESHAPE), so it fuses nothing; no graph here
// has a sqrt-softplus router.

namespace vramplan::sched::cuda_fusion {
namespace {

using vk::GgmlOp;
using vk::Node;

// The largest k of the weighted sum's fused kernel (MOE_WEIGHTED_REDUCTION_MAX_EXPERTS).
constexpr std::int64_t kMaxReductionExperts = 15;

class Matcher {
 public:
  Matcher(const std::vector<Node>& nodes, const std::function<Info(std::int64_t)>& info)
      : g_(nodes), n_(static_cast<int>(nodes.size())), info_(info) {}

  Deps run() {
    for (int i = 0; i < n_; ++i) {
      int count = 0;
      if (weighted_reduction(i, count)) i += count - 1;
      if (at(i).op == GgmlOp::soft_max) {
        const int ops = topk_moe(i);
        if (ops > 0) {
          // add_alloc_deps(i, i + ops): every node of the pattern and each of its sources,
          // until the node after the pattern.
          if (i + ops < n_) {
            for (int j = i; j < i + ops; ++j) {
              add(at(j).key, at(i + ops).key);
              for (std::int64_t s : at(j).src) {
                if (s >= 0) add(s, at(i + ops).key);
              }
            }
          }
          i += ops - 1;
        }
      }
    }
    return std::move(deps_);
  }

 private:
  const Node& at(int i) const { return g_[static_cast<std::size_t>(i)]; }

  void add(std::int64_t tensor, std::int64_t until) {
    auto it =
        std::find_if(deps_.begin(), deps_.end(), [&](const auto& d) { return d.first == until; });
    if (it == deps_.end()) {
      deps_.emplace_back(until, std::vector<std::int64_t>{});
      it = deps_.end() - 1;
    }
    if (std::find(it->second.begin(), it->second.end(), tensor) == it->second.end()) {
      it->second.push_back(tensor);
    }
  }

  // ggml_can_fuse_subgraph over nodes [start, start + count) with the given outputs: each
  // other node has no user outside the span and is not a graph output, and a view's memory
  // is a node of the span.
  bool can_fuse(int start, int count, std::initializer_list<int> outputs) const {
    for (int i = start; i < start + count; ++i) {
      if (std::find(outputs.begin(), outputs.end(), i) != outputs.end()) continue;
      const Node& node = at(i);
      if (node.output) return false;
      int uses = 0;
      for (int j = i + 1; j < start + count; ++j) {
        for (std::int64_t s : at(j).src) uses += s == node.key ? 1 : 0;
      }
      if (uses != node.use_count) return false;
      if (node.view_src >= 0) {
        bool inside = false;
        for (int j = start; j < start + count; ++j) inside = inside || at(j).key == node.view_src;
        if (!inside) return false;
      }
    }
    return true;
  }

  // ggml_cuda_topk_moe_fusion from a SOFT_MAX at i, then graph_optimize's checks: the number
  // of nodes fused (0: none).
  int topk_moe(int i) const {
    int idx = i + 1;
    const auto src0_is = [&](int at_idx, int of) { return at(at_idx).src[0] == at(of).key; };
    if (idx >= n_ || at(idx).op != GgmlOp::reshape || !src0_is(idx, idx - 1)) return 0;
    const std::int64_t probs_reshaped = at(idx).key;
    ++idx;
    if (idx >= n_) return 0;
    bool prob_bias = false;
    if (at(idx).op == GgmlOp::add && src0_is(idx, idx - 2)) {
      prob_bias = true;
      ++idx;
    }
    if (idx >= n_ || at(idx).op != GgmlOp::argsort) return 0;
    if (!src0_is(idx, prob_bias ? idx - 1 : idx - 2)) return 0;
    const int argsort = idx;
    ++idx;
    if (idx >= n_ || at(idx).op != GgmlOp::view || !src0_is(idx, idx - 1)) return 0;
    ++idx;
    if (idx >= n_ || at(idx).op != GgmlOp::get_rows) return 0;
    if (at(idx).src[0] != probs_reshaped || !(at(idx).src[1] == at(idx - 1).key)) return 0;
    ++idx;
    // A RESHAPE after GET_ROWS starts the renormalisation; when it does not complete, the
    // match ends there (no SCALE either).
    bool norm = false, scale = false, tail = true;
    if (idx < n_ && at(idx).op == GgmlOp::reshape) {
      norm = true;
      for (GgmlOp op : {GgmlOp::reshape, GgmlOp::sum_rows, GgmlOp::clamp}) {
        if (norm && idx < n_ && at(idx).op == op && src0_is(idx, idx - 1)) {
          ++idx;
        } else {
          norm = false;
        }
      }
      if (norm && !(idx < n_ && at(idx).op == GgmlOp::div && at(idx).src[1] == at(idx - 1).key &&
                    src0_is(idx, idx - 3))) {
        norm = false;
      }
      if (norm) ++idx;
      if (norm && !(idx < n_ && at(idx).op == GgmlOp::reshape && src0_is(idx, idx - 1))) {
        norm = false;
      }
      if (norm) ++idx;
      tail = norm;
    }
    if (tail && idx < n_ && at(idx).op == GgmlOp::scale && src0_is(idx, idx - 1)) scale = true;
    // The pattern graph_optimize builds from those flags.
    std::vector<GgmlOp> ops{GgmlOp::soft_max, GgmlOp::reshape};
    if (prob_bias) ops.push_back(GgmlOp::add);
    ops.insert(ops.end(), {GgmlOp::argsort, GgmlOp::view, GgmlOp::get_rows});
    const int ids = i + static_cast<int>(ops.size()) - 2;
    if (norm) {
      ops.insert(ops.end(),
                 {GgmlOp::reshape, GgmlOp::sum_rows, GgmlOp::clamp, GgmlOp::div, GgmlOp::reshape});
    }
    if (scale) ops.push_back(GgmlOp::scale);
    const int count = static_cast<int>(ops.size());
    const int weights = i + count - 1;
    if (i + count > n_) return 0;
    for (int k = 0; k < count; ++k) {
      if (at(i + k).op != ops[static_cast<std::size_t>(k)]) return 0;
    }
    if (!can_fuse(i, count, {ids, weights})) return 0;
    // ggml_cuda_should_use_topk_moe: a kernel for the expert count (a power of 2 up to 512,
    // or 288 or 576), contiguous logits and weights, a softmax without mask or sinks.
    const std::int64_t n_expert = info_(at(argsort).key).ne[0];
    const bool pow2 = n_expert > 0 && (n_expert & (n_expert - 1)) == 0;
    if ((!pow2 || n_expert > 512) && n_expert != 288 && n_expert != 576) return 0;
    const Node& softmax = at(i);
    if (softmax.src[0] < 0 || !info_(softmax.src[0]).contiguous) return 0;
    if (!info_(at(weights).key).contiguous) return 0;
    if (softmax.src[1] >= 0 || softmax.src[2] >= 0) return 0;
    return count;
  }

  // ggml_cuda_match_moe_weighted_reduction at i: experts * weights (a MUL), its k slices
  // summed one ADD at a time. On a match the experts and the weights stay alive until the
  // last ADD ran.
  bool weighted_reduction(int i, int& node_count) {
    const Node& first = at(i);
    const Info fi = info_(first.key);
    if (first.op != GgmlOp::mul || !fi.f32 || !fi.contiguous) return false;
    std::int64_t experts = -1, weights = -1;
    const auto is_weights = [&](std::int64_t t) {
      if (t < 0) return false;
      const Info x = info_(t);
      return x.f32 && x.contiguous && x.ne[0] == 1 && x.ne[1] == fi.ne[1] && x.ne[2] == fi.ne[2] &&
             x.ne[3] == fi.ne[3];
    };
    const auto is_experts = [&](std::int64_t t) {
      if (t < 0) return false;
      const Info x = info_(t);
      return x.f32 && x.contiguous && x.ne == fi.ne;
    };
    if (is_experts(first.src[0]) && is_weights(first.src[1])) {
      experts = first.src[0];
      weights = first.src[1];
    } else if (is_experts(first.src[1]) && is_weights(first.src[0])) {
      experts = first.src[1];
      weights = first.src[0];
    } else {
      return false;
    }
    // The (experts * expert_scale) * weights form needs a second MUL: our graphs have no
    // per-expert scale.
    const std::int64_t k = fi.ne[1];
    const std::int64_t tokens = fi.ne[2] * fi.ne[3];
    if (k < 2 || k > kMaxReductionExperts || tokens <= 0) return false;
    const int count = static_cast<int>(2 * k);  // the MUL, k views, k - 1 ADDs
    if (i + count > n_) return false;
    std::vector<std::int64_t> views;
    std::int64_t previous = -1;
    int adds = 0;
    for (int off = 1; off < count; ++off) {
      const Node& c = at(i + off);
      if (c.op == GgmlOp::view) {
        const Info ci = info_(c.key);
        if (static_cast<std::int64_t>(views.size()) >= k || c.src[0] != first.key ||
            c.view_src != first.key || !ci.f32 || ci.ne[0] != fi.ne[0] || ci.ne[1] != tokens ||
            ci.ne[2] != 1 || ci.ne[3] != 1) {
          return false;
        }
        views.push_back(c.key);
        continue;
      }
      if (c.op != GgmlOp::add || views.size() < 2 || adds + 1 >= static_cast<int>(views.size())) {
        return false;
      }
      const std::int64_t lhs = adds == 0 ? views[0] : previous;
      const std::int64_t rhs = views[static_cast<std::size_t>(adds) + 1];
      if (c.src[0] != lhs || c.src[1] != rhs || !info_(c.key).f32) return false;
      previous = c.key;
      ++adds;
    }
    if (static_cast<std::int64_t>(views.size()) != k || adds != k - 1 || previous < 0) {
      return false;
    }
    const Info pi = info_(previous);
    if (!pi.contiguous || pi.ne[0] != fi.ne[0] || pi.ne[1] != tokens || pi.ne[2] != 1 ||
        pi.ne[3] != 1) {
      return false;
    }
    if (!can_fuse(i, count, {i + count - 1})) return false;
    add(experts, previous);
    add(weights, previous);
    node_count = count;
    return true;
  }

  const std::vector<Node>& g_;
  int n_;
  const std::function<Info(std::int64_t)>& info_;
  Deps deps_;
};

}  // namespace

Deps alloc_deps(const std::vector<vk::Node>& nodes, const std::function<Info(std::int64_t)>& info) {
  return Matcher(nodes, info).run();
}

}  // namespace vramplan::sched::cuda_fusion
