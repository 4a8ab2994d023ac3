// The vision encoder's compute buffer against llama.cpp's own tools/mtmd code: every line of
// bench/accuracy/clip/clip-cpu*.jsonl (scripts/oracle/clip/measure.sh: the pinned llama.cpp's
// clip_init warm-up on the CPU backend, sparse mmproj files of each shape) must be reproduced
// to the byte by the rebuilt graph.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/vision_encoder.hpp>
#include <vramplan/error.hpp>

namespace vramplan {
namespace {

VisionEncoder encoder_of(const nlohmann::json& j) {
  VisionEncoder e;
  if (!parse_vision_encoder_kind(j.at("kind").get<std::string>(), e.kind)) {
    ADD_FAILURE() << "unknown encoder kind " << j.at("kind");
  }
  e.layers = j.at("layers").get<std::int32_t>();
  e.width = j.at("width").get<std::int32_t>();
  e.ffn = j.at("ffn").get<std::int32_t>();
  e.heads = j.at("heads").get<std::int32_t>();
  e.patch = j.at("patch").get<std::int32_t>();
  e.image = j.at("image").get<std::int32_t>();
  e.merge = j.at("merge").get<std::int32_t>();
  e.window = j.value("window", 0);
  e.positions = j.value("positions", 0);
  e.deepstack = j.value("deepstack", std::vector<std::int32_t>{});
  if (j.contains("queries")) e.queries = j.at("queries").get<std::int32_t>();
  e.adapter = j.value("adapter", 0);
  return e;
}

TEST(ClipAccuracy, ReproducesLlamaCppCpuComputeBuffers) {
  // clip-cpu.jsonl and its siblings (one per family of encoders: clip-cpu-pixtral.jsonl,
  // clip-cpu-minicpmv.jsonl, clip-cpu-llama4.jsonl, clip-cpu-moondream.jsonl,
  // clip-cpu-qwen2vl.jsonl, clip-cpu-idefics3.jsonl, clip-cpu-internvl.jsonl).
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(VRAMPLAN_CLIP_ACCURACY_DIR)) {
    const std::string name = f.path().filename().string();
    if (name.rfind("clip-cpu", 0) == 0 && f.path().extension() == ".jsonl") {
      files.push_back(f.path());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 8U) << "cannot find the CLIP measurements";
  int lines = 0;
  std::set<std::string> kinds;
  for (const auto& path : files) {
    std::ifstream in(path);
    ASSERT_TRUE(in) << "cannot open " << path;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const nlohmann::json j = nlohmann::json::parse(line);
      const VisionEncoder e = encoder_of(j.at("encoder"));
      const bool fa = j.at("flash_attn").get<std::string>() == "on";
      const auto out = j.at("encoder").at("out").get<std::int64_t>();
      EXPECT_EQ(clip_compute_buffer(e, out, fa, 32), j.at("compute").get<Bytes>())
          << j.at("preset").get<std::string>() << " flash attention " << (fa ? "on" : "off");
      kinds.insert(std::string(to_string(e.kind)));
      ++lines;
    }
  }
  EXPECT_GE(lines, 90);
  for (const char* kind :
       {"gemma3", "mlp", "qwen2.5vl_merger", "qwen3vl_merger", "pixtral", "resampler", "llama4",
        "mlp_siglip", "qwen2vl_merger", "idefics3", "internvl"}) {
    EXPECT_EQ(kinds.count(kind), 1U) << kind;
  }
}

TEST(Clip, FlashAttentionDropsTheScoresOfGemma3) {
  const VisionEncoder siglip{VisionEncoderKind::gemma3, 27, 1152, 4304, 16, 14, 896, 4};
  const Bytes on = clip_compute_buffer(siglip, 2560, true, 128);
  const Bytes off = clip_compute_buffer(siglip, 2560, false, 128);
  // Without flash attention one layer's scores are live: 4096^2 positions x 16 heads, F32.
  EXPECT_GE(off - on, Bytes{4096} * 4096 * 16 * 4 - on);
  EXPECT_LT(on, off / 8);
}

// Pixtral warms up with 16 x 16 output tokens whatever the tower's image_size: 16 * merge
// patches a side, so the scores of one layer without flash attention are
// (16 * merge)^4 positions x heads, F32.
TEST(Clip, PixtralWarmsUpWithSixteenTokensASide) {
  VisionEncoder e{VisionEncoderKind::pixtral, 24, 1024, 4096, 16, 14, 1540, 2};
  const Bytes on = clip_compute_buffer(e, 5120, true, 32);
  const Bytes off = clip_compute_buffer(e, 5120, false, 32);
  const Bytes scores = Bytes{1024} * 1024 * 16 * 4;
  EXPECT_GE(off, scores);
  EXPECT_LT(on, off);
  e.image = 1022;  // another tower size, the same warm-up
  EXPECT_EQ(clip_compute_buffer(e, 5120, false, 32), off);
  e.merge = 4;  // 64 x 64 patches: scores 16 times as large
  EXPECT_GE(clip_compute_buffer(e, 5120, false, 32), 16 * scores);
  e.merge = 0;
  EXPECT_THROW((void)clip_compute_buffer(e, 5120, true, 32), Error);
}

TEST(Clip, RejectsShapesTheBuilderCannotTake) {
  VisionEncoder e{VisionEncoderKind::gemma3, 27, 1152, 4304, 16, 14, 896, 4};
  e.image = 900;  // not a whole number of 14-pixel patches
  EXPECT_THROW((void)clip_compute_buffer(e, 2560, true, 32), Error);
  e.image = 896;
  e.heads = 7;  // 1152 is not a multiple of 7
  EXPECT_THROW((void)clip_compute_buffer(e, 2560, true, 32), Error);
  e.heads = 16;
  e.layers = 0;
  EXPECT_THROW((void)clip_compute_buffer(e, 2560, true, 32), Error);
  e.layers = 27;
  EXPECT_THROW((void)clip_compute_buffer(e, 0, true, 32), Error);
  VisionEncoderKind k{};
  EXPECT_FALSE(parse_vision_encoder_kind("qwen2vl", k));
  e.window = 8;  // a window pattern is Qwen2.5-VL's
  EXPECT_THROW((void)clip_compute_buffer(e, 2560, true, 32), Error);
}

// SmolVLM's pixel shuffle takes a grid of whole merge x merge squares: SmolVLM2's 27 x 27
// patches (384 px of 14, the last 6 pixels dropped) shuffle 3 x 3 as they are, a 14 x 14 grid
// is padded to 16 x 16 for 4 x 4 (ggml_pad), which costs a copy.
TEST(Clip, Idefics3PixelShuffle) {
  VisionEncoder e{VisionEncoderKind::idefics3, 27, 1152, 4304, 16, 14, 384, 3};
  EXPECT_NO_THROW(validate(e));
  EXPECT_GT(clip_compute_buffer(e, 2048, false, 32), clip_compute_buffer(e, 2048, true, 32));
  e.merge = 1;  // build_patch_merge_permute wants a scale factor above 1
  EXPECT_THROW(validate(e), Error);
  VisionEncoder gemma = e;
  gemma.kind = VisionEncoderKind::gemma3;
  gemma.merge = 4;
  EXPECT_THROW(validate(gemma), Error);  // 384 is not a whole number of 14-pixel patches
  // A 14 x 14 grid is padded for a 4 x 4 shuffle, not for a 2 x 2 or 7 x 7 one (the padded
  // case is measured: idefics3-small in clip-cpu-idefics3.jsonl).
  VisionEncoder small{VisionEncoderKind::idefics3, 3, 256, 1024, 4, 16, 224, 4};
  EXPECT_NO_THROW(validate(small));
  small.merge = 15;  // more than the 14 patches a side
  EXPECT_THROW(validate(small), Error);
}

// InternVL: the 6B ViT's shape (45 blocks of 3200) is what gives it RMS norms and Q/K norms,
// two more ops a projection: another shape of the same size without them needs less. The pixel
// shuffle takes whole merge x merge squares.
TEST(Clip, InternVlShapes) {
  VisionEncoder big{VisionEncoderKind::internvl, 45, 3200, 12800, 25, 14, 448, 2};
  VisionEncoder other = big;
  other.layers = 44;
  EXPECT_GE(clip_compute_buffer(big, 5120, true, 32), clip_compute_buffer(other, 5120, true, 32));
  VisionEncoder e{VisionEncoderKind::internvl, 24, 1024, 4096, 16, 14, 448, 2};
  EXPECT_NO_THROW(validate(e));
  EXPECT_LT(clip_compute_buffer(e, 3584, true, 32), clip_compute_buffer(e, 3584, false, 32));
  e.merge = 3;  // 32 patches a side are not whole 3 x 3 squares
  EXPECT_THROW(validate(e), Error);
  e.merge = 1;  // clip.cpp's default without projector.scale_factor
  EXPECT_NO_THROW(validate(e));
}

VisionEncoder qwen25vl() {
  VisionEncoder e{VisionEncoderKind::qwen25vl, 32, 1280, 3420, 16, 14, 1288, 2};
  e.window = 8;
  return e;
}

VisionEncoder qwen3vl() {
  VisionEncoder e{VisionEncoderKind::qwen3vl, 27, 1152, 4304, 16, 16, 1472, 2};
  e.positions = 48;
  e.deepstack = {8, 16, 24};
  return e;
}

TEST(Clip, RejectsQwenShapesTheBuilderCannotTake) {
  VisionEncoder e = qwen25vl();
  EXPECT_NO_THROW(validate(e));
  e.merge = 4;  // the graph merges 2 x 2 patches
  EXPECT_THROW(validate(e), Error);
  e.merge = 2;
  e.image = 14 * 91;  // 91 patches a side: not a whole number of 2 x 2 merges
  EXPECT_THROW(validate(e), Error);
  e.image = 1288;
  e.window = -1;
  EXPECT_THROW(validate(e), Error);
  e.window = 8;
  e.deepstack = {3};  // DeepStack mergers are Qwen3-VL's
  EXPECT_THROW(validate(e), Error);

  VisionEncoder q = qwen3vl();
  EXPECT_NO_THROW(validate(q));
  q.deepstack = {8, 27};  // block 27 of 27 does not exist
  EXPECT_THROW(validate(q), Error);
  q.deepstack = {16, 8};  // not ascending
  EXPECT_THROW(validate(q), Error);
  q.deepstack = {8, 16, 24};
  q.positions = 0;  // Qwen3-VL has a learned position grid
  EXPECT_THROW(validate(q), Error);
  q.positions = 48;
  q.window = 8;
  EXPECT_THROW(validate(q), Error);
}

// The warm-up's 92 x 92 patches make Qwen2.5-VL's attention scores and window mask large:
// without flash attention one layer's scores (8464^2 x 16 heads, F32) and the F32 mask are
// live together; with it, only the mask and its F16 copies are that large.
TEST(Clip, QwenWindowAttentionHoldsTheMask) {
  const VisionEncoder e = qwen25vl();
  const Bytes on = clip_compute_buffer(e, 3584, true, 32);
  const Bytes off = clip_compute_buffer(e, 3584, false, 32);
  const Bytes n = 8464;
  EXPECT_GE(off, n * n * 16 * 4 + n * n * 4);
  EXPECT_GE(on, n * n * 4 + n * n * 2);
  EXPECT_LT(on, off / 4);
  // Without windows (every block full attention) there is no mask to hold: at least its F16
  // copy less.
  VisionEncoder full = e;
  full.window = 0;
  EXPECT_GE(on - clip_compute_buffer(full, 3584, true, 32), n * n * 2);
}

// Qwen2-VL is Qwen2.5-VL's graph with LayerNorms, an ungated FFN and no window attention: the
// same warm-up (92 x 92 patches), so without flash attention one layer's scores (8464^2 x 16
// heads, F32) are live, and with it no mask is held (Qwen2.5-VL holds the F32 mask and an F16
// copy).
TEST(Clip, Qwen2VlHasNoWindowMask) {
  VisionEncoder e{VisionEncoderKind::qwen2vl, 32, 1280, 5120, 16, 14, 1288, 2};
  const Bytes on = clip_compute_buffer(e, 3584, true, 32);
  const Bytes off = clip_compute_buffer(e, 3584, false, 32);
  const Bytes n = 8464;
  EXPECT_GE(off, n * n * 16 * 4);
  EXPECT_LT(on, off / 8);
  EXPECT_GT(clip_compute_buffer(qwen25vl(), 3584, true, 32), on + n * n * 4);
  // A window pattern, if a file has one, is taken as clip.cpp takes it: the mask appears.
  VisionEncoder windowed = e;
  windowed.window = 8;
  EXPECT_GE(clip_compute_buffer(windowed, 3584, true, 32) - on, n * n * 2);
  e.deepstack = {3};  // DeepStack mergers are Qwen3-VL's
  EXPECT_THROW(validate(e), Error);
}

// Qwen3-VL keeps each DeepStack block's output until the mergers run at the end of the graph,
// and resizes its 48 x 48 position grid to the 92 x 92 patches: both cost memory.
TEST(Clip, QwenDeepStackAndPositionsCost) {
  const VisionEncoder e = qwen3vl();
  VisionEncoder none = e;
  none.deepstack.clear();
  EXPECT_GT(clip_compute_buffer(e, 4096, true, 32), clip_compute_buffer(none, 4096, true, 32));
  VisionEncoder grid = e;
  grid.positions = 92;  // a grid already the image's size is not resized
  EXPECT_GE(clip_compute_buffer(e, 4096, true, 32), clip_compute_buffer(grid, 4096, true, 32));
  // The GPU's 128-byte alignment never shrinks the buffer.
  EXPECT_GE(clip_compute_buffer(e, 4096, false, 128), clip_compute_buffer(e, 4096, false, 32));
}

}  // namespace
}  // namespace vramplan
