#include "vk_reorder.hpp"

#include <algorithm>
#include <initializer_list>
#include <set>

// Follows ggml_vk_graph_optimize step by step (see vk_reorder.hpp for the release): fusion
// patterns are kept together; otherwise each step takes the next unused node and, from the
// next 20 positions, every real node that depends on nothing unused before it (with the
// fusion exceptions), pulling a few consumers along (RMS_NORM+MUL -> ROPE, ROPE/RMS_NORM ->
// VIEW -> SET_ROWS, MUL_MAT_ID+ADD_ID -> MUL, MUL_MAT+ADD -> ADD, SSM_CONV+ADD -> UNARY,
// UNARY -> MUL), then the view nodes whose sources ran. The patterns with ops vramplan's graphs
// never contain (SIN, TOP_K) are left out: they cannot match. So is the sqrt-softplus router's
// (UNARY, SQRT, RESHAPE, ADD, ARGSORT, ...): gemma3n's SQRT follows a SUM_ROWS, and its graph has
// no ARGSORT. Every UNARY of the replayed graphs (SiLU, sigmoid, softplus, GELU; gemma2's tanh,
// which no MUL reads) is one the UNARY + MUL fusion takes (ggml_vk_unary_mul_op_index).

namespace vramplan::sched::vk {
namespace {

using Pattern = std::initializer_list<GgmlOp>;

constexpr Pattern kTopkMoeEarlySoftmaxNorm{
    GgmlOp::soft_max, GgmlOp::reshape,  GgmlOp::argsort, GgmlOp::view, GgmlOp::get_rows,
    GgmlOp::reshape,  GgmlOp::sum_rows, GgmlOp::clamp,   GgmlOp::div,  GgmlOp::reshape};
constexpr Pattern kTopkMoeSigmoidNormBias{GgmlOp::unary,   GgmlOp::reshape,  GgmlOp::add,
                                          GgmlOp::argsort, GgmlOp::view,     GgmlOp::get_rows,
                                          GgmlOp::reshape, GgmlOp::sum_rows, GgmlOp::clamp,
                                          GgmlOp::div,     GgmlOp::reshape};
constexpr Pattern kTopkMoeEarlySoftmax{GgmlOp::soft_max, GgmlOp::reshape, GgmlOp::argsort,
                                       GgmlOp::view, GgmlOp::get_rows};
constexpr Pattern kTopkMoeLateSoftmax{GgmlOp::argsort, GgmlOp::view,     GgmlOp::get_rows,
                                      GgmlOp::reshape, GgmlOp::soft_max, GgmlOp::reshape};
constexpr Pattern kRmsNormMulAddMul{GgmlOp::rms_norm, GgmlOp::mul, GgmlOp::add, GgmlOp::mul};
constexpr Pattern kRmsNormMulAdd{GgmlOp::rms_norm, GgmlOp::mul, GgmlOp::add};
constexpr Pattern kRmsNormMulRopeViewSetRows{GgmlOp::rms_norm, GgmlOp::mul, GgmlOp::rope,
                                             GgmlOp::view, GgmlOp::set_rows};
constexpr Pattern kRmsNormViewSetRows{GgmlOp::rms_norm, GgmlOp::view, GgmlOp::set_rows};
constexpr Pattern kRopeViewSetRows{GgmlOp::rope, GgmlOp::view, GgmlOp::set_rows};

bool is_empty(const Node& n) {
  return n.op == GgmlOp::none || n.op == GgmlOp::reshape || n.op == GgmlOp::view ||
         n.op == GgmlOp::permute;
}

std::int64_t base(const Node& n) { return n.view_src >= 0 ? n.view_src : n.key; }

class Optimizer {
 public:
  Optimizer(const std::vector<Node>& nodes, const std::function<Layout(std::int64_t)>& layout)
      : g_(nodes),
        layout_(layout),
        n_(static_cast<int>(nodes.size())),
        used_(nodes.size(), false) {}

  Reordered run() {
    while (first_unused_ < n_) step();
    return std::move(out_);
  }

 private:
  const Node& at(int i) const { return g_[static_cast<std::size_t>(i)]; }
  bool used(int i) const { return used_[static_cast<std::size_t>(i)]; }
  void use(int i) { used_[static_cast<std::size_t>(i)] = true; }

