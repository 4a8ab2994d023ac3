// The compute buffer of a multimodal projector's encoder (llama.cpp tools/mtmd, "CLIP"):
// llama-server reserves it once, for a square warm-up image, next to the projector's weights
// (tools/mtmd/clip.cpp: warmup -> reserve_compute_meta -> ggml_backend_sched_reserve) and
// counts both in its fit (mtmd_get_memory_usage). vramplan rebuilds the encoder's graph and
// replays ggml's allocator on it (graph_alloc.hpp), as it does for the text model.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>

namespace vramplan {

// The encoders whose graph vramplan rebuilds, by clip.projector_type.
enum class VisionEncoderKind : std::uint8_t {
  gemma3,  // "gemma3": SigLIP ViT, 4x4 average pool, RMS norm, projection (models/siglip.cpp)
  mlp,     // "mlp": llava's CLIP ViT with class embedding and a 2-layer MLP (models/llava.cpp)
  // "qwen2.5vl_merger": Qwen2.5-VL's ViT, two patch convs, M-RoPE, RMS norms, SwiGLU FFN,
  // window attention but in every `window`-th block, a 2x2 patch merger (models/qwen2vl.cpp)
  qwen25vl,
  // "qwen3vl_merger": Qwen3-VL's ViT, two patch convs with bias, learned positions resized to
  // the image, M-RoPE, fused QKV, LayerNorms, GELU FFN, the 2x2 merger and DeepStack mergers
  // (models/qwen3vl.cpp)
  qwen3vl,
  pixtral,   // "pixtral": Pixtral's ViT with 2D RoPE and SwiGLU, for merge > 1 Mistral Small
             // 3.1's patch merger, then a 2-layer MLP and the [IMG_BREAK] rows (models/pixtral.cpp)
  minicpmv,  // "resampler": MiniCPM-V 2.5-4.0's SigLIP ViT with learned positions and the
             // resampler, one cross-attention of learned queries (models/minicpmv.cpp)
  // "llama4": Llama 4's ViT, a linear patch embedding, class embedding, learned positions and
  // a 2D RoPE, pre- and post-LN; then the pixel shuffle (merge x merge patches), the 2-layer
  // GELU MLP `adapter` wide and the projection (models/llama4.cpp)
  llama4,
  // "mlp_siglip": clip.projector_type "mlp" over a SigLIP tower, as moondream2's create_gguf.py
  // writes it: no class embedding or pre-LN, a patch bias and a post-LN, the blocks but the
  // last, the MLP `adapter` wide (models/llava.cpp). Not a projector type of its own: an
  // "mlp" file of that layout reads as this kind.
  mlp_siglip,
  // "qwen2vl_merger": Qwen2-VL's ViT, models/qwen2vl.cpp's PROJECTOR_TYPE_QWEN2VL path: as
  // qwen25vl but LayerNorms with bias, a GELU-quick FFN without gate, no window attention
  qwen2vl,
  // "idefics3": SmolVLM / Idefics3's SigLIP ViT (patch embedding F32, as the converter writes
  // it), then the connector's pixel shuffle (merge x merge patches, the grid padded to a
  // whole number of them) and the projection mm.model.fc (models/siglip.cpp)
  idefics3,
  // "internvl": InternVL 2.5 / 3's InternViT (class embedding last, learned positions, layer
  // scales; the 6B ViT, 45 blocks of 3200, with RMS norms, no Q/K/V biases and Q/K norms over
  // the full width), the class row dropped, the pixel shuffle and the LayerNorm + 2-layer GELU
  // MLP mlp1 (models/internvl.cpp)
  internvl,
};

[[nodiscard]] std::string_view to_string(VisionEncoderKind kind);
// nullopt-free parse: returns false for a name that is not one of the kinds.
[[nodiscard]] bool parse_vision_encoder_kind(std::string_view name, VisionEncoderKind& out);

// The Qwen-VL kinds: two patch convolutions, M-RoPE and the 2 x 2 merger (models/qwen2vl.cpp,
// models/qwen3vl.cpp).
[[nodiscard]] constexpr bool is_qwen_vl(VisionEncoderKind kind) {
  return kind == VisionEncoderKind::qwen2vl || kind == VisionEncoderKind::qwen25vl ||
         kind == VisionEncoderKind::qwen3vl;
}

// The shape of a vision encoder as clip.cpp reads it from an mmproj file (clip.vision.*).
struct VisionEncoder {
  VisionEncoderKind kind = VisionEncoderKind::gemma3;
  std::int32_t layers = 0;  // blocks the file holds (clip.vision.block_count)
  std::int32_t width = 0;   // embedding_length
  std::int32_t ffn = 0;     // feed_forward_length
  std::int32_t heads = 0;   // attention.head_count
  std::int32_t patch = 0;   // patch_size, pixels
  // The warm-up image's side in pixels: clip.vision.image_size for gemma3, mlp, minicpmv,
  // llama4, mlp_siglip, idefics3 and internvl (idefics3's image need not be a whole number of
  // patches: SmolVLM2's 384 px of 14); clip.cpp's warm-up token count otherwise
  // (set_warmup_n_tokens): for the Qwen-VL kinds 46 x 46 merged tokens, 46 * patch * merge; for
  // pixtral 16 x 16 output tokens, 16 * patch * merge.
  std::int32_t image = 0;
  // clip.cpp's hparams.n_merge. gemma3: the average pool's kernel
  // (clip.vision.projector.scale_factor); Qwen-VL: the merger's side (2); pixtral: the patch
  // merger's side (clip.vision.spatial_merge_size; 1 for none, as in Pixtral 12B); llama4: the
  // pixel shuffle's side (clip.vision.projector.scale_factor, 1 / pixel_shuffle_ratio = 2);
  // idefics3, internvl: the pixel shuffle's side (clip.vision.projector.scale_factor; for
  // internvl 1 without it).
  std::int32_t merge = 4;
  // qwen25vl: every window-th block attends to the whole image, the others through the window
  // mask (clip.vision.n_wa_pattern); 0 for the other kinds (qwen2vl included).
  std::int32_t window = 0;
  // qwen3vl: the side of the learned position grid (sqrt of v.position_embd's rows), resized
  // to the image when it differs; 0 for the other kinds.
  std::int32_t positions = 0;
  // qwen3vl: the blocks with a DeepStack merger (v.deepstack.IL.*), ascending.
  std::vector<std::int32_t> deepstack;
  // minicpmv: the resampler's learned queries, its output tokens (clip.minicpmv_query_num)
  std::int32_t queries = 64;
  // llama4: the pixel-shuffle MLP's width (projector_input_dim, mm.model.mlp.1's rows);
  // mlp_siglip: the MLP's hidden width (mm.0's rows); 0 for the other kinds.
  std::int32_t adapter = 0;

