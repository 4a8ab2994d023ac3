#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <vramplan/vision_encoder.hpp>
#include <vramplan/error.hpp>
#include <vramplan/graph_alloc.hpp>

#include "clip_builder.hpp"

// The vision encoders' graphs as the pinned llama.cpp builds them for the warm-up image
// (tools/mtmd/clip.cpp: clip_graph::build_inp, build_vit, build_norm, build_attn, build_ffn;
// tools/mtmd/models/siglip.cpp for gemma3, models/llava.cpp for "mlp"), reduced to what
// ggml's allocator sees: each tensor's type, shape, sources, views and in-place ops. Checked
// against llama.cpp's own code measuring the same shapes (scripts/oracle/clip,
// bench/accuracy/clip/clip-cpu.jsonl, tests/unit/clip_test.cpp).

namespace vramplan {
namespace {

using clip::Elem;
using clip::Op;

class Builder : clip::Ops {
 public:
  Builder(const VisionEncoder& e, std::int64_t out_width, bool flash_attn)
      : Ops(e, out_width, flash_attn, e.image) {}

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
      case VisionEncoderKind::qwen2vl:
        return clip::qwenvl_graph(e_, out_, fa_);
      case VisionEncoderKind::pixtral:
        return clip::pixtral_graph(e_, out_, fa_);
      case VisionEncoderKind::minicpmv:
        return clip::minicpmv_graph(e_, out_, fa_);
      case VisionEncoderKind::llama4:
        return clip::llama4_graph(e_, out_, fa_);
      case VisionEncoderKind::mlp_siglip:
        llava();
        break;
      case VisionEncoderKind::idefics3:
        idefics3();
        break;
      case VisionEncoderKind::internvl:
        internvl();
        break;
    }
    return d_.lay_out();
  }

 private:
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

  // models/siglip.cpp, PROJECTOR_TYPE_IDEFICS3: the gemma3 tower (patch bias, learned
  // positions, the blocks, post-LN), then build_patch_merge_permute: the [width, side, side]
  // grid padded to a whole number of merge x merge squares (ggml_pad), regrouped by two
  // permuted copies (cont_3d, cont_2d) into rows of merge^2 patches, and mm.model.fc.
  void idefics3() {
    int x = patches(true);
    x = same(Op::add, x, w_);  // + position embeddings
    x = d_.view(x, {e_.width, n_patches_, 1, 1});
    for (int il = 0; il < e_.layers; ++il) x = block(x, n_patches_);
    x = layer_norm(x);
    const std::int64_t w = e_.width;
    const std::int64_t m = e_.merge;
    std::int64_t s = side_;
    x = d_.view(x, {w, s, s, 1});
    if (s % m != 0) {
      s += m - s % m;
      x = d_.op(Op::cont, Elem::f32, {w, s, s, 1}, {x});  // ggml_pad
    }
    d_.expand(linear(pixel_shuffle(x, s), out_));
  }

  // The pixel shuffle of idefics3 and internvl (build_patch_merge_permute, internvl.cpp):
  // the [width, side, side] grid regrouped merge x merge patches to a row by two permuted
  // copies (cont_3d, cont_2d); `side` a multiple of the merge.
  int pixel_shuffle(int x, std::int64_t side) {
    const std::int64_t w = e_.width;
    const std::int64_t m = e_.merge;
    const std::int64_t s = side;
    x = d_.view(x, {w * m, s / m, s, 1});
    x = d_.view(x, {w * m, s, s / m, 1}, false);
    x = d_.op(Op::cont, Elem::f32, {w * m * m, s / m, s / m, 1}, {x});
    x = d_.view(x, {w * m * m, s / m, s / m, 1}, false);
    return d_.op(Op::cont, Elem::f32, {w * m * m, (s / m) * (s / m), 1, 1}, {x});
  }

