#include <array>
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
  }
  return "?";
}

bool parse_vision_encoder_kind(std::string_view name, VisionEncoderKind& out) {
  for (const auto kind :
       {VisionEncoderKind::gemma3, VisionEncoderKind::mlp, VisionEncoderKind::qwen25vl,
        VisionEncoderKind::qwen3vl, VisionEncoderKind::pixtral, VisionEncoderKind::minicpmv,
        VisionEncoderKind::llama4, VisionEncoderKind::mlp_siglip}) {
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
  if (e.kind == VisionEncoderKind::llama4 && (e.image / e.patch) % e.merge != 0) {
    // models/llama4.cpp's pixel shuffle reshapes the patch rows merge at a time.
    throw Error(ErrorKind::bad_input,
                fmt::format("vision encoder llama4 needs a whole number of {} x {} patch "
                            "squares per side (image {}, patch {})",
                            e.merge, e.merge, e.image, e.patch));
  }
  const bool adapter =
      e.kind == VisionEncoderKind::llama4 || e.kind == VisionEncoderKind::mlp_siglip;
  check(e.adapter, adapter ? 1 : 0, adapter ? 262144 : 0, "adapter");
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
