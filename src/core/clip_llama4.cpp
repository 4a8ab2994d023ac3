// Llama 4's image encoder (clip.projector_type "llama4": Llama 4 Scout and Maverick) as the
// pinned llama.cpp builds it for the warm-up image (tools/mtmd/models/llama4.cpp; clip.cpp
// build_inp_raw, build_vit, build_rope_2d, build_attn, build_ffn), reduced to what ggml's
// allocator sees. Checked against llama.cpp's own code measuring the same shapes
// (scripts/oracle/clip, bench/accuracy/clip/clip-cpu-llama4.jsonl).
#include <array>
#include <cstdint>

#include <vramplan/graph_alloc.hpp>
#include <vramplan/vision_encoder.hpp>

#include "clip_builder.hpp"

namespace vramplan::clip {
namespace {

// clip.cpp, PROJECTOR_TYPE_LLAMA4: no set_warmup_n_tokens, so the warm-up image is the
// tower's image_size (336 px: 24 x 24 patches of 14).
class Llama4 : Ops {
 public:
  Llama4(const VisionEncoder& e, std::int64_t out_width, bool flash_attn)
      : Ops(e, out_width, flash_attn, e.image) {}

  graph::Graph build() {
    const std::int64_t w = e_.width;
    const std::int64_t n_pos = n_patches_ + 1;  // the patches and [CLS]
    x_pos_ = d_.input(Elem::i32, {n_pos, 1, 1, 1});
    y_pos_ = d_.input(Elem::i32, {n_pos, 1, 1, 1});
    // Llama4UnfoldConvolution: ggml_im2col of the image (F32, the image's type) by the linear
    // patch embedding reshaped to a kernel, then that same 2-D weight times the columns.
    const std::int64_t kk = 3 * std::int64_t{e_.patch} * e_.patch;
    const int raw = d_.input(Elem::f32, {image_, image_, 3, 1});
    int x = d_.op(Op::cont, Elem::f32, {kk, side_, side_, 1}, {w_, raw});  // ggml_im2col
    x = d_.op(Op::mul_mat, Elem::f32, {w, side_, side_, 1}, {w_, x});
    x = d_.view(x, {w, n_patches_, 1, 1});
    x = d_.op(Op::concat, Elem::f32, {w, n_pos, 1, 1}, {x, w_});  // [CLS] last
    // build_vit: + learned positions, pre-LN, the blocks, post-LN.
    x = same(Op::add, x, w_);
    x = d_.view(x, {w, n_pos, 1, 1});
    x = layer_norm(x);
    for (int il = 0; il < e_.layers; ++il) x = block(x, n_pos);
    x = layer_norm(x);
    x = d_.view(x, {w, n_pos, 1, 1});
    x = d_.view(x, {w, n_patches_, 1, 1});  // [CLS] dropped (ggml_view_2d)
    x = pixel_shuffle(x);
    // Llama4VisionMLP2 (GELU after both layers, no biases), then the projection.
    x = linear(x, e_.adapter);
    x = d_.op(Op::unary, Elem::f32, d_.ne(x), {x});
    x = linear(x, e_.adapter);
    x = d_.op(Op::unary, Elem::f32, d_.ne(x), {x});
    d_.expand(linear(x, out_));
    return d_.lay_out();
  }

 private:
  // build_rope_2d(cur, pos_w, pos_h): the first half of each head by column, then the second
  // half by row, in place on the first (ggml_rope_set_offset).
  int rope_2d(int x) {
    x = d_.op(Op::rope, Elem::f32, d_.ne(x), {x, x_pos_});
    return d_.op(Op::rope, Elem::f32, d_.ne(x), {x, y_pos_});
  }

  // build_vit's block with LayerNorms, biased Q/K/V and output, the 2D RoPE on Q and K as
  // add_pos, and a biased GELU FFN.
  int block(int inp, std::int64_t n_pos) {
    int cur = layer_norm(inp);
    std::array<int, 3> qkv{};
    for (int& t : qkv) {
      t = same(Op::add, linear(cur, e_.width), w_);
      t = d_.view(t, {d_head_, e_.heads, n_pos, 1});
    }
    qkv[0] = rope_2d(qkv[0]);
    qkv[1] = rope_2d(qkv[1]);
    for (int t : qkv) d_.expand(t);  // build_attn's ggml_build_forward_order
    cur = attention(qkv[0], qkv[1], qkv[2], n_pos);
    cur = same(Op::add, cur, inp);
    const int residual = cur;
    cur = layer_norm(cur);
    cur = same(Op::add, linear(cur, e_.ffn), w_);
    cur = d_.op(Op::unary, Elem::f32, d_.ne(cur), {cur});
    cur = same(Op::add, linear(cur, e_.width), w_);
    return same(Op::add, residual, cur);
  }

  // Llama4VisionPixelShuffleMLP's shuffle: the patch rows regrouped merge at a time
  // (reshape_4d, permute 0 2 1 3), then two ggml_cont copies, 4-D and 2-D.
  int pixel_shuffle(int x) {
    const std::int64_t m = e_.merge;
    const std::int64_t w = e_.width;
    const std::int64_t s = side_;
    x = d_.view(x, {w * m, s / m, s, 1});
    x = d_.view(x, {w * m, s, s / m, 1}, false);
    x = d_.op(Op::cont, Elem::f32, {w * m * m, s / m, s / m, 1}, {x});
    return d_.op(Op::cont, Elem::f32, {w * m * m, (s / m) * (s / m), 1, 1}, {x});
  }

  int x_pos_ = -1;
  int y_pos_ = -1;
};

}  // namespace

graph::Graph llama4_graph(const VisionEncoder& e, std::int64_t out_width, bool flash_attn) {
  return Llama4(e, out_width, flash_attn).build();
}

}  // namespace vramplan::clip
