// Pixtral's image encoder (clip.projector_type "pixtral": Pixtral 12B, Mistral Small 3.1 /
// 3.2, Magistral Small) as the pinned llama.cpp builds it for the warm-up image
// (tools/mtmd/models/pixtral.cpp; clip.cpp build_inp, build_vit, build_rope_2d, build_attn,
// build_ffn), reduced to what ggml's allocator sees. Checked against llama.cpp's own code
// measuring the same shapes (scripts/oracle/clip, bench/accuracy/clip/clip-cpu.jsonl).
#include <cstdint>

#include <vramplan/graph_alloc.hpp>
#include <vramplan/vision_encoder.hpp>

#include "clip_builder.hpp"

namespace vramplan::clip {
namespace {

// clip.cpp, PROJECTOR_TYPE_PIXTRAL: hparams.set_warmup_n_tokens(256), a square of 16 x 16
// output tokens, each merge x merge patches.
constexpr std::int64_t warmup_tokens_per_side = 16;

class Pixtral : Ops {
 public:
  Pixtral(const VisionEncoder& e, std::int64_t out_width, bool flash_attn)
      : Ops(e, out_width, flash_attn,
            warmup_tokens_per_side * std::int64_t{e.patch} * std::int64_t{e.merge}) {}

  graph::Graph build() {
    const std::int64_t n = n_patches_;
    // The graph's leaves without data, which ggml_gallocr allocates before any node, in the
    // order the graph reaches them: the image, the RoPE rows and columns, the [IMG_BREAK] rows.
    int x = patches(false);
    pos_h_ = d_.input(Elem::i32, {n, 1, 1, 1});
    pos_w_ = d_.input(Elem::i32, {n, 1, 1, 1});
    x = d_.view(x, {e_.width, n, 1, 1});
    x = rms_norm(x);  // pre-LN
    for (int il = 0; il < e_.layers; ++il) x = block(x);
    x = d_.view(x, {e_.width, n, 1, 1});
    if (e_.merge > 1) x = merge_patches(x);
    // LlavaMultiModalProjector: up (bias, when there is one, added in place), GELU, down.
    x = linear(x, out_);
    x = d_.op(Op::unary, Elem::f32, d_.ne(x), {x});
    x = linear(x, out_);
    d_.expand(image_breaks(x));
    return d_.lay_out();
  }

 private:
  // build_rope_2d: a rope over the first half of each head by row, then one over the second
  // half by column, in place on the first (ggml_rope_set_offset).
  int rope_2d(int x) {
    x = d_.op(Op::rope, Elem::f32, d_.ne(x), {x, pos_h_});
    return d_.op(Op::rope, Elem::f32, d_.ne(x), {x, pos_w_});
  }

  // build_vit's block with RMS norms, Q/K/V and output without biases, 2D RoPE on Q and K,
  // and a SwiGLU FFN (up, gate, ggml_swiglu_split(gate, up), down).
  int block(int inp) {
    const std::int64_t n = n_patches_;
    int cur = rms_norm(inp);
    std::array<int, 3> qkv{};
    for (int& t : qkv) t = d_.view(linear(cur, e_.width), {d_head_, e_.heads, n, 1});
    qkv[0] = rope_2d(qkv[0]);
    qkv[1] = rope_2d(qkv[1]);
    for (int t : qkv) d_.expand(t);  // build_attn's ggml_build_forward_order
    cur = attention(qkv[0], qkv[1], qkv[2], n, false);
    cur = same(Op::add, cur, inp);
    const int residual = cur;
    cur = rms_norm(cur);
    const int up = linear(cur, e_.ffn);
    const int gate = linear(cur, e_.ffn);
    cur = d_.op(Op::glu, Elem::f32, d_.ne(gate), {gate, up});
    cur = linear(cur, e_.width);
    return same(Op::add, residual, cur);
  }

  // Mistral Small 3.1's patch merger: RMS norm, the patches as a [side, side, width] grid,
  // each merge x merge square gathered by ggml_im2col (F32, the input's type), then
  // mm.patch_merger down to the width.
  int merge_patches(int x) {
    const std::int64_t m = e_.merge;
    const std::int64_t w = e_.width;
    const std::int64_t s = side_;
    x = rms_norm(x);
    x = d_.view(x, {w, s, s, 1});
    x = d_.view(x, {s, s, w, 1}, false);
    x = d_.op(Op::cont, Elem::f32, {s, s, w, 1}, {x});
    const int kernel = d_.view(x, {m, m, w, 1}, false);  // ggml_view_3d of the grid
    x = d_.op(Op::cont, Elem::f32, {w * m * m, s / m, s / m, 1}, {kernel, x});
    x = d_.view(x, {w * m * m, (s / m) * (s / m), 1, 1});
    return linear(x, w);
  }

  // One [IMG_BREAK] embedding after each row of output tokens but the last: a zeroed leaf
  // (ggml_scale by 0, in place) plus the embedding, concatenated after each row; the output
  // is a view of all but the last row's break.
  int image_breaks(int x) {
    const std::int64_t rows = side_ / e_.merge;
    x = d_.view(x, {out_, rows, rows, 1});
    int tok = d_.input(Elem::f32, {out_, 1, rows, 1});
    tok = d_.op(Op::scale, Elem::f32, d_.ne(tok), {tok});
    tok = same(Op::add, tok, w_);
    x = d_.op(Op::concat, Elem::f32, {out_, rows + 1, rows, 1}, {x, tok});
    return d_.view(x, {out_, rows * rows + rows - 1, 1, 1});
  }

  int pos_h_ = -1;
  int pos_w_ = -1;
};

}  // namespace

graph::Graph pixtral_graph(const VisionEncoder& e, std::int64_t out_width, bool flash_attn) {
  return Pixtral(e, out_width, flash_attn).build();
}

}  // namespace vramplan::clip