  // is_src_of: whether dst must run after src.
  static bool depends(const Node& dst, const Node& src) {
    const auto n = static_cast<std::size_t>(std::max(dst.n_src, src.n_src));
    for (std::size_t s = 0; s < n; ++s) {
      if (dst.src[s] == src.key) return true;
      if (is_empty(dst) || is_empty(src)) continue;
      // A source view of dst may read storage written through a different view by src.
      if (dst.src[s] >= 0 && dst.src_base[s] == base(src)) return true;
      // Moving dst forward may overwrite storage still read through a view by src.
      if (src.src[s] >= 0 && base(dst) == src.src_base[s]) return true;
    }
    // Implicitly dependent when both view the same tensor.
    return base(dst) == base(src);
  }

  bool empty_or_scheduled_between(int lo, int hi) const {
    for (int v = lo; v < hi; ++v) {
      if (!used(v) && !is_empty(at(v))) return false;
    }
    return true;
  }

  bool match(Pattern p, int start) const {
    if (start + static_cast<int>(p.size()) > n_) return false;
    int j = 0;
    for (GgmlOp op : p) {
      if (at(start + j).op != op || used(start + j)) return false;
      ++j;
    }
    return true;
  }

  void push(int i) {
    out_.order.push_back(i);
    used_set_.insert(at(i).key);
    use(i);
  }
  void advance() {
    while (first_unused_ < n_ && used(first_unused_)) ++first_unused_;
  }

  bool keep(Pattern p) {
    if (!match(p, first_unused_)) return false;
    for (int j = 0; j < static_cast<int>(p.size()); ++j) push(first_unused_ + j);
    advance();
    return true;
  }

  // keep_topk_moe_pattern: the pattern's external inputs stay alive through its last node
  // (one more when a SCALE follows).
  bool keep_topk_moe(Pattern p) {
    if (!match(p, first_unused_)) return false;
    int last = first_unused_ + static_cast<int>(p.size()) - 1;
    if (last + 1 < n_ && at(last + 1).op == GgmlOp::scale) ++last;
    std::set<std::int64_t> seen;
    std::vector<std::int64_t> keep_alive;
    for (int j = 0; j < static_cast<int>(p.size()); ++j) {
      const Node& node = at(first_unused_ + j);
      for (std::int64_t s : node.src) {
        if (s >= 0 && seen.insert(s).second &&
            std::find(keep_alive.begin(), keep_alive.end(), s) == keep_alive.end()) {
          keep_alive.push_back(s);
        }
      }
      seen.insert(node.key);
    }
    const std::int64_t until = at(last).key;
    auto it = std::find_if(out_.deps.begin(), out_.deps.end(),
                           [&](const auto& d) { return d.first == until; });
    if (it == out_.deps.end()) {
      out_.deps.emplace_back(until, std::vector<std::int64_t>{});
      it = out_.deps.end() - 1;
    }
    for (std::int64_t s : keep_alive) {
      if (std::find(it->second.begin(), it->second.end(), s) == it->second.end()) {
        it->second.push_back(s);
      }
    }
    return keep(p);
  }

  // ggml_vk_can_fuse_unary_mul: F32 throughout, the MUL's other source and the UNARY's input
  // contiguous in rows, and the smaller operand tiling into the other (ggml_can_repeat).
  bool unary_mul_fuses(const Node& unary, const Node& mul) const {
    const std::int64_t other = mul.src[0] == unary.key ? mul.src[1] : mul.src[0];
    if (other < 0 || unary.src[0] < 0) return false;
    const Layout u = layout_(unary.key), m = layout_(mul.key), o = layout_(other);
    if (!u.f32 || !m.f32 || !o.f32) return false;
    if (!o.contiguous || !layout_(unary.src[0]).contiguous) return false;
    const auto repeats = [](const Layout& a, const Layout& b) {
      for (std::size_t i = 0; i < 4; ++i) {
        if (a.ne[i] <= 0 || b.ne[i] % a.ne[i] != 0) return false;
      }
      return true;
    };
    return mul.src[0] == unary.key ? repeats(o, u) : repeats(u, layout_(mul.src[0]));
  }

