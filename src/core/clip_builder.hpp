// Internal to the vision encoder builders (clip_graph.cpp, clip_pixtral.cpp, clip_minicpmv.cpp,
// clip_qwenvl.cpp): a stand-in for
// the ggml context the pinned llama.cpp's tools/mtmd builds an encoder graph in, and the
// pieces of clip_graph (tools/mtmd/clip.cpp) that several encoders share, reduced to what
// ggml's allocator sees.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include <vramplan/graph_alloc.hpp>
#include <vramplan/vision_encoder.hpp>

namespace vramplan::clip {

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

// clip_graph's shared builders over one Dag, for an encoder `e` and a square input image of
// `image` pixels (the warm-up image).
class Ops {
 protected:
  Ops(const VisionEncoder& e, std::int64_t out_width, bool flash_attn, std::int64_t image)
      : e_(e),
        out_(out_width),
        fa_(flash_attn),
        image_(image),
        side_(image / e.patch),
        n_patches_(side_ * side_),
        d_head_(e.width / e.heads),
        w_(d_.weight()) {}

  int mul_mat(int a, int b) {
    const Shape& x = d_.ne(a);
    const Shape& y = d_.ne(b);
    return d_.op(Op::mul_mat, Elem::f32, {x[1], y[1], y[2], y[3]}, {a, b});
  }
  // a weight times x, ne [rows, x's columns]
  int linear(int x, std::int64_t rows) {
    const Shape& y = d_.ne(x);
    return d_.op(Op::mul_mat, Elem::f32, {rows, y[1], y[2], y[3]}, {w_, x});
  }
  // build_mm plus its bias (an in-place add)
  int biased(int x, std::int64_t rows) { return same(Op::add, linear(x, rows), w_); }
  int same(Op op, int a, int b) { return d_.op(op, Elem::f32, d_.ne(a), {a, b}); }
  int layer_norm(int x) {  // build_norm, NORM_TYPE_NORMAL with weight and bias
    x = d_.op(Op::norm, Elem::f32, d_.ne(x), {x});
    x = same(Op::mul, x, w_);
    return same(Op::add, x, w_);
  }
  int rms_norm(int x) {  // build_norm, NORM_TYPE_RMS with a weight
    x = d_.op(Op::rms_norm, Elem::f32, d_.ne(x), {x});
    return same(Op::mul, x, w_);
  }
  int gelu(int x) { return d_.op(Op::unary, Elem::f32, d_.ne(x), {x}); }

  // ggml_conv_2d of the patch kernel over the image `raw`: im2col, mul_mat, permute,
  // cont; ne [side, side, width].
  int conv2d(int raw) {
    const std::int64_t kk = 3 * std::int64_t{e_.patch} * e_.patch;
    // im2col takes the kernel's type: F16, but F32 for idefics3 (the converter keeps the
    // patch embedding F32).
    const Elem kernel = e_.kind == VisionEncoderKind::idefics3 ? Elem::f32 : Elem::f16;
    const int im2col = d_.op(Op::cont, kernel, {kk, side_, side_, 1}, {w_, raw});
    const int rows = d_.view(im2col, {kk, n_patches_, 1, 1});
    int x = d_.op(Op::mul_mat, Elem::f32, {n_patches_, e_.width, 1, 1}, {rows, w_});
    x = d_.view(x, {side_, side_, 1, e_.width});
    x = d_.view(x, {side_, side_, e_.width, 1}, false);
    return d_.op(Op::cont, Elem::f32, {side_, side_, e_.width, 1}, {x});
  }

  // build_inp: the patch embedding (conv2d), then transposed to [width, n_patches].
  int patches(bool bias) {
    const int raw = d_.input(Elem::f32, {image_, image_, 3, 1});
    int x = conv2d(raw);
    x = d_.view(x, {n_patches_, e_.width, 1, 1});
    x = d_.view(x, {e_.width, n_patches_, 1, 1}, false);
    x = d_.op(Op::cont, Elem::f32, {e_.width, n_patches_, 1, 1}, {x});
    if (bias) x = same(Op::add, x, w_);
    return x;
  }

