#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <vramplan/vision_encoder.hpp>
#include <vramplan/error.hpp>
#include <vramplan/graph_alloc.hpp>

#include "clip_dag.hpp"

// The vision encoders' graphs as the pinned llama.cpp builds them for the warm-up image
// (tools/mtmd/clip.cpp: clip_graph::build_inp, build_vit, build_norm, build_attn, build_ffn;
// tools/mtmd/models/siglip.cpp for gemma3, models/llava.cpp for "mlp"), reduced to what
// ggml's allocator sees: each tensor's type, shape, sources, views and in-place ops. Checked
// against llama.cpp's own code measuring the same shapes (scripts/oracle/clip,
// bench/accuracy/clip/clip-cpu.jsonl, tests/unit/clip_test.cpp).

namespace vramplan {
namespace {

using clip_detail::Dag;
using clip_detail::Shape;
using graph::Elem;
using graph::Op;

class Builder {
 public:
  Builder(const VisionEncoder& e, std::int64_t out_width, bool flash_attn)
      : e_(e),
        out_(out_width),
        fa_(flash_attn),
        side_(e.image / e.patch),
        n_patches_(side_ * side_),
        d_head_(e.width / e.heads),
        w_(d_.weight()) {}

  graph::Graph build() {
    switch (e_.kind) {
      case VisionEncoderKind::gemma3:
        gemma3();
        break;
      case VisionEncoderKind::mlp:
        llava();
        break;
      case VisionEncoderKind::qwen25vl:
      case VisionEncoderKind::qwen3vl:
        return clip_detail::qwenvl_graph(e_, out_, fa_);
    }
    return d_.lay_out();
  }

 private:
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
  int same(Op op, int a, int b) { return d_.op(op, Elem::f32, d_.ne(a), {a, b}); }
  int layer_norm(int x) {  // build_norm, NORM_TYPE_NORMAL with weight and bias
    x = d_.op(Op::norm, Elem::f32, d_.ne(x), {x});
    x = same(Op::mul, x, w_);
    return same(Op::add, x, w_);
  }

  // build_inp: the patch embedding as ggml_conv_2d (im2col, mul_mat, permute, cont), then
  // transposed to [width, n_patches].
  int patches(bool bias) {
    const std::int64_t kk = 3 * std::int64_t{e_.patch} * e_.patch;
    const int raw = d_.input(Elem::f32, {e_.image, e_.image, 3, 1});
    const int im2col = d_.op(Op::cont, Elem::f16, {kk, side_, side_, 1}, {w_, raw});
    const int rows = d_.view(im2col, {kk, n_patches_, 1, 1});
    int x = d_.op(Op::mul_mat, Elem::f32, {n_patches_, e_.width, 1, 1}, {rows, w_});
    x = d_.view(x, {side_, side_, 1, e_.width});
    x = d_.view(x, {side_, side_, e_.width, 1}, false);
    x = d_.op(Op::cont, Elem::f32, {side_, side_, e_.width, 1}, {x});
    x = d_.view(x, {n_patches_, e_.width, 1, 1});
    x = d_.view(x, {e_.width, n_patches_, 1, 1}, false);
    x = d_.op(Op::cont, Elem::f32, {e_.width, n_patches_, 1, 1}, {x});
    if (bias) x = same(Op::add, x, w_);
    return x;
  }

  // build_attn over Q, K, V of ne [d_head, heads, n_pos, 1]; returns [width, n_pos].
  int attention(int q, int k, int v, std::int64_t n_pos) {
    const std::int64_t d = d_head_;
    const std::int64_t h = e_.heads;
    q = d_.view(q, {d, n_pos, h, 1}, false);
    k = d_.view(k, {d, n_pos, h, 1}, false);
    int cur = 0;
    if (fa_) {
      v = d_.view(v, {d, n_pos, h, 1}, false);
      k = d_.op(Op::cont, Elem::f16, {d, n_pos, h, 1}, {k});  // ggml_cast to F16
      v = d_.op(Op::cont, Elem::f16, {d, n_pos, h, 1}, {v});
      cur = d_.op(Op::flash_attn, Elem::f32, {d, h, n_pos, 1}, {q, k, v});
      cur = d_.view(cur, {d * h, n_pos, 1, 1});
    } else {
      v = d_.view(v, {n_pos, d, h, 1}, false);
      v = d_.op(Op::cont, Elem::f32, {n_pos, d, h, 1}, {v});
      int kq = mul_mat(k, q);
      kq = d_.op(Op::soft_max, Elem::f32, d_.ne(kq), {kq});
      cur = mul_mat(v, kq);
      cur = d_.view(cur, {d, h, n_pos, 1}, false);
      cur = d_.op(Op::cont, Elem::f32, {d * h, n_pos, 1, 1}, {cur});
    }
    cur = linear(cur, e_.width);
    return same(Op::add, cur, w_);
  }