  bool any_pattern_at(int j) const {
    return match(kTopkMoeEarlySoftmaxNorm, j) || match(kTopkMoeSigmoidNormBias, j) ||
           match(kTopkMoeEarlySoftmax, j) || match(kTopkMoeLateSoftmax, j) ||
           match(kRmsNormMulAddMul, j) || match(kRmsNormMulAdd, j) ||
           match(kRmsNormMulRopeViewSetRows, j) || match(kRmsNormViewSetRows, j) ||
           match(kRopeViewSetRows, j);
  }

  // ggml_can_fuse_subgraph_ext over {a, b, c} with c the only output.
  bool can_fuse3(int a, int b, int c) const {
    const int idx[3] = {a, b, c};
    for (int i = 0; i < 3; ++i) {
      const Node& node = at(idx[i]);
      if (i == 2) continue;  // the output
      if (node.output) return false;
      int uses = 0;
      for (int j = i + 1; j < 3; ++j) {
        for (std::int64_t s : at(idx[j]).src) uses += s == node.key ? 1 : 0;
      }
      if (uses != node.use_count) return false;
      if (node.view_src >= 0 && node.view_src != at(a).key && node.view_src != at(b).key &&
          node.view_src != at(c).key) {
        return false;
      }
    }
    return true;
  }

