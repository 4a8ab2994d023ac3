#include <array>
#include <cstddef>
#include <cstdint>

#include <vramplan/graph_alloc.hpp>
#include <vramplan/vision_encoder.hpp>

#include "clip_builder.hpp"

// The Qwen-VL vision encoders' graphs as the pinned llama.cpp builds them for the warm-up image
// (tools/mtmd/models/qwen2vl.cpp for Qwen2-VL and Qwen2.5-VL, models/qwen3vl.cpp for Qwen3-VL, with
// clip.cpp's build_norm, build_ffn, build_attn and resize_position_embeddings), reduced to what
// ggml's allocator sees. Checked against llama.cpp's own code measuring the same shapes
// (scripts/oracle/clip, bench/accuracy/clip/clip-cpu.jsonl).

namespace vramplan::clip {
namespace {

// Built on clip_builder.hpp's Ops (linear, biased, same, layer_norm, rms_norm, gelu, conv2d,
// attention); what is Qwen-VL's own is below.
class QwenBuilder : Ops {
 public:
  QwenBuilder(const VisionEncoder& e, std::int64_t out_width, bool flash_attn)
      : Ops(e, out_width, flash_attn, e.image), width_(e.width), n_pos_(n_patches_) {}

  graph::Graph build() {
    if (e_.kind == VisionEncoderKind::qwen25vl || e_.kind == VisionEncoderKind::qwen2vl) {
      qwen2vl(e_.kind == VisionEncoderKind::qwen2vl);
    } else {
      qwen3vl();
    }
    return d_.lay_out();
  }

 private:
  // The 2 x 2 reordering of [side, side] rows of `width` (the "second conv dimension" /
  // "spatial merge" block): cont_4d, reshape_4d, permute, cont_3d -> [width, n_pos].
  int merge_order(int x) {
    x = d_.op(Op::cont, Elem::f32, {2 * width_, side_ / 2, side_, 1}, {x});
    x = d_.view(x, {2 * width_, side_ / 2, 2, side_ / 2});
    x = d_.view(x, {2 * width_, 2, side_ / 2, side_ / 2}, false);
    return d_.op(Op::cont, Elem::f32, {width_, n_pos_, 1, 1}, {x});
  }

  // build_inp_with_temporal_merge for one still image: the two patch convs added, then
  // permuted to [width, side, side] and merge-ordered.
  int patches() {
    const int raw = d_.input(Elem::f32, {e_.image, e_.image, 3, 1});
    const int c0 = conv2d(raw);
    const int c1 = conv2d(raw);
    int x = same(Op::add, c0, c1);
    x = d_.view(x, {width_, side_, side_, 1}, false);  // permute(1, 2, 0, 3)
    return merge_order(x);
  }

  // ggml_rope_multi over [d_head, heads, n_pos] with the M-RoPE positions.
  int rope(int x, int positions) {
    return d_.op(Op::rope, Elem::f32, {d_head_, e_.heads, n_pos_, 1}, {x, positions});
  }

  // build_attn (Ops::attention) after pinning Q, K and V with ggml_build_forward_order, with
  // an optional mask (-1: none); the output projection has a bias. [width, n_pos].
  int attention(int q, int k, int v, int mask) {
    d_.expand(q);
    d_.expand(k);
    d_.expand(v);
    return Ops::attention(q, k, v, n_pos_, true, mask);
  }

  // The patch merger (build_ffn with GELU over 4 merged patches): [out, n_pos / 4].
  int merger(int x) {
    x = d_.view(x, {4 * width_, n_pos_ / 4, 1, 1});
    x = gelu(biased(x, 4 * width_));
    return biased(x, out_);
  }