  bool operator==(const VisionEncoder&) const = default;
};

// InternVL's 6B ViT, which clip.cpp tells by its shape (45 blocks of 3200) and gives RMS norms,
// Q/K norms over the full width and no Q/K/V biases; the 300M ViT has LayerNorms and biases.
[[nodiscard]] constexpr bool is_internvit_6b(const VisionEncoder& e) {
  return e.kind == VisionEncoderKind::internvl && e.width == 3200 && e.layers == 45;
}

// Throws vramplan::Error when the shape is not one the builder can take (a field out of
// range, an image not a whole number of patches, or of merged patches for Qwen-VL).
void validate(const VisionEncoder& encoder);

// Whether CUDA's flash attention takes the encoder's attention heads
// (ggml_cuda_get_best_fattn_kernel, ggml-cuda fattn.cu: K = V head sizes 40, 64, 72, 80, 96,
// 112, 128, 256). Where it does not (Llama 4's 88), clip's warm-up under flash attention
// "auto", llama-server's default, falls back to none (clip.cpp warmup).
[[nodiscard]] bool cuda_flash_attn_takes(const VisionEncoder& encoder);

// The encoder's compute buffer for one warm-up image, with flash attention on or off, on a
// backend whose buffers have the given alignment (the CPU: 32 bytes, CUDA: 128). out_width is
// the projection's output width (the text model's embedding width).
[[nodiscard]] Bytes clip_compute_buffer(const VisionEncoder& encoder, std::int64_t out_width,
                                        bool flash_attn, Bytes alignment);

}  // namespace vramplan