  void step() {
    if (keep_topk_moe(kTopkMoeEarlySoftmaxNorm) || keep_topk_moe(kTopkMoeSigmoidNormBias) ||
        keep_topk_moe(kTopkMoeEarlySoftmax) || keep_topk_moe(kTopkMoeLateSoftmax) ||
        keep(kRmsNormMulAddMul) || keep(kRmsNormMulAdd) || keep(kRmsNormMulRopeViewSetRows) ||
        keep(kRmsNormViewSetRows) || keep(kRopeViewSetRows)) {
      return;
    }
    std::vector<int> current{first_unused_};
    constexpr int kNumToCheck = 20;
    const int end = std::min(first_unused_ + kNumToCheck, n_);
    for (int j = first_unused_ + 1; j < end; ++j) {
      if (used(j) || is_empty(at(j)) || any_pattern_at(j)) continue;
      const Node& nj = at(j);
      bool ok = true;
      for (int c = first_unused_; c < j; ++c) {
        if (used(c) || !depends(nj, at(c))) continue;
        const Node& nc = at(c);
        const bool back = c == current.back();
        const bool next = j == c + 1 && back;
        if (back && nc.op == GgmlOp::rms_norm && nj.op == GgmlOp::mul &&
            empty_or_scheduled_between(c + 1, j)) {
          continue;
        }
        if (back && nc.op == GgmlOp::unary && nj.op == GgmlOp::mul &&
            empty_or_scheduled_between(c + 1, j)) {
          continue;
        }
        if (next && ((nc.op == GgmlOp::mul_mat && nj.op == GgmlOp::add) ||
                     (nc.op == GgmlOp::mul_mat_id && nj.op == GgmlOp::add_id) ||
                     (nc.op == GgmlOp::mul_mat_id && nj.op == GgmlOp::mul) ||
                     (nc.op == GgmlOp::add && nj.op == GgmlOp::add) ||
                     (nc.op == GgmlOp::ssm_conv && nj.op == GgmlOp::add) ||
                     (nc.op == GgmlOp::ssm_conv && nj.op == GgmlOp::unary))) {
          continue;
        }
        ok = false;
        break;
      }
      if (!ok) continue;
      current.push_back(j);
      int rope_idx = j;
      // RMS_NORM + MUL: a ROPE of it whose other sources are leaves.
      if (j > 0 && nj.op == GgmlOp::mul && at(j - 1).op == GgmlOp::rms_norm) {
        for (int k = j + 1; k < std::min(j + 15, n_); ++k) {
          const Node& nk = at(k);
          if (nk.op == GgmlOp::rope && nk.src[0] == nj.key && nk.src_op[1] == GgmlOp::none &&
              (nk.src[2] < 0 || nk.src_op[2] == GgmlOp::none)) {
            rope_idx = k;
            current.push_back(k);
            use(k);
            break;
          }
        }
      }
      // ROPE / RMS_NORM + VIEW + SET_ROWS made consecutive.
      if (at(rope_idx).op == GgmlOp::rope || at(rope_idx).op == GgmlOp::rms_norm) {
        int view_idx = -1, set_rows_idx = -1;
        for (int k = rope_idx + 1; k < std::min(rope_idx + 15, n_); ++k) {
          if (used(k)) continue;
          const Node& nk = at(k);
          if (view_idx == -1 && nk.op == GgmlOp::view && nk.src[0] == at(rope_idx).key) {
            view_idx = k;
            continue;
          }
          if (view_idx != -1 && nk.op == GgmlOp::set_rows && nk.src[0] == at(view_idx).key) {
            set_rows_idx = k;
            break;
          }
        }
        if (set_rows_idx != -1) {
          bool can_pull = can_fuse3(rope_idx, view_idx, set_rows_idx);
          for (int c = rope_idx + 1; can_pull && c < set_rows_idx; ++c) {
            if (!used(c) && c != view_idx && !is_empty(at(c)) && depends(at(set_rows_idx), at(c))) {
              can_pull = false;
            }
          }
          if (can_pull) {
            current.push_back(view_idx);
            current.push_back(set_rows_idx);
            use(view_idx);
            use(set_rows_idx);
          }
        }
      }
      // MUL_MAT_ID + ADD_ID + MUL, MUL_MAT + ADD + ADD: the second consumer pulled along
      // when its other source is a leaf or already placed.
      auto pull = [&](GgmlOp first, GgmlOp second, GgmlOp third) {
        if (!(j > 0 && nj.op == second && at(j - 1).op == first)) return;
        for (int k = j + 1; k < std::min(j + 15, n_); ++k) {
          const Node& nk = at(k);
          if (nk.op == third && nk.src[0] == nj.key &&
              (nk.src_op[1] == GgmlOp::none || used_set_.count(nk.src[1]) != 0)) {
            current.push_back(k);
            use(k);
            break;
          }
        }
      };
      pull(GgmlOp::mul_mat_id, GgmlOp::add_id, GgmlOp::mul);
      pull(GgmlOp::mul_mat, GgmlOp::add, GgmlOp::add);
      // SSM_CONV + ADD + UNARY: the UNARY of the ADD pulled along.
      if (j > 0 && nj.op == GgmlOp::add && at(j - 1).op == GgmlOp::ssm_conv) {
        for (int k = j + 1; k < std::min(j + 15, n_); ++k) {
          if (at(k).op == GgmlOp::unary && at(k).src[0] == nj.key) {
            current.push_back(k);
            use(k);
            break;
          }
        }
      }
      // UNARY + MUL: a MUL of the UNARY pulled along when its other source is a leaf or
      // already placed and the pair fuses (ggml_vk_can_fuse_unary_mul).
      if (j > 0 && nj.op == GgmlOp::unary) {
        for (int k = j + 1; k < std::min(j + 15, n_); ++k) {
          const Node& mul = at(k);
          if (mul.op != GgmlOp::mul || (mul.src[0] != nj.key && mul.src[1] != nj.key)) continue;
          const std::size_t o = mul.src[0] == nj.key ? 1 : 0;
          if (!(mul.src_op[o] == GgmlOp::none || used_set_.count(mul.src[o]) != 0)) continue;
          if (!unary_mul_fuses(nj, mul)) continue;
          current.push_back(k);
          use(k);
          break;
        }
      }
    }
    // Second pass: the view nodes whose sources ran (not after an ADD: add->rms_norm and
    // add->add fusions).
    if (at(current.back()).op != GgmlOp::add) {
      for (int j = first_unused_ + 1; j < end; ++j) {
        if (used(j) || !is_empty(at(j))) continue;
        bool ok = true;
        for (int c = first_unused_; c < j; ++c) {
          const bool in_current = std::find(current.begin(), current.end(), c) != current.end();
          if (!used(c) && depends(at(j), at(c)) && !in_current) {
            ok = false;
            break;
          }
        }
        if (ok) current.push_back(j);
      }
    }
    for (int c : current) push(c);
    advance();
  }

  const std::vector<Node>& g_;
  const std::function<Layout(std::int64_t)>& layout_;
  int n_;
  std::vector<bool> used_;
  std::set<std::int64_t> used_set_;
  int first_unused_ = 0;
  Reordered out_;
};

}  // namespace

Reordered reorder(const std::vector<Node>& nodes,
                  const std::function<Layout(std::int64_t)>& layout) {
  return Optimizer(nodes, layout).run();
}

}  // namespace vramplan::sched::vk