  // One pre-norm ViT block (build_vit / llava's loop): LayerNorm, Q/K/V with biases,
  // attention, output projection, residual; LayerNorm, up + bias, GELU, down + bias, residual.
  int block(int inp, std::int64_t n_pos) {
    int cur = layer_norm(inp);
    std::array<int, 3> qkv{};
    for (int& t : qkv) {
      t = linear(cur, e_.width);
      t = same(Op::add, t, w_);
      t = d_.view(t, {d_head_, e_.heads, n_pos, 1});
      d_.expand(t);  // ggml_build_forward_order
    }
    cur = attention(qkv[0], qkv[1], qkv[2], n_pos);
    cur = same(Op::add, cur, inp);
    const int residual = cur;
    cur = layer_norm(cur);
    cur = linear(cur, e_.ffn);
    cur = same(Op::add, cur, w_);
    cur = d_.op(Op::unary, Elem::f32, d_.ne(cur), {cur});
    cur = linear(cur, e_.width);
    cur = same(Op::add, cur, w_);
    return same(Op::add, residual, cur);
  }

  // models/siglip.cpp, PROJECTOR_TYPE_GEMMA3: learned positions, the blocks, post-LN, then
  // a merge x merge average pool, RMS norm and the projection through a transposed copy of
  // mm.input_projection (ggml_cont in the compute buffer).
  void gemma3() {
    int x = patches(true);
    x = same(Op::add, x, w_);  // + position embeddings
    x = d_.view(x, {e_.width, n_patches_, 1, 1});
    for (int il = 0; il < e_.layers; ++il) x = block(x, n_patches_);
    x = layer_norm(x);
    x = d_.view(x, {e_.width, n_patches_, 1, 1});
    x = d_.view(x, {n_patches_, e_.width, 1, 1}, false);
    x = d_.op(Op::cont, Elem::f32, {side_, side_, e_.width, 1}, {x});
    const std::int64_t pooled = (side_ - e_.merge) / e_.merge + 1;
    x = d_.op(Op::cont, Elem::f32, {pooled, pooled, e_.width, 1}, {x});  // ggml_pool_2d
    x = d_.view(x, {pooled * pooled, e_.width, 1, 1});
    x = d_.view(x, {e_.width, pooled * pooled, 1, 1}, false);
    x = d_.op(Op::cont, Elem::f32, {e_.width, pooled * pooled, 1, 1}, {x});
    x = d_.op(Op::rms_norm, Elem::f32, d_.ne(x), {x});
    x = same(Op::mul, x, w_);
    const int proj_t = d_.op(Op::cont, Elem::f16, {e_.width, out_, 1, 1}, {w_});
    d_.expand(mul_mat(proj_t, x));
  }

  // models/llava.cpp, PROJECTOR_TYPE_MLP: class embedding, positions through get_rows,
  // pre-LN, the blocks up to the one before the last (no clip.vision.feature_layer), the
  // patch rows, then the MLP up to the text width.
  void llava() {
    const std::int64_t n_pos = n_patches_ + 1;
    int x = patches(false);
    x = d_.op(Op::concat, Elem::f32, {e_.width, n_pos, 1, 1}, {x, w_});
    const int positions = d_.input(Elem::i32, {n_pos, 1, 1, 1});
    const int pos = d_.op(Op::get_rows, Elem::f32, {e_.width, n_pos, 1, 1}, {w_, positions});
    x = same(Op::add, x, pos);
    x = layer_norm(x);
    for (int il = 0; il < e_.layers - 1; ++il) x = block(x, n_pos);
    x = d_.view(x, {e_.width, n_pos, 1, 1});
    const int rows = d_.input(Elem::i32, {n_patches_, 1, 1, 1});
    x = d_.op(Op::get_rows, Elem::f32, {e_.width, n_patches_, 1, 1}, {x, rows});
    x = linear(x, out_);
    x = same(Op::add, x, w_);
    x = d_.op(Op::unary, Elem::f32, d_.ne(x), {x});
    x = linear(x, out_);
    d_.expand(same(Op::add, x, w_));
  }