  // models/qwen2vl.cpp, PROJECTOR_TYPE_QWEN25VL and PROJECTOR_TYPE_QWEN2VL. Qwen2.5-VL: RMS
  // norms, separate Q/K/V with biases, SwiGLU FFN with biases; with window attention
  // (n_wa_pattern > 0) the patches are put in window order (get_rows by inv_window_idx) and
  // every block but each window-th attends through the [n_pos, n_pos] window mask (cast to F16
  // once, and again per block, under flash attention); the merger's output is put back in
  // image order (get_rows by window_idx). Qwen2-VL (`v2`): the same graph with LayerNorms
  // (weight and bias: build_norm NORM_TYPE_NORMAL), an ungated FFN (build_ffn without gate:
  // up + bias, ggml_gelu_quick, down + bias) and no window attention.
  void qwen2vl(bool v2) {
    const auto norm = [&](int t) { return v2 ? layer_norm(t) : rms_norm(t); };
    int x = patches();
    const int positions = d_.input(Elem::i32, {4 * n_pos_, 1, 1, 1});
    const bool windows = e_.window > 0;
    int mask = -1;
    if (windows) {
      const int inv_window_idx = d_.input(Elem::i32, {n_pos_ / 4, 1, 1, 1});
      mask = d_.input(Elem::f32, {n_pos_, n_pos_, 1, 1});
      if (fa_) mask = d_.op(Op::cont, Elem::f16, {n_pos_, n_pos_, 1, 1}, {mask});
      x = d_.view(x, {4 * width_, n_pos_ / 4, 1, 1});
      x = d_.op(Op::get_rows, Elem::f32, {4 * width_, n_pos_ / 4, 1, 1}, {x, inv_window_idx});
      x = d_.view(x, {width_, n_pos_, 1, 1});
    }
    for (int il = 0; il < e_.layers; ++il) {
      const bool full = !windows || (il + 1) % e_.window == 0;
      int cur = norm(x);
      std::array<int, 3> qkv{};
      for (int& t : qkv) t = d_.view(biased(cur, width_), {d_head_, e_.heads, n_pos_, 1});
      const int q = rope(qkv[0], positions);
      const int k = rope(qkv[1], positions);
      cur = attention(q, k, qkv[2], full ? -1 : mask);
      cur = same(Op::add, cur, x);
      x = cur;
      cur = norm(cur);
      if (v2) {
        cur = gelu(biased(cur, e_.ffn));
      } else {
        const int up = biased(cur, e_.ffn);
        const int gate = biased(cur, e_.ffn);
        cur = d_.op(Op::glu, Elem::f32, d_.ne(gate), {gate, up});  // ggml_swiglu_split
      }
      cur = biased(cur, width_);
      x = same(Op::add, x, cur);
    }
    x = norm(x);  // the merger's ln_q (v.post_ln)
    x = merger(x);
    if (windows) {
      const int window_idx = d_.input(Elem::i32, {n_pos_ / 4, 1, 1, 1});
      x = d_.view(x, {out_, n_pos_ / 4, 1, 1});
      x = d_.op(Op::get_rows, Elem::f32, {out_, n_pos_ / 4, 1, 1}, {x, window_idx});
      x = d_.view(x, {out_, n_pos_ / 4, 1, 1});
    }
    d_.expand(x);
  }

  // models/qwen3vl.cpp: patch bias, the learned position grid resized to the image
  // (resize_position_embeddings: ggml_interpolate when the grid differs) and merge-ordered,
  // LayerNorms, fused QKV as three strided views, GELU FFN; each DeepStack block's output is
  // merged like the final one (LayerNorm over 4 patches, fc1, GELU, fc2) and concatenated
  // after the merger's output. Nothing expands the DeepStack branches before the last concat,
  // so they run at the end of the graph and keep their blocks' outputs alive until then.
  void qwen3vl() {
    int x = patches();
    x = same(Op::add, x, w_);  // + v.patch_embd.bias
    int pos = w_;
    if (e_.positions != side_) {
      pos = d_.op(Op::cont, Elem::f32, {side_, side_, width_, 1}, {w_});  // ggml_interpolate
      pos = d_.view(pos, {width_, side_, side_, 1}, false);
      pos = d_.op(Op::cont, Elem::f32, {width_, n_pos_, 1, 1}, {pos});
    }
    x = same(Op::add, x, merge_order(pos));
    const int positions = d_.input(Elem::i32, {4 * n_pos_, 1, 1, 1});
    int deepstack = -1;
    std::size_t next_ds = 0;
    for (int il = 0; il < e_.layers; ++il) {
      int cur = layer_norm(x);
      cur = biased(cur, 3 * width_);
      const Shape head{d_head_, e_.heads, n_pos_, 1};
      const int q = rope(d_.view(cur, head, false), positions);
      const int k = rope(d_.view(cur, head, false), positions);
      const int v = d_.view(cur, head, false);
      cur = attention(q, k, v, -1);
      cur = same(Op::add, cur, x);
      x = cur;
      cur = layer_norm(cur);
      cur = biased(gelu(biased(cur, e_.ffn)), width_);
      cur = same(Op::add, x, cur);
      if (next_ds < e_.deepstack.size() && e_.deepstack[next_ds] == il) {
        ++next_ds;
        int feat = d_.view(cur, {4 * width_, n_pos_ / 4, 1, 1});
        feat = layer_norm(feat);
        feat = biased(gelu(biased(feat, 4 * width_)), out_);
        if (deepstack < 0) {
          deepstack = feat;
        } else {
          const std::int64_t cols = d_.ne(deepstack)[0] + out_;
          deepstack = d_.op(Op::concat, Elem::f32, {cols, n_pos_ / 4, 1, 1}, {deepstack, feat});
        }
      }
      x = cur;
    }
    x = layer_norm(x);
    x = merger(x);
    if (deepstack >= 0) {
      const std::int64_t cols = out_ + d_.ne(deepstack)[0];
      x = d_.op(Op::concat, Elem::f32, {cols, n_pos_ / 4, 1, 1}, {x, deepstack});
    }
    d_.expand(x);
  }

  std::int64_t width_;
  std::int64_t n_pos_;
};

}  // namespace

graph::Graph qwenvl_graph(const VisionEncoder& encoder, std::int64_t out_width, bool flash_attn) {
  return QwenBuilder(encoder, out_width, flash_attn).build();
}

}  // namespace vramplan::clip