  // models/internvl.cpp: the patch embedding with its bias, the class embedding repeated
  // (ggml_repeat_4d) and concatenated after the patches, + positions, build_vit without pre- or
  // post-LN (the blocks below), the class row dropped by a view and a ggml_cont, the pixel
  // shuffle (cont_4d, cont_3d of two permuted views), then mlp1: LayerNorm, up + bias, GELU,
  // down + bias.
  void internvl() {
    const std::int64_t w = e_.width;
    const std::int64_t n_pos = n_patches_ + 1;
    int x = patches(true);
    const int cls = d_.op(Op::cont, Elem::f32, {w, 1, 1, 1}, {w_});  // ggml_repeat_4d
    x = d_.op(Op::concat, Elem::f32, {w, n_pos, 1, 1}, {x, cls});
    x = same(Op::add, x, w_);  // + position embeddings
    x = d_.view(x, {w, n_pos, 1, 1});
    for (int il = 0; il < e_.layers; ++il) x = internvl_block(x, n_pos);
    x = d_.view(x, {w, n_patches_, 1, 1});  // the class row dropped (ggml_view_3d)
    x = d_.op(Op::cont, Elem::f32, {w, n_patches_, 1, 1}, {x});
    x = layer_norm(pixel_shuffle(x, side_));
    x = gelu(biased(x, out_));
    d_.expand(biased(x, out_));
  }

  // build_vit's block for InternViT: ln1, Q/K/V, attention, x ls1, residual; ln2, the GELU
  // FFN with biases, x ls2, residual. The 300M ViT: LayerNorms, biased Q/K/V. The 6B ViT
  // (is_internvit_6b): RMS norms, Q/K/V without bias, Q and K RMS-normed over the full width
  // before the heads are split.
  int internvl_block(int inp, std::int64_t n_pos) {
    const bool big = is_internvit_6b(e_);
    const auto norm = [&](int t) { return big ? rms_norm(t) : layer_norm(t); };
    int cur = norm(inp);
    std::array<int, 3> qkv{};
    for (std::size_t i = 0; i < qkv.size(); ++i) {
      int t = big ? linear(cur, e_.width) : biased(cur, e_.width);
      if (big && i < 2) t = rms_norm(t);  // q_norm / k_norm
      qkv[i] = d_.view(t, {d_head_, e_.heads, n_pos, 1});
      d_.expand(qkv[i]);  // build_attn's ggml_build_forward_order
    }
    cur = attention(qkv[0], qkv[1], qkv[2], n_pos);
    cur = same(Op::mul, cur, w_);  // ls1
    cur = same(Op::add, cur, inp);
    const int residual = cur;
    cur = norm(cur);
    cur = biased(gelu(biased(cur, e_.ffn)), e_.width);
    cur = same(Op::mul, cur, w_);  // ls2
    return same(Op::add, residual, cur);
  }

  // models/llava.cpp, PROJECTOR_TYPE_MLP: class embedding, positions through get_rows,
  // pre-LN, the blocks up to the one before the last (no clip.vision.feature_layer), the
  // patch rows, then the MLP up to the text width. mlp_siglip (moondream2): no class
  // embedding or pre-LN, a patch bias, a post-LN after the blocks, the MLP `adapter` wide.
  void llava() {
    const bool clip = e_.kind == VisionEncoderKind::mlp;
    const std::int64_t n_pos = n_patches_ + (clip ? 1 : 0);
    int x = patches(!clip);
    if (clip) x = d_.op(Op::concat, Elem::f32, {e_.width, n_pos, 1, 1}, {x, w_});
    const int positions = d_.input(Elem::i32, {n_pos, 1, 1, 1});
    const int pos = d_.op(Op::get_rows, Elem::f32, {e_.width, n_pos, 1, 1}, {w_, positions});
    x = same(Op::add, x, pos);
    if (clip) x = layer_norm(x);
    for (int il = 0; il < e_.layers - 1; ++il) x = block(x, n_pos);
    if (!clip) x = layer_norm(x);
    x = d_.view(x, {e_.width, n_pos, 1, 1});
    const int rows = d_.input(Elem::i32, {n_patches_, 1, 1, 1});
    x = d_.op(Op::get_rows, Elem::f32, {e_.width, n_patches_, 1, 1}, {x, rows});
    x = linear(x, clip ? out_ : e_.adapter);
    x = same(Op::add, x, w_);
    x = d_.op(Op::unary, Elem::f32, d_.ne(x), {x});
    x = linear(x, out_);
    d_.expand(same(Op::add, x, w_));
  }
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
    case VisionEncoderKind::pixtral:
      return "pixtral";
    case VisionEncoderKind::minicpmv:
      return "resampler";
    case VisionEncoderKind::llama4:
      return "llama4";
    case VisionEncoderKind::mlp_siglip:
      return "mlp_siglip";
    case VisionEncoderKind::qwen2vl:
      return "qwen2vl_merger";
    case VisionEncoderKind::idefics3:
      return "idefics3";
    case VisionEncoderKind::internvl:
      return "internvl";
  }
  return "?";
}

