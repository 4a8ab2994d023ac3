// MiniCPM-V's image encoder (clip.projector_type "resampler": MiniCPM-V 2.5 to 4.0) as the
// pinned llama.cpp builds it for the warm-up image (tools/mtmd/models/minicpmv.cpp,
// clip_graph_minicpmv; clip.cpp build_inp, build_vit, build_norm, build_attn), reduced to what
// ggml's allocator sees. Checked against llama.cpp's own code measuring the same shapes
// (scripts/oracle/clip, bench/accuracy/clip/clip-cpu-minicpmv.jsonl).
#include <cstdint>

#include <vramplan/graph_alloc.hpp>
#include <vramplan/vision_encoder.hpp>

#include "clip_builder.hpp"

namespace vramplan::clip {
namespace {

// The resampler's attention heads are 128 wide (models/minicpmv.cpp: d_head = 128).
constexpr std::int64_t resampler_head = 128;

class MiniCpmV : Ops {
 public:
  MiniCpmV(const VisionEncoder& e, std::int64_t out_width, bool flash_attn)
      : Ops(e, out_width, flash_attn, e.image) {}

  graph::Graph build() {
    const std::int64_t n = n_patches_;
    const std::int64_t w = e_.width;
    // Graph inputs, allocated first in the order the graph reaches them: the image, the rows
    // of the learned positions, then the resampler's sin-cos inputs.
    int x = patches(true);
    const int positions = d_.input(Elem::i32, {n, 1, 1, 1});
    const int learned = d_.op(Op::get_rows, Elem::f32, {w, n, 1, 1}, {w_, positions});
    x = same(Op::add, x, learned);  // build_vit: + learned_pos_embd
    x = d_.view(x, {w, n, 1, 1});
    for (int il = 0; il < e_.layers; ++il) x = block(x, n);
    x = layer_norm(x);  // post-LN
    x = d_.view(x, {w, n, 1, 1});
    d_.expand(resampler(x));
    return d_.lay_out();
  }

 private:
  // The resampler: LayerNormed learned queries attend to the LayerNormed patches (keys with
  // 2D sin-cos positions computed in the graph), then a LayerNorm and the projection.
  int resampler(int emb) {
    const std::int64_t n = n_patches_;
    const std::int64_t q_n = e_.queries;
    const std::int64_t out = out_;
    const int omega = d_.input(Elem::f32, {out / 4, 1, 1, 1});
    const int pos_h = d_.input(Elem::f32, {1, n, 1, 1});
    const int pos_w = d_.input(Elem::f32, {1, n, 1, 1});
    // LayerNorm of the learned queries, a weight of ne [out, queries]
    int q = d_.op(Op::norm, Elem::f32, {out, q_n, 1, 1}, {w_});
    q = same(Op::add, same(Op::mul, q, w_), w_);
    int v = linear(emb, out);
    v = layer_norm(v);
    // ggml_repeat_4d, ggml_sin, ggml_cos: ops that never run in place (Op::cont stands in).
    const int omega_b = d_.op(Op::cont, Elem::f32, {out / 4, n, 1, 1}, {omega});
    const auto sincos = [&](int pos) {
      const int theta = d_.op(Op::mul, Elem::f32, {out / 4, n, 1, 1}, {omega_b, pos});
      const int sin = d_.op(Op::cont, Elem::f32, d_.ne(theta), {theta});
      const int cos = d_.op(Op::cont, Elem::f32, d_.ne(theta), {theta});
      return d_.op(Op::concat, Elem::f32, {out / 2, n, 1, 1}, {sin, cos});
    };
    const int pos_x = sincos(pos_w);
    const int pos_y = sincos(pos_h);
    const int pos_embed = d_.op(Op::concat, Elem::f32, {out, n, 1, 1}, {pos_x, pos_y});
    const int k = same(Op::add, v, pos_embed);
    const std::int64_t h = out / resampler_head;
    const std::int64_t d = resampler_head;
    int qq = d_.view(same(Op::add, linear(q, out), w_), {d, h, q_n, 1});
    int kk = d_.view(same(Op::add, linear(k, out), w_), {d, h, n, 1});
    int vv = d_.view(same(Op::add, linear(v, out), w_), {d, h, n, 1});
    for (int t : {qq, kk, vv}) d_.expand(t);  // build_attn's ggml_build_forward_order
    // build_attn with q_n queries over n keys.
    qq = d_.view(qq, {d, q_n, h, 1}, false);
    kk = d_.view(kk, {d, n, h, 1}, false);
    int cur = 0;
    if (fa_) {
      vv = d_.view(vv, {d, n, h, 1}, false);
      kk = d_.op(Op::cont, Elem::f16, {d, n, h, 1}, {kk});
      vv = d_.op(Op::cont, Elem::f16, {d, n, h, 1}, {vv});
      cur = d_.op(Op::flash_attn, Elem::f32, {d, h, q_n, 1}, {qq, kk, vv});
      cur = d_.view(cur, {d * h, q_n, 1, 1});
    } else {
      vv = d_.view(vv, {n, d, h, 1}, false);
      vv = d_.op(Op::cont, Elem::f32, {n, d, h, 1}, {vv});
      int kq = mul_mat(kk, qq);
      kq = d_.op(Op::soft_max, Elem::f32, d_.ne(kq), {kq});
      cur = mul_mat(vv, kq);
      cur = d_.view(cur, {d, h, q_n, 1}, false);
      cur = d_.op(Op::cont, Elem::f32, {d * h, q_n, 1, 1}, {cur});
    }
    cur = same(Op::add, linear(cur, out), w_);
    cur = layer_norm(cur);  // ln_post
    return linear(cur, out);
  }
};

}  // namespace

graph::Graph minicpmv_graph(const VisionEncoder& e, std::int64_t out_width, bool flash_attn) {
  return MiniCpmV(e, out_width, flash_attn).build();
}

}  // namespace vramplan::clip