  // build_attn over Q, K, V of ne [d_head, heads, n_pos, 1]; returns [width, n_pos]. `bias`:
  // the output projection has one (an in-place add). `mask`: the KQ mask tensor, or -1 for
  // none (under flash attention cast to F16 here, as build_attn does).
  int attention(int q, int k, int v, std::int64_t n_pos, bool bias = true, int mask = -1) {
    const std::int64_t d = d_head_;
    const std::int64_t h = e_.heads;
    q = d_.view(q, {d, n_pos, h, 1}, false);
    k = d_.view(k, {d, n_pos, h, 1}, false);
    int cur = 0;
    if (fa_) {
      v = d_.view(v, {d, n_pos, h, 1}, false);
      k = d_.op(Op::cont, Elem::f16, {d, n_pos, h, 1}, {k});  // ggml_cast to F16
      v = d_.op(Op::cont, Elem::f16, {d, n_pos, h, 1}, {v});
      if (mask >= 0) {
        mask = d_.op(Op::cont, Elem::f16, d_.ne(mask), {mask});
        cur = d_.op(Op::flash_attn, Elem::f32, {d, h, n_pos, 1}, {q, k, v, mask});
      } else {
        cur = d_.op(Op::flash_attn, Elem::f32, {d, h, n_pos, 1}, {q, k, v});
      }
      cur = d_.view(cur, {d * h, n_pos, 1, 1});
    } else {
      v = d_.view(v, {n_pos, d, h, 1}, false);
      v = d_.op(Op::cont, Elem::f32, {n_pos, d, h, 1}, {v});
      int kq = mul_mat(k, q);
      kq = mask >= 0 ? d_.op(Op::soft_max, Elem::f32, d_.ne(kq), {kq, mask})
                     : d_.op(Op::soft_max, Elem::f32, d_.ne(kq), {kq});
      cur = mul_mat(v, kq);
      cur = d_.view(cur, {d, h, n_pos, 1}, false);
      cur = d_.op(Op::cont, Elem::f32, {d * h, n_pos, 1, 1}, {cur});
    }
    cur = linear(cur, e_.width);
    return bias ? same(Op::add, cur, w_) : cur;
  }

  // One pre-norm ViT block (build_vit / llava's loop): LayerNorm, Q/K/V with biases,
  // attention, output projection, residual; LayerNorm, up + bias, GELU, down + bias, residual.
  int block(int inp, std::int64_t n_pos) {
    int cur = layer_norm(inp);
    std::array<int, 3> qkv{};
    for (int& t : qkv) {
      t = biased(cur, e_.width);
      t = d_.view(t, {d_head_, e_.heads, n_pos, 1});
      d_.expand(t);  // ggml_build_forward_order
    }
    cur = attention(qkv[0], qkv[1], qkv[2], n_pos);
    cur = same(Op::add, cur, inp);
    const int residual = cur;
    cur = layer_norm(cur);
    cur = gelu(biased(cur, e_.ffn));
    cur = biased(cur, e_.width);
    return same(Op::add, residual, cur);
  }

  const VisionEncoder& e_;
  std::int64_t out_;
  bool fa_;
  std::int64_t image_;
  std::int64_t side_;
  std::int64_t n_patches_;
  std::int64_t d_head_;
  Dag d_;
  int w_;
};

// models/pixtral.cpp (clip_pixtral.cpp).
[[nodiscard]] graph::Graph pixtral_graph(const VisionEncoder& e, std::int64_t out_width,
                                         bool flash_attn);
// models/minicpmv.cpp, clip_graph_minicpmv (clip_minicpmv.cpp).
[[nodiscard]] graph::Graph minicpmv_graph(const VisionEncoder& e, std::int64_t out_width,
                                          bool flash_attn);
// models/qwen2vl.cpp and models/qwen3vl.cpp: qwen2vl, qwen25vl and qwen3vl (clip_qwenvl.cpp).
[[nodiscard]] graph::Graph qwenvl_graph(const VisionEncoder& encoder, std::int64_t out_width,
                                        bool flash_attn);

// models/llama4.cpp (clip_llama4.cpp).
[[nodiscard]] graph::Graph llama4_graph(const VisionEncoder& e, std::int64_t out_width,
                                        bool flash_attn);

}  // namespace vramplan::clip