bool parse_vision_encoder_kind(std::string_view name, VisionEncoderKind& out) {
  for (const auto kind :
       {VisionEncoderKind::gemma3, VisionEncoderKind::mlp, VisionEncoderKind::qwen25vl,
        VisionEncoderKind::qwen3vl, VisionEncoderKind::pixtral, VisionEncoderKind::minicpmv,
        VisionEncoderKind::llama4, VisionEncoderKind::mlp_siglip, VisionEncoderKind::qwen2vl,
        VisionEncoderKind::idefics3, VisionEncoderKind::internvl}) {
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
  check(e.queries, 1, 4096, "queries");
  if (e.width % e.heads != 0) {
    throw Error(
        ErrorKind::bad_input,
        fmt::format("vision encoder width {} is not a multiple of its {} heads", e.width, e.heads));
  }
  // ggml_conv_2d drops the pixels past the last whole patch; only idefics3's files (SmolVLM2's
  // 384 px of 14) rely on it.
  const bool whole = e.kind != VisionEncoderKind::idefics3;
  if ((whole && e.image % e.patch != 0) || e.image / e.patch < e.merge) {
    throw Error(ErrorKind::bad_input,
                fmt::format("vision encoder image {} is not a whole number (>= {}) of {}-pixel "
                            "patches",
                            e.image, e.merge, e.patch));
  }
  if (is_qwen_vl(e.kind)) {
    // models/qwen2vl.cpp and qwen3vl.cpp merge 2 x 2 patches (the reshapes to 4 * width).
    if (e.merge != 2 || (e.image / e.patch) % 2 != 0) {
      throw Error(ErrorKind::bad_input,
                  fmt::format("vision encoder {} needs a merge of 2 and an even number of "
                              "patches per side (merge {}, image {}, patch {})",
                              to_string(e.kind), e.merge, e.image, e.patch));
    }
  }
  if (e.kind == VisionEncoderKind::idefics3 && e.merge < 2) {
    // build_patch_merge_permute asserts a scale factor above 1.
    throw Error(ErrorKind::bad_input,
                fmt::format("vision encoder idefics3 needs a pixel shuffle of 2 or more (merge {})",
                            e.merge));
  }
  if ((e.kind == VisionEncoderKind::llama4 || e.kind == VisionEncoderKind::internvl) &&
      (e.image / e.patch) % e.merge != 0) {
    // models/llama4.cpp's and internvl.cpp's pixel shuffles reshape the patch rows merge at
    // a time.
    throw Error(ErrorKind::bad_input,
                fmt::format("vision encoder {} needs a whole number of {} x {} patch "
                            "squares per side (image {}, patch {})",
                            to_string(e.kind), e.merge, e.merge, e.image, e.patch));
  }
  const bool adapter =
      e.kind == VisionEncoderKind::llama4 || e.kind == VisionEncoderKind::mlp_siglip;
  check(e.adapter, adapter ? 1 : 0, adapter ? 262144 : 0, "adapter");
  const bool windows =
      e.kind == VisionEncoderKind::qwen25vl || e.kind == VisionEncoderKind::qwen2vl;
  check(e.window, 0, windows ? 256 : 0, "window");
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

bool cuda_flash_attn_takes(const VisionEncoder& e) {
  if (e.heads < 1 || e.width % e.heads != 0) return false;
  switch (e.width / e.heads) {
    case 40:
    case 64:
    case 72:
    case 80:
    case 96:
    case 112:
    case 128:
    case 256:
      return true;  // the resampler's own heads are 128 wide
    default:
      return false;
  }
}

Bytes clip_compute_buffer(const VisionEncoder& encoder, std::int64_t out_width, bool flash_attn,
                          Bytes alignment) {
  validate(encoder);
  if (out_width < 1 || out_width > 1'000'000) {
    throw Error(ErrorKind::bad_input,
                fmt::format("vision projector output width {} is outside [1, 1000000]", out_width));
  }
  if (encoder.kind == VisionEncoderKind::minicpmv && out_width % 128 != 0) {
    throw Error(ErrorKind::bad_input,
                fmt::format("the resampler's output width {} is not a whole number of 128-wide "
                            "heads",
                            out_width));
  }
  const graph::Graph g = Builder(encoder, out_width, flash_attn).build();
  return graph::allocated_size(g, alignment).total;
}

}  // namespace vramplan