  const VisionEncoder& e_;
  std::int64_t out_;
  bool fa_;
  std::int64_t side_;
  std::int64_t n_patches_;
  std::int64_t d_head_;
  Dag d_;
  int w_;
};

}  // namespace

std::string_view to_string(VisionEncoderKind kind) {
  switch (kind) {
    case VisionEncoderKind::gemma3:
      return "gemma3";
    case VisionEncoderKind::mlp:
      return "mlp";
    case VisionEncoderKind::qwen25vl:
      return "qwen2.5vl_merger";
    case VisionEncoderKind::qwen3vl:
      return "qwen3vl_merger";
  }
  return "?";
}

bool parse_vision_encoder_kind(std::string_view name, VisionEncoderKind& out) {
  for (const auto kind : {VisionEncoderKind::gemma3, VisionEncoderKind::mlp,
                          VisionEncoderKind::qwen25vl, VisionEncoderKind::qwen3vl}) {
    if (name == to_string(kind)) {
      out = kind;
      return true;
    }
  }
  return false;
}

void validate(const VisionEncoder& e) {
  // Bounds that keep every tensor size well inside 64 bits (the attention scores of the
  // largest image: (16384 / 1)^4 * 4 bytes * 4096 heads would not; these do).
  const auto check = [](std::int32_t v, std::int32_t lo, std::int32_t hi, std::string_view what) {
    if (v < lo || v > hi) {
      throw Error(ErrorKind::bad_input,
                  fmt::format("vision encoder {} {} is outside [{}, {}]", what, v, lo, hi));
    }
  };
  check(e.layers, 1, 256, "layers");
  check(e.width, 1, 65536, "width");
  check(e.ffn, 1, 262144, "ffn");
  check(e.heads, 1, 1024, "heads");
  check(e.patch, 1, 1024, "patch");
  check(e.image, 1, 4096, "image");
  check(e.merge, 1, 64, "merge");
  if (e.width % e.heads != 0) {
    throw Error(
        ErrorKind::bad_input,
        fmt::format("vision encoder width {} is not a multiple of its {} heads", e.width, e.heads));
  }
  if (e.image % e.patch != 0 || e.image / e.patch < e.merge) {
    throw Error(ErrorKind::bad_input,
                fmt::format("vision encoder image {} is not a whole number (>= {}) of {}-pixel "
                            "patches",
                            e.image, e.merge, e.patch));
  }
  const bool qwen = e.kind == VisionEncoderKind::qwen25vl || e.kind == VisionEncoderKind::qwen3vl;
  if (qwen) {
    // models/qwen2vl.cpp and qwen3vl.cpp merge 2 x 2 patches (the reshapes to 4 * width).
    if (e.merge != 2 || (e.image / e.patch) % 2 != 0) {
      throw Error(ErrorKind::bad_input,
                  fmt::format("vision encoder {} needs a merge of 2 and an even number of "
                              "patches per side (merge {}, image {}, patch {})",
                              to_string(e.kind), e.merge, e.image, e.patch));
    }
  }
  check(e.window, 0, e.kind == VisionEncoderKind::qwen25vl ? 256 : 0, "window");
  check(e.positions, e.kind == VisionEncoderKind::qwen3vl ? 1 : 0,
        e.kind == VisionEncoderKind::qwen3vl ? 4096 : 0, "positions");
  const std::size_t max_deepstack =
      e.kind == VisionEncoderKind::qwen3vl ? static_cast<std::size_t>(e.layers) : 0;
  if (e.deepstack.size() > max_deepstack) {
    throw Error(ErrorKind::bad_input,
                fmt::format("vision encoder has {} DeepStack layers, more than {}",
                            e.deepstack.size(), max_deepstack));
  }
  for (std::size_t i = 0; i < e.deepstack.size(); ++i) {
    const std::int32_t il = e.deepstack[i];
    if (il < 0 || il >= e.layers || (i > 0 && il <= e.deepstack[i - 1])) {
      throw Error(ErrorKind::bad_input,
                  fmt::format("vision encoder DeepStack layer {} is not an ascending block "
                              "index below {}",
                              il, e.layers));
    }
  }
}

Bytes clip_compute_buffer(const VisionEncoder& encoder, std::int64_t out_width, bool flash_attn,
                          Bytes alignment) {
  validate(encoder);
  if (out_width < 1 || out_width > 1'000'000) {
    throw Error(ErrorKind::bad_input,
                fmt::format("vision projector output width {} is outside [1, 1000000]", out_width));
  }
  const graph::Graph g = Builder(encoder, out_width, flash_attn).build();
  return graph::allocated_size(g, alignment).total;
}

}  // namespace vramplan
